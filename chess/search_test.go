package chess

import (
	"context"
	"testing"
	"time"
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
				if q, err = q.PlayChecked(m); err != nil {
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

func BenchmarkSearchMiddlegame(b *testing.B) {
	p, _ := ParseFEN("r3k2r/p1ppqpb1/bn2pnp1/3PN3/1p2P3/2N2Q1p/PPPBBPPP/R3K2R w KQkq - 0 1")
	for b.Loop() {
		if _, err := Search(b.Context(), p, Limits{Depth: 4}); err != nil {
			b.Fatal(err)
		}
	}
}
