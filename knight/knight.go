package knight

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
)

// Square is a 0-indexed (row, col) pair as LongCoT prints it.
type Square struct{ R, C int }

// Problem is one knight_path question.
type Problem struct {
	N       int // board side
	Start   Square
	Targets []Square
}

// Validate reports the first thing wrong with p.
func (p Problem) Validate() error {
	if p.N < 3 || p.N > 1000 {
		return fmt.Errorf("board size %d: want 3..1000", p.N)
	}
	in := func(s Square) bool { return s.R >= 0 && s.C >= 0 && s.R < p.N && s.C < p.N }
	if !in(p.Start) {
		return fmt.Errorf("start %v is off the %dx%d board", p.Start, p.N, p.N)
	}
	for i, t := range p.Targets {
		if !in(t) {
			return fmt.Errorf("target %d %v is off the %dx%d board", i, t, p.N, p.N)
		}
	}
	return nil
}

var knightSteps = [8][2]int{{1, 2}, {2, 1}, {2, -1}, {1, -2}, {-1, -2}, {-2, -1}, {-2, 1}, {-1, 2}}

// Distances returns the knight distance from src to every square, indexed
// r*n+c; -1 where unreachable (only on boards smaller than 4×4).
func Distances(n int, src Square) []int {
	d := make([]int, n*n)
	for i := range d {
		d[i] = -1
	}
	q := make([]int32, 0, n*n)
	s := src.R*n + src.C
	d[s] = 0
	q = append(q, int32(s))
	for h := 0; h < len(q); h++ {
		cur := int(q[h])
		r, c := cur/n, cur%n
		for _, st := range knightSteps {
			nr, nc := r+st[0], c+st[1]
			if nr < 0 || nc < 0 || nr >= n || nc >= n {
				continue
			}
			ni := nr*n + nc
			if d[ni] < 0 {
				d[ni] = d[cur] + 1
				q = append(q, int32(ni))
			}
		}
	}
	return d
}

// Matrix returns pairwise knight distances between points (start first).
func Matrix(n int, pts []Square) ([][]int, error) {
	m := make([][]int, len(pts))
	for i, p := range pts {
		d := Distances(n, p)
		m[i] = make([]int, len(pts))
		for j, q := range pts {
			v := d[q.R*n+q.C]
			if v < 0 {
				return nil, fmt.Errorf("square %v cannot reach %v on a %dx%d board", p, q, n, n)
			}
			m[i][j] = v
		}
	}
	return m, nil
}

// ExactLimit is the most targets Solve handles with Held-Karp (memory
// grows as 2^n·n int32: 18 targets is about 19 MB).
const ExactLimit = 18

// Result is a solved problem.
type Result struct {
	Moves int      // total knight moves
	Order []Square // targets in visiting order (duplicates of the start dropped)
	Exact bool     // Moves is proven minimal
}

// Options tune the search for large target sets.
type Options struct {
	// Restarts of the local search (default 64).
	Restarts int
	// Seed makes restarts reproducible.
	Seed uint64
}

// Solve finds the shortest open knight tour. Targets equal to the start or
// to each other are visited once. ctx bounds the search.
func Solve(ctx context.Context, p Problem, opt Options) (Result, error) {
	if err := p.Validate(); err != nil {
		return Result{}, err
	}
	pts := []Square{p.Start}
	seen := map[Square]bool{p.Start: true}
	for _, t := range p.Targets {
		if !seen[t] {
			seen[t] = true
			pts = append(pts, t)
		}
	}
	if len(pts) == 1 {
		return Result{Exact: true}, nil
	}
	m, err := Matrix(p.N, pts)
	if err != nil {
		return Result{}, err
	}
	var order []int
	exact := false
	if len(pts)-1 <= ExactLimit {
		order, err = heldKarp(ctx, m)
		exact = err == nil
	} else {
		order, err = localSearch(ctx, m, opt)
	}
	if err != nil {
		return Result{}, err
	}
	res := Result{Exact: exact, Moves: pathLen(m, order)}
	for _, i := range order[1:] {
		res.Order = append(res.Order, pts[i])
	}
	return res, nil
}

func pathLen(m [][]int, order []int) int {
	t := 0
	for i := 1; i < len(order); i++ {
		t += m[order[i-1]][order[i]]
	}
	return t
}

// heldKarp returns the optimal open path from node 0 through all nodes.
func heldKarp(ctx context.Context, m [][]int) ([]int, error) {
	k := len(m) - 1 // targets are nodes 1..k, bit i-1
	full := 1 << k
	const inf = math.MaxInt32
	dp := make([]int32, full*k)
	for i := range dp {
		dp[i] = inf
	}
	for j := 0; j < k; j++ {
		dp[(1<<j)*k+j] = int32(m[0][j+1])
	}
	for mask := 1; mask < full; mask++ {
		if mask&0xfff == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		row := dp[mask*k : mask*k+k]
		for j := 0; j < k; j++ {
			cur := row[j]
			if cur == inf || mask&(1<<j) == 0 {
				continue
			}
			mj := m[j+1]
			for nx := 0; nx < k; nx++ {
				if mask&(1<<nx) != 0 {
					continue
				}
				nm := mask | 1<<nx
				v := cur + int32(mj[nx+1])
				if v < dp[nm*k+nx] {
					dp[nm*k+nx] = v
				}
			}
		}
	}
	last, best := 0, int32(inf)
	for j := 0; j < k; j++ {
		if v := dp[(full-1)*k+j]; v < best {
			best, last = v, j
		}
	}
	// Walk back.
	order := make([]int, k+1)
	mask := full - 1
	for pos := k; pos >= 1; pos-- {
		order[pos] = last + 1
		prevMask := mask &^ (1 << last)
		if prevMask == 0 {
			break
		}
		want := dp[mask*k+last] - int32(m[0][0]) // m[0][0] is 0; keeps types aligned
		for j := 0; j < k; j++ {
			if prevMask&(1<<j) == 0 {
				continue
			}
			if pv := dp[prevMask*k+j]; pv != inf && pv+int32(m[j+1][last+1]) == want {
				last, mask = j, prevMask
				break
			}
		}
	}
	return order, nil
}

// localSearch improves seeded starting paths with 2-opt and or-opt moves
// until no move helps, keeping the best path over all restarts.
func localSearch(ctx context.Context, m [][]int, opt Options) ([]int, error) {
	restarts := opt.Restarts
	if restarts <= 0 {
		restarts = 64
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x6b6e))
	n := len(m)
	var best []int
	bestLen := math.MaxInt
	for r := 0; r < restarts; r++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		order := nearestNeighbour(m, rng, r > 0)
		improve(m, order)
		if l := pathLen(m, order); l < bestLen {
			bestLen, best = l, append([]int(nil), order...)
		}
		// Perturb the best path (double bridge) and re-improve.
		if n > 8 && best != nil {
			cand := doubleBridge(best, rng)
			improve(m, cand)
			if l := pathLen(m, cand); l < bestLen {
				bestLen, best = l, cand
			}
		}
	}
	return best, nil
}

// nearestNeighbour builds a path from node 0; with noise it picks among
// the two nearest at random so restarts differ.
func nearestNeighbour(m [][]int, rng *rand.Rand, noise bool) []int {
	n := len(m)
	used := make([]bool, n)
	used[0] = true
	order := []int{0}
	for len(order) < n {
		cur := order[len(order)-1]
		b1, b2 := -1, -1
		for j := 0; j < n; j++ {
			if used[j] {
				continue
			}
			if b1 < 0 || m[cur][j] < m[cur][b1] {
				b1, b2 = j, b1
			} else if b2 < 0 || m[cur][j] < m[cur][b2] {
				b2 = j
			}
		}
		pick := b1
		if noise && b2 >= 0 && rng.IntN(3) == 0 {
			pick = b2
		}
		used[pick] = true
		order = append(order, pick)
	}
	return order
}

func doubleBridge(order []int, rng *rand.Rand) []int {
	n := len(order)
	// cut points in 1..n-1, node 0 stays first
	a := 1 + rng.IntN(n-3)
	b := a + 1 + rng.IntN(n-a-2)
	c := b + 1 + rng.IntN(n-b-1)
	out := make([]int, 0, n)
	out = append(out, order[:a]...)
	out = append(out, order[b:c]...)
	out = append(out, order[a:b]...)
	out = append(out, order[c:]...)
	return out
}

// improve applies first-improvement 2-opt (segment reversal, including the
// open tail) and or-opt (move a run of 1–3 nodes) until a local optimum.
func improve(m [][]int, order []int) {
	n := len(order)
	d := func(i, j int) int { return m[order[i]][order[j]] }
	for changed := true; changed; {
		changed = false
		// 2-opt: reverse order[i..j], 1 <= i < j <= n-1.
		for i := 1; i < n-1; i++ {
			for j := i + 1; j < n; j++ {
				before := d(i-1, i)
				after := d(i-1, j)
				if j+1 < n {
					before += d(j, j+1)
					after += d(i, j+1)
				}
				if after < before {
					for a, b := i, j; a < b; a, b = a+1, b-1 {
						order[a], order[b] = order[b], order[a]
					}
					changed = true
				}
			}
		}
		// or-opt: move segment [i, i+l) elsewhere, either direction.
		for l := 1; l <= 3; l++ {
			for i := 1; i+l <= n; i++ {
				if orMove(m, order, i, l) {
					changed = true
				}
			}
		}
	}
}

func orMove(m [][]int, order []int, i, l int) bool {
	n := len(order)
	seg := append([]int(nil), order[i:i+l]...)
	rest := make([]int, 0, n-l)
	rest = append(rest, order[:i]...)
	rest = append(rest, order[i+l:]...)
	cur := pathLen(m, order)
	bestGain, bestPos, bestRev := 0, -1, false
	for pos := 1; pos <= len(rest); pos++ { // insert before rest[pos] (pos==len: append)
		for _, rev := range []bool{false, true} {
			first, last := seg[0], seg[l-1]
			if rev {
				first, last = last, first
			}
			prev := rest[pos-1]
			delta := m[prev][first]
			if pos < len(rest) {
				delta += m[last][rest[pos]] - m[prev][rest[pos]]
			}
			// cost of rest alone:
			restLen := cur
			restLen -= m[order[i-1]][seg[0]]
			if i+l < n {
				restLen -= m[seg[l-1]][order[i+l]]
				restLen += m[order[i-1]][order[i+l]]
			}
			for k := 1; k < l; k++ {
				restLen -= m[seg[k-1]][seg[k]]
			}
			newLen := restLen + delta
			for k := 1; k < l; k++ {
				newLen += m[seg[k-1]][seg[k]] // internal edges are symmetric
			}
			if g := cur - newLen; g > bestGain {
				bestGain, bestPos, bestRev = g, pos, rev
			}
		}
	}
	if bestPos < 0 {
		return false
	}
	if bestRev {
		for a, b := 0, l-1; a < b; a, b = a+1, b-1 {
			seg[a], seg[b] = seg[b], seg[a]
		}
	}
	out := make([]int, 0, n)
	out = append(out, rest[:bestPos]...)
	out = append(out, seg...)
	out = append(out, rest[bestPos:]...)
	copy(order, out)
	return true
}
