package chess

import "math/rand/v2"

// board is the search's own position: a 64-square mailbox copied by value
// (copy-make moves) with a Zobrist key. The library's
// positions are heap-allocated, have no fast piece lookup and hash only
// through MD5 or their FEN text, which makes the same alpha-beta search
// several times slower (BenchmarkSearch in search_test.go measures it), so
// the search keeps this board. Its move generator is checked against the
// library's by perft and by move-for-move comparison on random games
// (board_test.go); nothing outside the search and the attack test of
// ParseFEN uses it.
type board struct {
	sq       [64]Piece
	turn     Color
	castle   uint8
	ep       Square
	halfmove int
}

func boardOf(s Setup) board {
	return board{sq: s.Board, turn: s.Turn, castle: s.Castle, ep: s.EP, halfmove: s.Halfmove}
}

// board copies p into the search's representation.
func (p Position) board() board { return boardOf(p.Setup()) }

func (b *board) kingSquare(c Color) Square {
	k := MakePiece(c, King)
	for i, pc := range b.sq {
		if pc == k {
			return Square(i)
		}
	}
	return NoSquare
}

func (b *board) inCheck() bool { return b.attacked(b.kingSquare(b.turn), b.turn.Other()) }

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
func (b *board) attacked(s Square, by Color) bool {
	if s < 0 {
		return false
	}
	// Pawns: a pawn of `by` attacks s from one rank behind (from by's view).
	dr := -1
	if by == Black {
		dr = 1
	}
	for _, df := range [2]int{-1, 1} {
		if t, ok := offset(s, df, dr); ok && b.sq[t] == MakePiece(by, Pawn) {
			return true
		}
	}
	for _, d := range knightDeltas {
		if t, ok := offset(s, d[0], d[1]); ok && b.sq[t] == MakePiece(by, Knight) {
			return true
		}
	}
	for _, d := range kingDeltas {
		if t, ok := offset(s, d[0], d[1]); ok && b.sq[t] == MakePiece(by, King) {
			return true
		}
	}
	return b.slider(s, by, rookDirs, Rook) || b.slider(s, by, bishopDirs, Bishop)
}

func (b *board) slider(s Square, by Color, dirs [4][2]int, kind PieceType) bool {
	for _, d := range dirs {
		t := s
		for {
			var ok bool
			if t, ok = offset(t, d[0], d[1]); !ok {
				break
			}
			pc := b.sq[t]
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

// legalMoves lists the legal moves of the side to move.
func (b *board) legalMoves() []Move {
	pseudo := b.pseudoMoves(make([]Move, 0, 48))
	out := pseudo[:0]
	for _, m := range pseudo {
		q := b.play(m)
		if !q.attacked(q.kingSquare(b.turn), b.turn.Other()) {
			out = append(out, m)
		}
	}
	return out
}

// play returns the board after m, which must be legal here.
func (b *board) play(m Move) board {
	q := *b
	pc := q.sq[m.From]
	captured := q.sq[m.To]
	q.sq[m.From] = NoPiece
	q.sq[m.To] = pc
	q.ep = NoSquare
	q.halfmove++
	if pc.Type() == Pawn {
		q.halfmove = 0
		if m.To == b.ep && captured == NoPiece && m.From.File() != m.To.File() {
			// en passant: the captured pawn sits beside the mover
			q.sq[Square(m.From.Rank()*8+m.To.File())] = NoPiece
		}
		if d := int(m.To) - int(m.From); d == 16 || d == -16 {
			q.ep = Square((int(m.To) + int(m.From)) / 2)
		}
		if m.Promo != NoPieceType {
			q.sq[m.To] = MakePiece(b.turn, m.Promo)
		}
	}
	if captured != NoPiece {
		q.halfmove = 0
	}
	if pc.Type() == King {
		if d := int(m.To) - int(m.From); d == 2 || d == -2 {
			rf, rt := m.From+3, m.From+1 // king side
			if d < 0 {
				rf, rt = m.From-4, m.From-1
			}
			q.sq[rt] = q.sq[rf]
			q.sq[rf] = NoPiece
		}
	}
	q.castle &^= castleMask[m.From] | castleMask[m.To]
	q.turn = b.turn.Other()
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

func (b *board) pseudoMoves(out []Move) []Move {
	us := b.turn
	for i := range 64 {
		pc := b.sq[i]
		if pc == NoPiece || pc.Color() != us {
			continue
		}
		s := Square(i)
		switch pc.Type() {
		case Pawn:
			out = b.pawnMoves(s, out)
		case Knight:
			out = b.stepMoves(s, knightDeltas[:], out)
		case King:
			out = b.stepMoves(s, kingDeltas[:], out)
			out = b.castleMoves(s, out)
		case Bishop:
			out = b.slideMoves(s, bishopDirs[:], out)
		case Rook:
			out = b.slideMoves(s, rookDirs[:], out)
		case Queen:
			out = b.slideMoves(s, bishopDirs[:], out)
			out = b.slideMoves(s, rookDirs[:], out)
		}
	}
	return out
}

func (b *board) stepMoves(s Square, deltas [][2]int, out []Move) []Move {
	for _, d := range deltas {
		if t, ok := offset(s, d[0], d[1]); ok {
			if pc := b.sq[t]; pc == NoPiece || pc.Color() != b.turn {
				out = append(out, Move{From: s, To: t})
			}
		}
	}
	return out
}

func (b *board) slideMoves(s Square, dirs [][2]int, out []Move) []Move {
	for _, d := range dirs {
		t := s
		for {
			var ok bool
			if t, ok = offset(t, d[0], d[1]); !ok {
				break
			}
			pc := b.sq[t]
			if pc == NoPiece {
				out = append(out, Move{From: s, To: t})
				continue
			}
			if pc.Color() != b.turn {
				out = append(out, Move{From: s, To: t})
			}
			break
		}
	}
	return out
}

var promoTypes = [4]PieceType{Queen, Rook, Bishop, Knight}

func (b *board) pawnMoves(s Square, out []Move) []Move {
	dir, start, last := 1, 1, 7
	if b.turn == Black {
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
	if t, ok := offset(s, 0, dir); ok && b.sq[t] == NoPiece {
		add(t)
		if s.Rank() == start {
			if t2, ok := offset(t, 0, dir); ok && b.sq[t2] == NoPiece {
				out = append(out, Move{From: s, To: t2})
			}
		}
	}
	for _, df := range [2]int{-1, 1} {
		t, ok := offset(s, df, dir)
		if !ok {
			continue
		}
		if pc := b.sq[t]; pc != NoPiece && pc.Color() != b.turn {
			add(t)
		} else if t == b.ep && pc == NoPiece {
			// ParseFEN keeps only en-passant squares with a pawn to take.
			out = append(out, Move{From: s, To: t})
		}
	}
	return out
}

func (b *board) castleMoves(s Square, out []Move) []Move {
	them := b.turn.Other()
	home, kside, qside := Square(4), CastleWK, CastleWQ
	if b.turn == Black {
		home, kside, qside = 60, CastleBK, CastleBQ
	}
	if s != home || b.castle&(kside|qside) == 0 || b.attacked(s, them) {
		return out
	}
	if b.castle&kside != 0 && b.sq[s+1] == NoPiece && b.sq[s+2] == NoPiece &&
		b.sq[s+3] == MakePiece(b.turn, Rook) &&
		!b.attacked(s+1, them) && !b.attacked(s+2, them) {
		out = append(out, Move{From: s, To: s + 2})
	}
	if b.castle&qside != 0 && b.sq[s-1] == NoPiece && b.sq[s-2] == NoPiece && b.sq[s-3] == NoPiece &&
		b.sq[s-4] == MakePiece(b.turn, Rook) &&
		!b.attacked(s-1, them) && !b.attacked(s-2, them) {
		out = append(out, Move{From: s, To: s - 2})
	}
	return out
}

// zobrist keys: a fixed, seeded table (immutable after construction).
var zobrist = func() (z struct {
	piece  [16][64]uint64
	turn   uint64
	castle [16]uint64
	ep     [8]uint64
}) {
	rng := rand.New(rand.NewPCG(0xc4e55, 0x2b1d))
	for i := range z.piece {
		for j := range z.piece[i] {
			z.piece[i][j] = rng.Uint64()
		}
	}
	z.turn = rng.Uint64()
	for i := range z.castle {
		z.castle[i] = rng.Uint64()
	}
	for i := range z.ep {
		z.ep[i] = rng.Uint64()
	}
	return
}()

// hash is the board's Zobrist key (move counters excluded).
func (b *board) hash() uint64 {
	var h uint64
	for i, pc := range b.sq {
		if pc != NoPiece {
			h ^= zobrist.piece[pc][i]
		}
	}
	if b.turn == Black {
		h ^= zobrist.turn
	}
	h ^= zobrist.castle[b.castle]
	if b.ep != NoSquare {
		h ^= zobrist.ep[b.ep.File()]
	}
	return h
}

// perft counts the leaves of the legal move tree, on the search's board.
func (b *board) perft(depth int) int64 {
	if depth == 0 {
		return 1
	}
	moves := b.legalMoves()
	if depth == 1 {
		return int64(len(moves))
	}
	var n int64
	for _, m := range moves {
		q := b.play(m)
		n += q.perft(depth - 1)
	}
	return n
}
