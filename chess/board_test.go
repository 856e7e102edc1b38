package chess

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// perftSuite holds the Chess Programming Wiki's perft positions with
// counts at depths that run in well under a second each.
var perftSuite = []struct {
	name  string
	fen   string
	depth int
	want  int64
}{
	{"start d1", StartFEN, 1, 20},
	{"start d2", StartFEN, 2, 400},
	{"start d3", StartFEN, 3, 8902},
	{"kiwipete d1", kiwipeteFEN, 1, 48},
	{"kiwipete d2", kiwipeteFEN, 2, 2039},
	{"position 3 d3 (en passant, pins)", "8/2p5/3p4/KP5r/1R3p1k/8/4P1P1/8 w - - 0 1", 3, 2812},
	{"position 4 d2 (promotions, castling)", "r3k2r/Pppp1ppp/1b3nbN/nP6/BBP1P3/q4N2/Pp1P2PP/R2Q1RK1 w kq - 0 1", 2, 264},
	{"position 4 mirrored d2", "r2q1rk1/pP1p2pp/Q4n2/bbp1p3/Np6/1B3NBn/pPPP1PPP/R3K2R b KQ - 0 1", 2, 264},
	{"position 5 d2", "rnbq1k1r/pp1Pbppp/2p5/8/2B5/8/PPP1NnPP/RNBQK2R w KQ - 1 8", 2, 1486},
	{"position 6 d2", "r4rk1/1pp1qppp/p1np1n2/2b1p1B1/2B1P1b1/P1NP1N2/1PP1QPPP/R4RK1 w - - 0 10", 2, 2079},
}

// Deeper counts, for the search's board only (it is ~4x faster than the
// library's generator, see BenchmarkPerft).
var perftDeep = []struct {
	name  string
	fen   string
	depth int
	want  int64
}{
	{"start d4", StartFEN, 4, 197281},
	{"kiwipete d3", kiwipeteFEN, 3, 97862},
	{"position 3 d4", "8/2p5/3p4/KP5r/1R3p1k/8/4P1P1/8 w - - 0 1", 4, 43238},
	{"position 4 d3", "r3k2r/Pppp1ppp/1b3nbN/nP6/BBP1P3/q4N2/Pp1P2PP/R2Q1RK1 w kq - 0 1", 3, 9467},
	{"position 5 d3", "rnbq1k1r/pp1Pbppp/2p5/8/2B5/8/PPP1NnPP/RNBQK2R w KQ - 1 8", 3, 62379},
	{"position 6 d3", "r4rk1/1pp1qppp/p1np1n2/2b1p1B1/2B1P1b1/P1NP1N2/1PP1QPPP/R4RK1 w - - 0 10", 3, 89890},
}

const kiwipeteFEN = "r3k2r/p1ppqpb1/bn2pnp1/3PN3/1p2P3/2N2Q1p/PPPBBPPP/R3K2R w KQkq - 0 1"

func TestBoardPerft(t *testing.T) {
	for _, tc := range append(slices.Clone(perftDeep), perftSuite...) {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.want > 50000 {
				t.Skip("-short")
			}
			p, err := ParseFEN(tc.fen)
			if err != nil {
				t.Fatal(err)
			}
			b := p.board()
			if got := b.perft(tc.depth); got != tc.want {
				t.Fatalf("board perft(%d) = %d, want %d", tc.depth, got, tc.want)
			}
		})
	}
}

// TestBoardMatchesLibrary plays random games from the perft positions and
// the task's positions and checks, at every position, that the search's
// board generates the library's legal moves and plays each one to the
// library's next position.
func TestBoardMatchesLibrary(t *testing.T) {
	starts := []string{StartFEN, kiwipeteFEN,
		"8/2p5/3p4/KP5r/1R3p1k/8/4P1P1/8 w - - 0 1",
		"r3k2r/Pppp1ppp/1b3nbN/nP6/BBP1P3/q4N2/Pp1P2PP/R2Q1RK1 w kq - 0 1",
		"rnbq1k1r/pp1Pbppp/2p5/8/2B5/8/PPP1NnPP/RNBQK2R w KQ - 1 8",
		"r4rk1/1pp1qppp/p1np1n2/2b1p1B1/2B1P1b1/P1NP1N2/1PP1QPPP/R4RK1 w - - 0 10",
		"8/8/4k2K/1pp5/3pP1P1/pP6/P1P5/8 b - - 0 38",
		"8/7p/p7/P4p1k/1K1B1P2/6P1/p3b2P/8 b - - 7 45",
	}
	games, plies := 12, 80
	if testing.Short() {
		games = 3
	}
	rng := rand.New(rand.NewPCG(7, 11))
	positions := 0
	for _, fen := range starts {
		for range games {
			p, err := ParseFEN(fen)
			if err != nil {
				t.Fatal(err)
			}
			for range plies {
				positions++
				b := p.board()
				want := sortedUCI(p.LegalMoves())
				if got := sortedUCI(b.legalMoves()); !slices.Equal(got, want) {
					t.Fatalf("%s: board moves %v, library %v", p.FEN(), got, want)
				}
				if len(want) == 0 {
					if b.inCheck() != (p.Status() == Checkmate) {
						t.Fatalf("%s: board in check %v, library status %v", p.FEN(), b.inCheck(), p.Status())
					}
					break
				}
				m := p.LegalMoves()[rng.IntN(len(want))]
				q, err := p.Play(m)
				if err != nil {
					t.Fatal(err)
				}
				next := b.play(m)
				if want := q.board(); next != want {
					t.Fatalf("%s after %s: board %+v, library %+v", p.FEN(), m, next, want)
				}
				// The library marks checking moves; the board finds the check.
				san, err := p.SAN(m)
				if err != nil {
					t.Fatal(err)
				}
				if next.inCheck() != strings.ContainsAny(san, "+#") {
					t.Fatalf("%s: %s, board in check %v", p.FEN(), san, next.inCheck())
				}
				p = q
			}
		}
	}
	t.Logf("%d positions compared", positions)
}

func sortedUCI(ms []Move) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.UCI()
	}
	slices.Sort(out)
	return out
}

// BenchmarkPerft compares the search's board with the library's move
// generator on Kiwipete to depth 3 (97,862 leaves).
func BenchmarkPerft(b *testing.B) {
	p, err := ParseFEN(kiwipeteFEN)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("board", func(b *testing.B) {
		bd := p.board()
		for b.Loop() {
			if bd.perft(3) != 97862 {
				b.Fatal("wrong count")
			}
		}
	})
	b.Run("library", func(b *testing.B) {
		for b.Loop() {
			if Perft(p, 3) != 97862 {
				b.Fatal("wrong count")
			}
		}
	})
}
