package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Limits of SignFlip's exact methods.
const (
	// maxLatticeScale is the finest lattice 1/L that SignFlip looks for:
	// differences of means over up to this many samples are found exactly.
	maxLatticeScale = 1024
	// maxLatticeWork bounds the dynamic programme (nonzero differences ×
	// the range of the sum).
	maxLatticeWork = 50_000_000
	// maxEnumerate is the most nonzero differences whose 2^m sign
	// assignments are enumerated.
	maxEnumerate = 20
	// MonteCarloDraws is the number of random sign assignments drawn when
	// no exact method applies.
	MonteCarloDraws = 200_000
)

// TestName names the acceptance test in records and reports.
const TestName = "paired sign-flip permutation test (one-sided)"

// SignFlip is the one-sided paired sign-flip (randomisation) test of the
// mean of d against 0: the share of the 2^n assignments of signs to the
// |d_i| whose sum is at least the observed sum Σd_i. method says how it was
// computed:
//
//   - on a lattice (every d_i a multiple of 1/L for some L ≤ 1024, as
//     differences of means over L samples are), exactly, by dynamic
//     programming over the distribution of the sum;
//   - with at most 20 nonzero differences, exactly, by enumeration;
//   - otherwise by MonteCarloDraws random assignments from seed, as
//     (1 + hits) / (1 + draws), which never understates p.
//
// Zero differences do not change any assignment's sum, so they neither
// help nor hurt. With no nonzero difference p is 1.
func SignFlip(d []float64, seed uint64) (p float64, method string) {
	var abs []float64
	obs := 0.0
	for _, v := range d {
		if math.Abs(v) > tieTol {
			abs = append(abs, math.Abs(v))
			obs += v
		}
	}
	if len(abs) == 0 {
		return 1, "sign-flip, exact (no nonzero difference)"
	}
	if L, ks, ok := lattice(abs); ok {
		total := 0
		for _, k := range ks {
			total += k
		}
		if len(ks)*(2*total+1) <= maxLatticeWork {
			tobs := int(math.Round(obs * float64(L)))
			return latticeP(ks, total, tobs), fmt.Sprintf("sign-flip, exact (lattice 1/%d)", L)
		}
	}
	tol := 1e-9 * (1 + math.Abs(obs))
	if len(abs) <= maxEnumerate {
		return enumerateP(abs, obs-tol), fmt.Sprintf("sign-flip, exact (2^%d assignments)", len(abs))
	}
	return monteCarloP(abs, obs-tol, seed), fmt.Sprintf("sign-flip, Monte Carlo (%d draws, seed %d)", MonteCarloDraws, seed)
}

// lattice finds the smallest L ≤ maxLatticeScale with every v·L an integer
// (to 1e-7), and those integers.
func lattice(abs []float64) (int, []int, bool) {
	ks := make([]int, len(abs))
	for L := 1; L <= maxLatticeScale; L++ {
		ok := true
		for i, v := range abs {
			x := v * float64(L)
			r := math.Round(x)
			if math.Abs(x-r) > 1e-7 || r < 1 {
				ok = false
				break
			}
			ks[i] = int(r)
		}
		if ok {
			return L, ks, true
		}
	}
	return 0, nil, false
}

// latticeP is P(Σ s_i k_i ≥ tobs) for independent fair signs s_i, by
// convolving the distribution of the sum one term at a time.
func latticeP(ks []int, total, tobs int) float64 {
	off := total
	dist := make([]float64, 2*total+1)
	next := make([]float64, 2*total+1)
	dist[off] = 1
	lo, hi := off, off // the support so far
	for _, k := range ks {
		clear(next[lo-k : hi+k+1])
		for t := lo; t <= hi; t++ {
			if q := dist[t]; q != 0 {
				next[t-k] += q / 2
				next[t+k] += q / 2
			}
		}
		lo, hi = lo-k, hi+k
		dist, next = next, dist
	}
	p := 0.0
	for t := max(tobs+off, lo); t <= hi; t++ {
		p += dist[t]
	}
	return math.Min(1, p)
}

// enumerateP counts the sign assignments whose sum is at least min.
func enumerateP(abs []float64, min float64) float64 {
	m := len(abs)
	hits := 0
	for mask := uint32(0); mask < 1<<m; mask++ {
		s := 0.0
		for i, v := range abs {
			if mask&(1<<i) != 0 {
				s -= v
			} else {
				s += v
			}
		}
		if s >= min {
			hits++
		}
	}
	return float64(hits) / float64(uint64(1)<<m)
}

// monteCarloP draws random sign assignments from seed.
func monteCarloP(abs []float64, min float64, seed uint64) float64 {
	rng := rand.New(rand.NewPCG(seed, 0x7369612d73656c)) // "sia-sel"
	hits := 0
	for range MonteCarloDraws {
		s := 0.0
		var word uint64
		for i, v := range abs {
			if i%64 == 0 {
				word = rng.Uint64()
			}
			if word&1 != 0 {
				s -= v
			} else {
				s += v
			}
			word >>= 1
		}
		if s >= min {
			hits++
		}
	}
	return float64(1+hits) / float64(1+MonteCarloDraws)
}
