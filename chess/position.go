package chess

import (
	"fmt"
	"strconv"
	"strings"
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

const pieceLetters = " PNBRQK"

// Square is a board square, a1=0 … h8=63; NoSquare is -1.
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

// Position is a chess position.
type Position struct {
	Board    [64]Piece
	Turn     Color
	Castle   uint8  // CastleWK | CastleWQ | CastleBK | CastleBQ
	EP       Square // en-passant target square, or NoSquare
	Halfmove int    // plies since the last capture or pawn move
	Fullmove int    // starts at 1, incremented after Black moves
}

// StartFEN is the initial position.
const StartFEN = "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1"

// ParseFEN reads a FEN string. The move counters may be omitted.
func ParseFEN(fen string) (Position, error) {
	var p Position
	f := strings.Fields(fen)
	if len(f) < 4 {
		return p, fmt.Errorf("fen %q: want at least 4 fields", fen)
	}
	ranks := strings.Split(f[0], "/")
	if len(ranks) != 8 {
		return p, fmt.Errorf("fen %q: want 8 ranks, got %d", fen, len(ranks))
	}
	kings := [2]int{}
	for i, row := range ranks {
		r := 7 - i
		file := 0
		for _, ch := range row {
			switch {
			case ch >= '1' && ch <= '8':
				file += int(ch - '0')
			default:
				up := ch
				if ch >= 'a' && ch <= 'z' {
					up = ch - 32
				}
				idx := strings.IndexRune(pieceLetters, up)
				if idx <= 0 {
					return p, fmt.Errorf("fen %q: bad piece %q", fen, ch)
				}
				if file > 7 {
					return p, fmt.Errorf("fen %q: rank %d is too long", fen, r+1)
				}
				c := White
				if ch >= 'a' && ch <= 'z' {
					c = Black
				}
				if idx == int(King) {
					kings[c]++
				}
				if idx == int(Pawn) && (r == 0 || r == 7) {
					return p, fmt.Errorf("fen %q: pawn on rank %d", fen, r+1)
				}
				p.Board[r*8+file] = MakePiece(c, PieceType(idx))
				file++
			}
		}
		if file != 8 {
			return p, fmt.Errorf("fen %q: rank %d has %d files", fen, r+1, file)
		}
	}
	if kings != [2]int{1, 1} {
		return p, fmt.Errorf("fen %q: want one king per side", fen)
	}
	switch f[1] {
	case "w":
		p.Turn = White
	case "b":
		p.Turn = Black
	default:
		return p, fmt.Errorf("fen %q: side to move %q", fen, f[1])
	}
	if f[2] != "-" {
		for _, ch := range f[2] {
			switch ch {
			case 'K':
				p.Castle |= CastleWK
			case 'Q':
				p.Castle |= CastleWQ
			case 'k':
				p.Castle |= CastleBK
			case 'q':
				p.Castle |= CastleBQ
			default:
				return p, fmt.Errorf("fen %q: castling %q", fen, f[2])
			}
		}
	}
	p.Castle &= p.castleRightsPossible()
	p.EP = NoSquare
	if f[3] != "-" {
		sq, err := ParseSquare(f[3])
		if err != nil {
			return p, fmt.Errorf("fen %q: en passant: %w", fen, err)
		}
		p.EP = sq
	}
	p.Fullmove = 1
	if len(f) > 4 {
		n, err := strconv.Atoi(f[4])
		if err != nil || n < 0 {
			return p, fmt.Errorf("fen %q: halfmove clock %q", fen, f[4])
		}
		p.Halfmove = n
	}
	if len(f) > 5 {
		n, err := strconv.Atoi(f[5])
		if err != nil || n < 1 {
			return p, fmt.Errorf("fen %q: fullmove number %q", fen, f[5])
		}
		p.Fullmove = n
	}
	if p.attacked(p.kingSquare(p.Turn.Other()), p.Turn) {
		return p, fmt.Errorf("fen %q: the side not to move is in check", fen)
	}
	return p, nil
}

// castleRightsPossible drops rights whose king or rook is not at home.
func (p *Position) castleRightsPossible() uint8 {
	var ok uint8
	wk, bk := MakePiece(White, King), MakePiece(Black, King)
	wr, br := MakePiece(White, Rook), MakePiece(Black, Rook)
	if p.Board[4] == wk {
		if p.Board[7] == wr {
			ok |= CastleWK
		}
		if p.Board[0] == wr {
			ok |= CastleWQ
		}
	}
	if p.Board[60] == bk {
		if p.Board[63] == br {
			ok |= CastleBK
		}
		if p.Board[56] == br {
			ok |= CastleBQ
		}
	}
	return ok
}

// FEN writes the position.
func (p Position) FEN() string {
	var b strings.Builder
	for r := 7; r >= 0; r-- {
		empty := 0
		for f := 0; f < 8; f++ {
			pc := p.Board[r*8+f]
			if pc == NoPiece {
				empty++
				continue
			}
			if empty > 0 {
				b.WriteByte(byte('0' + empty))
				empty = 0
			}
			ch := pieceLetters[pc.Type()]
			if pc.Color() == Black {
				ch += 32
			}
			b.WriteByte(ch)
		}
		if empty > 0 {
			b.WriteByte(byte('0' + empty))
		}
		if r > 0 {
			b.WriteByte('/')
		}
	}
	if p.Turn == White {
		b.WriteString(" w ")
	} else {
		b.WriteString(" b ")
	}
	cs := ""
	for i, ch := range "KQkq" {
		if p.Castle&(1<<i) != 0 {
			cs += string(ch)
		}
	}
	if cs == "" {
		cs = "-"
	}
	fmt.Fprintf(&b, "%s %s %d %d", cs, p.EP, p.Halfmove, p.Fullmove)
	return b.String()
}

func (p *Position) kingSquare(c Color) Square {
	k := MakePiece(c, King)
	for i, pc := range p.Board {
		if pc == k {
			return Square(i)
		}
	}
	return NoSquare
}

// InCheck reports whether the side to move is in check.
func (p Position) InCheck() bool { return p.attacked(p.kingSquare(p.Turn), p.Turn.Other()) }

var (
	knightDeltas = [8][2]int{{1, 2}, {2, 1}, {2, -1}, {1, -2}, {-1, -2}, {-2, -1}, {-2, 1}, {-1, 2}}
	kingDeltas   = [8][2]int{{1, 0}, {1, 1}, {0, 1}, {-1, 1}, {-1, 0}, {-1, -1}, {0, -1}, {1, -1}}
	rookDirs     = [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}}
	bishopDirs   = [4][2]int{{1, 1}, {1, -1}, {-1, 1}, {-1, -1}}
)

func offset(s Square, df, dr int) (Square, bool) {
	f, r := s.File()+df, s.Rank()+dr
	if f < 0 || f > 7 || r < 0 || r > 7 {
		return NoSquare, false
	}
	return Square(r*8 + f), true
}

// attacked reports whether square s is attacked by side by.
func (p *Position) attacked(s Square, by Color) bool {
	if s < 0 {
		return false
	}
	// Pawns: a pawn of `by` attacks s from one rank behind (from by's view).
	dr := -1
	if by == Black {
		dr = 1
	}
	for _, df := range [2]int{-1, 1} {
		if t, ok := offset(s, df, dr); ok && p.Board[t] == MakePiece(by, Pawn) {
			return true
		}
	}
	for _, d := range knightDeltas {
		if t, ok := offset(s, d[0], d[1]); ok && p.Board[t] == MakePiece(by, Knight) {
			return true
		}
	}
	for _, d := range kingDeltas {
		if t, ok := offset(s, d[0], d[1]); ok && p.Board[t] == MakePiece(by, King) {
			return true
		}
	}
	if p.slider(s, by, rookDirs, Rook) || p.slider(s, by, bishopDirs, Bishop) {
		return true
	}
	return false
}

func (p *Position) slider(s Square, by Color, dirs [4][2]int, kind PieceType) bool {
	for _, d := range dirs {
		t := s
		for {
			var ok bool
			if t, ok = offset(t, d[0], d[1]); !ok {
				break
			}
			pc := p.Board[t]
			if pc == NoPiece {
				continue
			}
			if pc.Color() == by && (pc.Type() == kind || pc.Type() == Queen) {
				return true
			}
			break
		}
	}
	return false
}
