package knight

import (
	"context"
	"math/rand/v2"
	"testing"
)

func TestDistances(t *testing.T) {
	tests := []struct {
		name string
		n    int
		from Square
		to   Square
		want int
	}{
		{"same square", 8, Square{0, 0}, Square{0, 0}, 0},
		{"one move", 8, Square{0, 0}, Square{1, 2}, 1},
		{"corner to adjacent diagonal needs 4", 8, Square{0, 0}, Square{1, 1}, 4},
		{"corner to corner 8x8", 8, Square{0, 0}, Square{7, 7}, 6},
		{"adjacent square in open board", 100, Square{50, 50}, Square{50, 51}, 3},
		{"two straight", 100, Square{50, 50}, Square{50, 52}, 2},
		{"long straight, odd parity", 100, Square{0, 0}, Square{0, 99}, 51},
		{"long straight, even", 100, Square{0, 0}, Square{0, 98}, 50},
		{"3x3 centre unreachable", 3, Square{0, 0}, Square{1, 1}, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Distances(tc.n, tc.from)[tc.to.R*tc.n+tc.to.C]
			if got != tc.want {
				t.Fatalf("distance %v→%v on %d: got %d, want %d", tc.from, tc.to, tc.n, got, tc.want)
			}
		})
	}
}

// bruteForce tries every order of the targets.
func bruteForce(m [][]int) int {
	k := len(m) - 1
	perm := make([]int, k)
	for i := range perm {
		perm[i] = i + 1
	}
	best := 1 << 30
	var rec func(int)
	rec = func(i int) {
		if i == k {
			l := m[0][perm[0]]
			for j := 1; j < k; j++ {
				l += m[perm[j-1]][perm[j]]
			}
			best = min(best, l)
			return
		}
		for j := i; j < k; j++ {
			perm[i], perm[j] = perm[j], perm[i]
			rec(i + 1)
			perm[i], perm[j] = perm[j], perm[i]
		}
	}
	rec(0)
	return best
}

func randomProblem(rng *rand.Rand, n, k int) Problem {
	p := Problem{N: n, Start: Square{rng.IntN(n), rng.IntN(n)}}
	for range k {
		p.Targets = append(p.Targets, Square{rng.IntN(n), rng.IntN(n)})
	}
	return p
}

func TestHeldKarpMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 30 {
		p := randomProblem(rng, 20, 1+trial%7)
		res, err := Solve(t.Context(), p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		pts := append([]Square{p.Start}, dedup(p)...)
		m, _ := Matrix(p.N, pts)
		if want := bruteForce(m); res.Moves != want || !res.Exact {
			t.Fatalf("trial %d: held-karp %d (exact=%v), brute force %d", trial, res.Moves, res.Exact, want)
		}
		// The returned order must realise the returned length.
		if got := orderLen(p.N, p.Start, res.Order); got != res.Moves {
			t.Fatalf("trial %d: order walks %d moves, result says %d", trial, got, res.Moves)
		}
	}
}

func dedup(p Problem) []Square {
	seen := map[Square]bool{p.Start: true}
	var out []Square
	for _, t := range p.Targets {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

func orderLen(n int, start Square, order []Square) int {
	tot, cur := 0, start
	for _, s := range order {
		tot += Distances(n, cur)[s.R*n+s.C]
		cur = s
	}
	return tot
}

// The local search used above ExactLimit should find the optimum on
// instances small enough to check with Held-Karp.
func TestLocalSearchFindsOptimum(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	misses := 0
	const trials = 20
	for trial := range trials {
		p := randomProblem(rng, 100, 14)
		exact, err := Solve(t.Context(), p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		pts := append([]Square{p.Start}, dedup(p)...)
		m, _ := Matrix(p.N, pts)
		order, err := localSearch(t.Context(), m, Options{Seed: uint64(trial)})
		if err != nil {
			t.Fatal(err)
		}
		if got := pathLen(m, order); got != exact.Moves {
			misses++
			t.Logf("trial %d: local search %d, optimum %d", trial, got, exact.Moves)
		}
	}
	if misses > 1 {
		t.Fatalf("local search missed the optimum on %d of %d instances", misses, trials)
	}
}

func TestSolveCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	p := randomProblem(rand.New(rand.NewPCG(3, 3)), 100, 30)
	if _, err := Solve(ctx, p, Options{}); err == nil {
		t.Fatal("want an error from a cancelled context")
	}
}

func TestParsePrompt(t *testing.T) {
	p := Problem{N: 100, Start: Square{51, 43}, Targets: []Square{{64, 27}, {9, 77}}}
	got, err := ParsePrompt(Prompt(p))
	if err != nil {
		t.Fatal(err)
	}
	if got.N != 100 || got.Start != p.Start || len(got.Targets) != 2 || got.Targets[1] != p.Targets[1] {
		t.Fatalf("round trip: got %+v", got)
	}
	bad := []struct{ name, prompt string }{
		{"no size", "Starting Position: (1, 2)\nTarget Squares: [(3, 4)]"},
		{"no start", "board of size 8x8 Target Squares: [(3, 4)]"},
		{"no targets", "board of size 8x8 Starting Position: (1, 2)\nTarget Squares: []"},
		{"off board", "board of size 8x8 Starting Position: (1, 2)\nTarget Squares: [(9, 4)]"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParsePrompt(tc.prompt); err == nil {
				t.Fatalf("want an error for %q", tc.prompt)
			}
		})
	}
}

func BenchmarkSolve30Targets(b *testing.B) {
	p := randomProblem(rand.New(rand.NewPCG(5, 5)), 100, 30)
	for b.Loop() {
		if _, err := Solve(b.Context(), p, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
