package rl

import (
	"math"
	"strings"
	"testing"
)

// TestSelectRefusesUntrainable: the rule table picks no algorithm when
// nothing can be learned, and passes over a rule whose algorithm would
// train no unit. (Units come from package reward; its tests check them on
// real batches: entropic with one sample per item, best-of-N below its
// floor.)
func TestSelectRefusesUntrainable(t *testing.T) {
	noTokens := group([]float64{1, 0}, []float64{0, 1})
	for i := range noTokens {
		noTokens[i].HasTokens = false
	}
	failing := ComputeStats(group([]float64{0}, []float64{0}, []float64{1}, []float64{0}, []float64{0}))
	failing.FailedFrac = 0.8
	failing.Units = &Units{Entropic: 0, BestOfN: 1, PPO: 5}
	tests := []struct {
		name  string
		stats Stats
		want  Algorithm
	}{
		{"no token ids", ComputeStats(noTokens), ""},
		{"all-zero rewards", ComputeStats(group([]float64{0, 0}, []float64{0, 0})), ""},
		{"constant rewards", ComputeStats(group([]float64{1, 1}, []float64{1, 1}, []float64{1})), ""},
		{"entropic without a unit falls through", failing, BestOfN},
		{"no algorithm with a unit", func() Stats { s := failing; s.Units = &Units{}; return s }(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := Select(tt.stats)
			if got != tt.want {
				t.Errorf("Select = %q (%s), want %q", got, why, tt.want)
			}
			if got == "" && !strings.Contains(why, "harness lever") {
				t.Errorf("reason %q does not send the lever back to the harness", why)
			}
		})
	}
}

// TestKLPenaltyGradientIsKLPolicyToBase checks, on a small categorical policy
// π = softmax(θ), that the expected gradient of the KL penalty over tokens
// drawn from π, Σ_x π(x)·∂pen/∂logπ(x)·∇θ logπ(x), is the gradient of the
// exact KL(π‖base) = Σ_x π(x)(log π(x) − log base(x)), by finite differences.
func TestKLPenaltyGradientIsKLPolicyToBase(t *testing.T) {
	theta := []float64{0.3, -1.2, 0.8, 0.1}
	base := logSoftmax([]float64{-0.5, 0.4, 0.2, -1})
	exact := func(th []float64) float64 {
		lp := logSoftmax(th)
		s := 0.0
		for x := range lp {
			s += math.Exp(lp[x]) * (lp[x] - base[x])
		}
		return s
	}
	lp := logSoftmax(theta)
	_, g := KLPenalty(lp, base) // ∂penalty/∂logπ(x) for each token x
	for j := range theta {
		est := 0.0 // E_π[g(x) · ∂logπ(x)/∂θ_j], ∂logπ(x)/∂θ_j = 1[x=j] − π(j)
		for x := range lp {
			d := -math.Exp(lp[j])
			if x == j {
				d++
			}
			est += math.Exp(lp[x]) * g[x] * d
		}
		h := 1e-6
		tp := append([]float64(nil), theta...)
		tm := append([]float64(nil), theta...)
		tp[j] += h
		tm[j] -= h
		fd := (exact(tp) - exact(tm)) / (2 * h)
		if math.Abs(fd-est) > 1e-6 {
			t.Errorf("∂KL(π‖base)/∂θ_%d: finite difference %.8f, estimator %.8f", j, fd, est)
		}
	}
}

func logSoftmax(x []float64) []float64 {
	hi := math.Inf(-1)
	for _, v := range x {
		hi = math.Max(hi, v)
	}
	s := 0.0
	for _, v := range x {
		s += math.Exp(v - hi)
	}
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v - hi - math.Log(s)
	}
	return out
}

func TestUnits(t *testing.T) {
	var u Units
	for i, a := range Algorithms {
		u.Set(a, i+1)
	}
	u.Set("sgd", 99)
	for i, a := range Algorithms {
		if got := u.Of(a); got != i+1 {
			t.Errorf("Of(%s) = %d, want %d", a, got, i+1)
		}
	}
	if u.Of("sgd") != 0 {
		t.Error("an unknown algorithm has a count")
	}
}
