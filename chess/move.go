package chess

import "fmt"

// Move is one move. Castling is the king's two-square move.
type Move struct {
	From, To Square
	Promo    PieceType // NoPieceType unless a promotion
}

// UCI writes the move in UCI long algebraic form ("e2e4", "e7e8q").
func (m Move) UCI() string {
	s := m.From.String() + m.To.String()
	if m.Promo != NoPieceType {
		s += string(pieceLetters[m.Promo] + 32)
	}
	return s
}

func (m Move) String() string { return m.UCI() }

// LegalMoves lists the legal moves of the side to move.
func (p Position) LegalMoves() []Move {
	pseudo := p.pseudoMoves(make([]Move, 0, 48))
	out := pseudo[:0]
	for _, m := range pseudo {
		q := p.play(m)
		if !q.attacked(q.kingSquare(p.Turn), p.Turn.Other()) {
			out = append(out, m)
		}
	}
	return out
}

// IsLegal reports whether m is legal here.
func (p Position) IsLegal(m Move) bool {
	for _, l := range p.LegalMoves() {
		if l == m {
			return true
		}
	}
	return false
}

// Play returns the position after m. It does not check legality; use
// IsLegal or take moves from LegalMoves / ParseSAN.
func (p Position) Play(m Move) Position { return p.play(m) }

// PlayChecked returns the position after m, or an error when m is illegal.
func (p Position) PlayChecked(m Move) (Position, error) {
	if !p.IsLegal(m) {
		return p, fmt.Errorf("illegal move %s in %s", m.UCI(), p.FEN())
	}
	return p.play(m), nil
}

func (p Position) play(m Move) Position {
	q := p
	pc := q.Board[m.From]
	captured := q.Board[m.To]
	q.Board[m.From] = NoPiece
	q.Board[m.To] = pc
	q.EP = NoSquare
	q.Halfmove++
	if pc.Type() == Pawn {
		q.Halfmove = 0
		if m.To == p.EP && captured == NoPiece && m.From.File() != m.To.File() {
			// en passant: the captured pawn sits beside the mover
			q.Board[Square(m.From.Rank()*8+m.To.File())] = NoPiece
		}
		if d := int(m.To) - int(m.From); d == 16 || d == -16 {
			q.EP = Square((int(m.To) + int(m.From)) / 2)
		}
		if m.Promo != NoPieceType {
			q.Board[m.To] = MakePiece(p.Turn, m.Promo)
		}
	}
	if captured != NoPiece {
		q.Halfmove = 0
	}
	if pc.Type() == King {
		if d := int(m.To) - int(m.From); d == 2 || d == -2 {
			rf, rt := m.From+3, m.From+1 // king side
			if d < 0 {
				rf, rt = m.From-4, m.From-1
			}
			q.Board[rt] = q.Board[rf]
			q.Board[rf] = NoPiece
		}
	}
	q.Castle &^= castleMask[m.From] | castleMask[m.To]
	if p.Turn == Black {
		q.Fullmove++
	}
	q.Turn = p.Turn.Other()
	return q
}

// castleMask[s] is the rights lost when a piece moves from or to s.
var castleMask = func() (m [64]uint8) {
	m[4] = CastleWK | CastleWQ
	m[7] = CastleWK
	m[0] = CastleWQ
	m[60] = CastleBK | CastleBQ
	m[63] = CastleBK
	m[56] = CastleBQ
	return
}()

func (p *Position) pseudoMoves(out []Move) []Move {
	us := p.Turn
	for i := range 64 {
		pc := p.Board[i]
		if pc == NoPiece || pc.Color() != us {
			continue
		}
		s := Square(i)
		switch pc.Type() {
		case Pawn:
			out = p.pawnMoves(s, out)
		case Knight:
			out = p.stepMoves(s, knightDeltas[:], out)
		case King:
			out = p.stepMoves(s, kingDeltas[:], out)
			out = p.castleMoves(s, out)
		case Bishop:
			out = p.slideMoves(s, bishopDirs[:], out)
		case Rook:
			out = p.slideMoves(s, rookDirs[:], out)
		case Queen:
			out = p.slideMoves(s, bishopDirs[:], out)
			out = p.slideMoves(s, rookDirs[:], out)
		}
	}
	return out
}

func (p *Position) stepMoves(s Square, deltas [][2]int, out []Move) []Move {
	for _, d := range deltas {
		if t, ok := offset(s, d[0], d[1]); ok {
			if pc := p.Board[t]; pc == NoPiece || pc.Color() != p.Turn {
				out = append(out, Move{From: s, To: t})
			}
		}
	}
	return out
}

func (p *Position) slideMoves(s Square, dirs [][2]int, out []Move) []Move {
	for _, d := range dirs {
		t := s
		for {
			var ok bool
			if t, ok = offset(t, d[0], d[1]); !ok {
				break
			}
			pc := p.Board[t]
			if pc == NoPiece {
				out = append(out, Move{From: s, To: t})
				continue
			}
			if pc.Color() != p.Turn {
				out = append(out, Move{From: s, To: t})
			}
			break
		}
	}
	return out
}

var promoTypes = [4]PieceType{Queen, Rook, Bishop, Knight}

func (p *Position) pawnMoves(s Square, out []Move) []Move {
	dir, start, last := 1, 1, 7
	if p.Turn == Black {
		dir, start, last = -1, 6, 0
	}
	add := func(t Square) {
		if t.Rank() == last {
			for _, pt := range promoTypes {
				out = append(out, Move{From: s, To: t, Promo: pt})
			}
			return
		}
		out = append(out, Move{From: s, To: t})
	}
	if t, ok := offset(s, 0, dir); ok && p.Board[t] == NoPiece {
		add(t)
		if s.Rank() == start {
			if t2, ok := offset(t, 0, dir); ok && p.Board[t2] == NoPiece {
				out = append(out, Move{From: s, To: t2})
			}
		}
	}
	for _, df := range [2]int{-1, 1} {
		t, ok := offset(s, df, dir)
		if !ok {
			continue
		}
		if pc := p.Board[t]; pc != NoPiece && pc.Color() != p.Turn {
			add(t)
		} else if t == p.EP && pc == NoPiece {
			// The FEN's target square must sit behind an enemy pawn.
			behind := Square(s.Rank()*8 + t.File())
			if p.Board[behind] == MakePiece(p.Turn.Other(), Pawn) {
				out = append(out, Move{From: s, To: t})
			}
		}
	}
	return out
}

func (p *Position) castleMoves(s Square, out []Move) []Move {
	them := p.Turn.Other()
	home, kside, qside := Square(4), CastleWK, CastleWQ
	if p.Turn == Black {
		home, kside, qside = 60, CastleBK, CastleBQ
	}
	if s != home || p.Castle&(kside|qside) == 0 || p.attacked(s, them) {
		return out
	}
	if p.Castle&kside != 0 && p.Board[s+1] == NoPiece && p.Board[s+2] == NoPiece &&
		p.Board[s+3] == MakePiece(p.Turn, Rook) &&
		!p.attacked(s+1, them) && !p.attacked(s+2, them) {
		out = append(out, Move{From: s, To: s + 2})
	}
	if p.Castle&qside != 0 && p.Board[s-1] == NoPiece && p.Board[s-2] == NoPiece && p.Board[s-3] == NoPiece &&
		p.Board[s-4] == MakePiece(p.Turn, Rook) &&
		!p.attacked(s-1, them) && !p.attacked(s-2, them) {
		out = append(out, Move{From: s, To: s - 2})
	}
	return out
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

// Status reports mate, stalemate and the automatic draws.
func (p Position) Status() Status {
	if len(p.LegalMoves()) == 0 {
		if p.InCheck() {
			return Checkmate
		}
		return Stalemate
	}
	if p.Halfmove >= 100 {
		return FiftyMoves
	}
	minor, other := 0, 0
	for _, pc := range p.Board {
		switch pc.Type() {
		case Knight, Bishop:
			minor++
		case Pawn, Rook, Queen:
			other++
		}
	}
	if other == 0 && minor <= 1 {
		return InsufficientMaterial
	}
	return Ongoing
}

// Perft counts leaf nodes of the legal move tree to depth.
func Perft(p Position, depth int) int64 {
	if depth == 0 {
		return 1
	}
	moves := p.LegalMoves()
	if depth == 1 {
		return int64(len(moves))
	}
	var n int64
	for _, m := range moves {
		n += Perft(p.play(m), depth-1)
	}
	return n
}
