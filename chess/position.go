package chess

import (
	"fmt"
	"strconv"
	"strings"

	lib "github.com/corentings/chess/v2"
)

// Color is a side.
type Color uint8

const (
	White Color = 0
	Black Color = 1
)

// Other returns the opponent.
func (c Color) Other() Color { return c ^ 1 }

func (c Color) String() string {
	if c == White {
		return "white"
	}
	return "black"
}

// PieceType is a kind of piece, without colour.
type PieceType uint8

const (
	NoPieceType PieceType = iota
	Pawn
	Knight
	Bishop
	Rook
	Queen
	King
)

// Piece is a coloured piece; 0 is an empty square.
type Piece uint8

// NoPiece marks an empty square.
const NoPiece Piece = 0

// MakePiece combines a colour and a type.
func MakePiece(c Color, t PieceType) Piece { return Piece(t) | Piece(c)<<3 }

// Type returns the piece's kind.
func (p Piece) Type() PieceType { return PieceType(p & 7) }

// Color returns the piece's side (meaningless for NoPiece).
func (p Piece) Color() Color { return Color(p >> 3) }

// pieceLetters[t] is the SAN letter of piece type t.
const pieceLetters = " PNBRQK"

// Square is a board square, a1=0 … h8=63 (the library's numbering too);
// NoSquare is -1.
type Square int8

// NoSquare is the absent square (no en-passant target).
const NoSquare Square = -1

// File is 0 (a) … 7 (h).
func (s Square) File() int { return int(s) & 7 }

// Rank is 0 (rank 1) … 7 (rank 8).
func (s Square) Rank() int { return int(s) >> 3 }

func (s Square) String() string {
	if s < 0 || s > 63 {
		return "-"
	}
	return string([]byte{byte('a' + s.File()), byte('1' + s.Rank())})
}

// ParseSquare reads "e4".
func ParseSquare(s string) (Square, error) {
	if len(s) != 2 || s[0] < 'a' || s[0] > 'h' || s[1] < '1' || s[1] > '8' {
		return NoSquare, fmt.Errorf("bad square %q", s)
	}
	return Square(int(s[1]-'1')*8 + int(s[0]-'a')), nil
}

// Castling rights.
const (
	CastleWK uint8 = 1 << iota
	CastleWQ
	CastleBK
	CastleBQ
)

// StartFEN is the initial position.
const StartFEN = "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1"

// Setup spells a position out square by square, for building positions
// (NewPosition) and reading them (Position.Setup).
type Setup struct {
	Board    [64]Piece
	Turn     Color
	Castle   uint8  // CastleWK | CastleWQ | CastleBK | CastleBQ
	EP       Square // en-passant target square, or NoSquare
	Halfmove int    // plies since the last capture or pawn move
	Fullmove int    // starts at 1, incremented after Black moves
}

// FEN writes the setup; the piece placement is the library's.
func (s Setup) FEN() string {
	squares := make(map[lib.Square]lib.Piece, 32)
	for i, pc := range s.Board {
		if pc != NoPiece {
			squares[lib.Square(i)] = toLibPiece[pc]
		}
	}
	turn := "w"
	if s.Turn == Black {
		turn = "b"
	}
	return fmt.Sprintf("%s %s %s %s %d %d", lib.NewBoard(squares).String(), turn, castleField(s.Castle), s.EP, s.Halfmove, max(s.Fullmove, 1))
}

func castleField(rights uint8) string {
	var b strings.Builder
	for i, ch := range "KQkq" {
		if rights&(1<<i) != 0 {
			b.WriteRune(ch)
		}
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

// Position is a legal chess position backed by a
// github.com/corentings/chess/v2 position. It is a value: Play returns a
// new Position, and a Position may be shared across goroutines (the
// library position is never written after newPosition fills its move
// cache). The zero Position is not usable; start from ParseFEN or
// NewPosition.
type Position struct {
	pos   *lib.Position
	moves []lib.Move // legal moves, tagged by the library (capture, check, castle)
}

// newPosition wraps lp and generates its legal moves once; the library
// caches them inside lp, so later reads of lp never write to it.
func newPosition(lp *lib.Position) Position {
	return Position{pos: lp, moves: lp.ValidMoves()}
}

// NewPosition builds a position from a setup, checked as ParseFEN checks.
func NewPosition(s Setup) (Position, error) { return ParseFEN(s.FEN()) }

// ParseFEN reads a FEN string. The move counters may be omitted. The
// library parses the placement and plays the position; this function adds
// the checks the library leaves out (one king per side, no pawn on the
// first or last rank, the side not to move not in check), drops castling
// rights whose king or rook is not at home and an en-passant square no
// pawn can be taken on (the library would castle or take en passant from
// them), and accepts any spacing and the counters missing.
func ParseFEN(fen string) (Position, error) {
	f := strings.Fields(fen)
	if len(f) < 4 {
		return Position{}, fmt.Errorf("fen %q: want at least 4 fields", fen)
	}
	var placement lib.Board
	if err := placement.UnmarshalText([]byte(f[0])); err != nil {
		return Position{}, fmt.Errorf("fen %q: %w", fen, err)
	}
	s := Setup{Board: mailbox(&placement), EP: NoSquare, Fullmove: 1}
	if err := s.checkPieces(); err != nil {
		return Position{}, fmt.Errorf("fen %q: %w", fen, err)
	}
	switch f[1] {
	case "w":
		s.Turn = White
	case "b":
		s.Turn = Black
	default:
		return Position{}, fmt.Errorf("fen %q: side to move %q", fen, f[1])
	}
	if f[2] != "-" {
		for _, ch := range f[2] {
			i := strings.IndexRune("KQkq", ch)
			if i < 0 {
				return Position{}, fmt.Errorf("fen %q: castling %q", fen, f[2])
			}
			s.Castle |= 1 << i
		}
	}
	s.Castle &= s.castleRightsPossible()
	if f[3] != "-" {
		sq, err := ParseSquare(f[3])
		if err != nil {
			return Position{}, fmt.Errorf("fen %q: en passant: %w", fen, err)
		}
		if s.canTakeEnPassant(sq) {
			s.EP = sq
		}
	}
	if len(f) > 4 {
		n, err := strconv.Atoi(f[4])
		if err != nil || n < 0 {
			return Position{}, fmt.Errorf("fen %q: halfmove clock %q", fen, f[4])
		}
		s.Halfmove = n
	}
	if len(f) > 5 {
		n, err := strconv.Atoi(f[5])
		if err != nil || n < 1 {
			return Position{}, fmt.Errorf("fen %q: fullmove number %q", fen, f[5])
		}
		s.Fullmove = n
	}
	b := boardOf(s)
	if b.attacked(b.kingSquare(b.turn.Other()), b.turn) {
		return Position{}, fmt.Errorf("fen %q: the side not to move is in check", fen)
	}
	lp := new(lib.Position) // fresh: UnmarshalText keeps a stale move cache
	if err := lp.UnmarshalText([]byte(s.FEN())); err != nil {
		return Position{}, fmt.Errorf("fen %q: %w", fen, err)
	}
	return newPosition(lp), nil
}

// checkPieces finds one king per side and no pawn on the back ranks.
func (s *Setup) checkPieces() error {
	var kings [2]int
	for i, pc := range s.Board {
		switch pc.Type() {
		case King:
			kings[pc.Color()]++
		case Pawn:
			if r := Square(i).Rank(); r == 0 || r == 7 {
				return fmt.Errorf("pawn on rank %d", r+1)
			}
		}
	}
	if kings != [2]int{1, 1} {
		return fmt.Errorf("want one king per side")
	}
	return nil
}

// castleRightsPossible is the set of rights whose king and rook are home.
func (s *Setup) castleRightsPossible() uint8 {
	var ok uint8
	wk, bk := MakePiece(White, King), MakePiece(Black, King)
	wr, br := MakePiece(White, Rook), MakePiece(Black, Rook)
	if s.Board[4] == wk {
		if s.Board[7] == wr {
			ok |= CastleWK
		}
		if s.Board[0] == wr {
			ok |= CastleWQ
		}
	}
	if s.Board[60] == bk {
		if s.Board[63] == br {
			ok |= CastleBK
		}
		if s.Board[56] == br {
			ok |= CastleBQ
		}
	}
	return ok
}

// canTakeEnPassant reports whether sq is an empty square on the mover's
// sixth rank with an enemy pawn just behind it.
func (s *Setup) canTakeEnPassant(sq Square) bool {
	rank, behind := 5, sq-8
	if s.Turn == Black {
		rank, behind = 2, sq+8
	}
	return sq.Rank() == rank && s.Board[sq] == NoPiece && s.Board[behind] == MakePiece(s.Turn.Other(), Pawn)
}

// FEN writes the position (the library's writer).
func (p Position) FEN() string { return p.pos.String() }

func (p Position) String() string { return p.FEN() }

// Turn is the side to move.
func (p Position) Turn() Color { return fromLibColor(p.pos.Turn()) }

// PieceAt returns the piece on sq.
func (p Position) PieceAt(sq Square) Piece { return fromLibPiece[p.pos.Board().Piece(lib.Square(sq))] }

// Setup spells the position out.
func (p Position) Setup() Setup {
	s := Setup{
		Board:    mailbox(p.pos.Board()),
		Turn:     p.Turn(),
		EP:       Square(p.pos.EnPassantSquare()),
		Halfmove: p.pos.HalfMoveClock(),
	}
	// The library gives the fullmove number only as a ply count.
	if s.Turn == White {
		s.Fullmove = (p.pos.Ply() + 1) / 2
	} else {
		s.Fullmove = p.pos.Ply() / 2
	}
	for i, ch := range "KQkq" {
		if strings.ContainsRune(string(p.pos.CastleRights()), ch) {
			s.Castle |= 1 << i
		}
	}
	return s
}

// mailbox reads a library board into a square array.
func mailbox(b *lib.Board) [64]Piece {
	var out [64]Piece
	for sq := range 64 {
		out[sq] = fromLibPiece[b.Piece(lib.Square(sq))]
	}
	return out
}

// Piece encodings: ours (type | colour<<3) and the library's
// (WhiteKing=1 … WhitePawn=6, BlackKing=7 … BlackPawn=12).
var (
	toLibPiece = func() (t [16]lib.Piece) {
		for c := White; c <= Black; c++ {
			for pt := Pawn; pt <= King; pt++ {
				t[MakePiece(c, pt)] = lib.NewPiece(toLibType[pt], toLibColor(c))
			}
		}
		return
	}()
	fromLibPiece = func() (t [13]Piece) {
		for c := White; c <= Black; c++ {
			for pt := Pawn; pt <= King; pt++ {
				t[lib.NewPiece(toLibType[pt], toLibColor(c))] = MakePiece(c, pt)
			}
		}
		return
	}()
	toLibType   = [7]lib.PieceType{lib.NoPieceType, lib.Pawn, lib.Knight, lib.Bishop, lib.Rook, lib.Queen, lib.King}
	fromLibType = [7]PieceType{lib.NoPieceType: NoPieceType, lib.King: King, lib.Queen: Queen, lib.Rook: Rook,
		lib.Bishop: Bishop, lib.Knight: Knight, lib.Pawn: Pawn}
)

func toLibColor(c Color) lib.Color {
	if c == Black {
		return lib.Black
	}
	return lib.White
}

func fromLibColor(c lib.Color) Color {
	if c == lib.Black {
		return Black
	}
	return White
}
