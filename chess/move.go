package chess

import (
	"fmt"
	"strings"

	lib "github.com/corentings/chess/v2"
)

// Move is one move. Castling is the king's two-square move.
type Move struct {
	From, To Square
	Promo    PieceType // NoPieceType unless a promotion
}

// UCI writes the move in UCI long algebraic form ("e2e4", "e7e8q").
func (m Move) UCI() string {
	s := m.From.String() + m.To.String()
	if m.Promo != NoPieceType {
		s += strings.ToLower(pieceLetters[m.Promo : m.Promo+1])
	}
	return s
}

func (m Move) String() string { return m.UCI() }

func fromLibMove(m *lib.Move) Move {
	return Move{From: Square(m.S1()), To: Square(m.S2()), Promo: fromLibType[m.Promo()]}
}

// libMove finds m among the library's legal moves, which carry the tags
// (capture, en passant, castle, check) its Update and SAN writer need.
func (p Position) libMove(m Move) (*lib.Move, bool) {
	for i := range p.moves {
		if fromLibMove(&p.moves[i]) == m {
			return &p.moves[i], true
		}
	}
	return nil, false
}

// LegalMoves lists the legal moves of the side to move, in the library's
// generation order.
func (p Position) LegalMoves() []Move {
	out := make([]Move, len(p.moves))
	for i := range p.moves {
		out[i] = fromLibMove(&p.moves[i])
	}
	return out
}

// IsLegal reports whether m is legal here.
func (p Position) IsLegal(m Move) bool {
	_, ok := p.libMove(m)
	return ok
}

// Play returns the position after m, or an error when m is not legal.
func (p Position) Play(m Move) (Position, error) {
	lm, ok := p.libMove(m)
	if !ok {
		return p, fmt.Errorf("illegal move %s in %s", m.UCI(), p.FEN())
	}
	return newPosition(p.pos.Update(lm)), nil
}

// GivesCheck reports whether m, legal here, checks the opponent (the
// library tags each legal move with it, so this costs a lookup).
func (p Position) GivesCheck(m Move) bool {
	lm, ok := p.libMove(m)
	return ok && lm.HasTag(lib.Check)
}

// InCheck reports whether the side to move is in check (the library keeps
// this to itself, so the search board answers).
func (p Position) InCheck() bool {
	b := p.board()
	return b.inCheck()
}

// Status is the game state of a position.
type Status int

const (
	Ongoing Status = iota
	Checkmate
	Stalemate
	FiftyMoves
	InsufficientMaterial
)

// Status reports mate and stalemate (the library's), the fifty-move rule
// (a halfmove clock of 100), and the library's insufficient-material draw:
// no pawn, rook or queen, and at most one minor piece, or only bishops
// all on squares of one colour.
func (p Position) Status() Status {
	switch p.pos.Status() {
	case lib.Checkmate:
		return Checkmate
	case lib.Stalemate:
		return Stalemate
	}
	if p.pos.HalfMoveClock() >= 100 {
		return FiftyMoves
	}
	if p.insufficientMaterial() {
		return InsufficientMaterial
	}
	return Ongoing
}

// insufficientMaterial asks the library's game rules, which only a Game
// evaluates; positions with a pawn, rook or queen skip that FEN round trip.
func (p Position) insufficientMaterial() bool {
	if strings.ContainsAny(p.pos.Board().String(), "PpRrQq") {
		return false
	}
	opt, err := lib.FEN(p.FEN())
	if err != nil {
		return false // the library wrote this FEN; it reads it back
	}
	return lib.NewGame(opt).Method() == lib.InsufficientMaterial
}

// Perft counts leaf nodes of the legal move tree to depth, with the
// library's move generator.
func Perft(p Position, depth int) int64 {
	if depth == 0 {
		return 1
	}
	if depth == 1 {
		return int64(len(p.moves))
	}
	var n int64
	for i := range p.moves {
		n += Perft(newPosition(p.pos.Update(&p.moves[i])), depth-1)
	}
	return n
}
