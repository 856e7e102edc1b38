package chess

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	lib "github.com/corentings/chess/v2"
)

func TestSearchFindsMates(t *testing.T) {
	tests := []struct {
		name  string
		fen   string
		depth int
		best  string // UCI
		mate  int
	}{
		{"back rank mate in 1", "6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1", 3, "a1a8", 1},
		{"queen mate in 1", "7k/8/6K1/8/8/8/8/5Q2 w - - 0 1", 3, "f1f8", 1},
		// Mate in 2 with a rook lift: 1. Rb7 (only) … 2. Ra8#.
		{"two rooks mate in 2", "7k/8/8/8/8/8/R7/1R4K1 w - - 0 1", 5, "b1b7", 2},
		{"black mates in 1", "r5k1/8/8/8/8/8/5PPP/6K1 b - - 0 1", 3, "a8a1", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseFEN(tc.fen)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Search(t.Context(), p, Limits{Depth: tc.depth})
			if err != nil {
				t.Fatal(err)
			}
			if res.Mate != tc.mate {
				t.Fatalf("mate %d, want %d (pv %v)", res.Mate, tc.mate, res.PV)
			}
			if tc.best != "" && res.Best.UCI() != tc.best && tc.mate == 1 {
				t.Fatalf("best %s, want %s", res.Best.UCI(), tc.best)
			}
			// The PV must be legal and end in mate.
			q := p
			for _, m := range res.PV {
				if q, err = q.Play(m); err != nil {
					t.Fatal(err)
				}
			}
			if q.Status() != Checkmate {
				t.Fatalf("pv %v does not end in mate", res.PV)
			}
		})
	}
}

func TestSearchWinsMaterial(t *testing.T) {
	p, _ := ParseFEN("4k3/8/8/3q4/8/8/8/3RK3 w - - 0 1")
	res, err := Search(t.Context(), p, Limits{Depth: 4})
	if err != nil {
		t.Fatal(err)
	}
	if res.Best.UCI() != "d1d5" || res.Score < 400 {
		t.Fatalf("best %s score %d, want d1d5 winning the queen", res.Best.UCI(), res.Score)
	}
}

func TestSearchStopsOnCancel(t *testing.T) {
	p, _ := ParseFEN(StartFEN)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := Search(ctx, p, Limits{})
	if time.Since(start) > 2*time.Second {
		t.Fatalf("search ran %v after a 50ms deadline", time.Since(start))
	}
	if err == nil && !p.IsLegal(res.Best) {
		t.Fatalf("best move %v is illegal", res.Best)
	}
}

func TestSearchNoMoves(t *testing.T) {
	p, _ := ParseFEN("R6k/8/6K1/8/8/8/8/8 b - - 0 1")
	if _, err := Search(t.Context(), p, Limits{Depth: 2}); err != ErrNoMoves {
		t.Fatalf("err = %v, want ErrNoMoves", err)
	}
}

// libNode runs the same search on the library's positions, to measure
// what they would cost it: legal moves from ValidMoves, children from
// Update, check from the move's Check tag, pieces from Board.Piece, the
// key from the library's Hash (MD5 of the marshalled position).
type libNode struct {
	pos   *lib.Position
	check bool
}

var _ node[libNode] = libNode{}

func (n libNode) key() uint64 {
	h := n.pos.Hash()
	return binary.LittleEndian.Uint64(h[:8])
}
func (n libNode) clock() int    { return n.pos.HalfMoveClock() }
func (n libNode) checked() bool { return n.check }
func (n libNode) moves() []Move {
	ms := n.pos.ValidMoves()
	out := make([]Move, len(ms))
	for i := range ms {
		out[i] = fromLibMove(&ms[i])
	}
	return out
}
func (n libNode) child(m Move) libNode {
	ms := n.pos.ValidMoves()
	for i := range ms {
		if fromLibMove(&ms[i]) == m {
			return libNode{pos: n.pos.Update(&ms[i]), check: ms[i].HasTag(lib.Check)}
		}
	}
	panic("libNode: illegal move " + m.UCI()) // the search plays only legal moves
}
func (n libNode) at(s Square) Piece { return fromLibPiece[n.pos.Board().Piece(lib.Square(s))] }
func (n libNode) epTarget() Square  { return Square(n.pos.EnPassantSquare()) }
func (n libNode) evaluation() int {
	sq := mailbox(n.pos.Board())
	return evaluate(&sq, fromLibColor(n.pos.Turn()))
}

func libNodeOf(p Position) libNode {
	b := p.board()
	return libNode{pos: p.pos, check: b.inCheck()}
}

// TestLibNodeSearchAgrees checks that the library-backed node plays the
// same game: on the same positions the search finds the same mates and
// scores (node counts differ: the move orders differ).
func TestLibNodeSearchAgrees(t *testing.T) {
	for _, fen := range []string{"7k/8/8/8/8/8/R7/1R4K1 w - - 0 1", "4k3/8/8/3q4/8/8/8/3RK3 w - - 0 1", "8/8/4k2K/1pp5/3pP1P1/pP6/P1P5/8 b - - 0 38"} {
		p, err := ParseFEN(fen)
		if err != nil {
			t.Fatal(err)
		}
		want, err := search(t.Context(), p.board(), Limits{Depth: 3})
		if err != nil {
			t.Fatal(err)
		}
		got, err := search(t.Context(), libNodeOf(p), Limits{Depth: 3})
		if err != nil {
			t.Fatal(err)
		}
		if got.Score != want.Score || got.Mate != want.Mate {
			t.Errorf("%s: library node score %d mate %d, board %d %d", fen, got.Score, got.Mate, want.Score, want.Mate)
		}
	}
}

// BenchmarkSearch runs the engine's alpha-beta on its own board and on the
// library's positions (libNode), same positions and depths, in one run:
//
//	go test -run '^$' -bench 'BenchmarkSearch$' -count 3 ./chess
//
// nodes/op counts the nodes searched (they differ a little between the two:
// the move orders differ); compare ns/op per node as well as ns/op.
func BenchmarkSearch(b *testing.B) {
	cases := []struct {
		name  string
		fen   string
		depth int
	}{
		{"kiwipete-d3", kiwipeteFEN, 3},
		{"example1-d5", "8/8/4k2K/1pp5/3pP1P1/pP6/P1P5/8 b - - 0 38", 5},
		{"mate2-d5", "7k/8/8/8/8/8/R7/1R4K1 w - - 0 1", 5},
	}
	for _, tc := range cases {
		p, err := ParseFEN(tc.fen)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name+"/board", func(b *testing.B) {
			var nodes int64
			for b.Loop() {
				res, err := search(b.Context(), p.board(), Limits{Depth: tc.depth})
				if err != nil {
					b.Fatal(err)
				}
				nodes = res.Nodes
			}
			b.ReportMetric(float64(nodes), "nodes/op")
		})
		b.Run(tc.name+"/library", func(b *testing.B) {
			var nodes int64
			for b.Loop() {
				res, err := search(b.Context(), libNodeOf(p), Limits{Depth: tc.depth})
				if err != nil {
					b.Fatal(err)
				}
				nodes = res.Nodes
			}
			b.ReportMetric(float64(nodes), "nodes/op")
		})
	}
}

// BenchmarkSearchMiddlegame is the benchmark the engine had before the
// library came in (the public Search, Kiwipete to depth 4), kept under its
// name so runs before and after compare.
func BenchmarkSearchMiddlegame(b *testing.B) {
	p, _ := ParseFEN(kiwipeteFEN)
	for b.Loop() {
		if _, err := Search(b.Context(), p, Limits{Depth: 4}); err != nil {
			b.Fatal(err)
		}
	}
}
