package rl

import (
	"math"
	"testing"
)

const tol = 1e-6

func near(a, b float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

func nearAll(t *testing.T, name string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d (%v)", name, len(got), len(want), got)
	}
	for i := range want {
		if !near(got[i], want[i]) {
			t.Errorf("%s[%d] = %.9f, want %.9f", name, i, got[i], want[i])
		}
	}
}

func TestGAE(t *testing.T) {
	tests := []struct {
		name          string
		rewards, vals []float64
		gamma, lambda float64
		adv, ret      []float64
	}{
		{"monte carlo", []float64{0, 0, 1}, []float64{0.5, 0.5, 0.5}, 1, 1,
			[]float64{0.5, 0.5, 0.5}, []float64{1, 1, 1}},
		{"discounted", []float64{0, 0, 1}, []float64{0.5, 0.5, 0.5}, 0.9, 0.5,
			[]float64{0.02875, 0.175, 0.5}, []float64{0.52875, 0.675, 1}},
		{"td(0)", []float64{0, 1}, []float64{0.2, 0.3}, 1, 0,
			[]float64{0.1, 0.7}, []float64{0.3, 1}},
		{"bootstrap", []float64{1}, []float64{0.2, 0.4}, 0.5, 1,
			[]float64{1.0}, []float64{1.2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			adv, ret := GAE(tt.rewards, tt.vals, tt.gamma, tt.lambda)
			nearAll(t, "adv", adv, tt.adv)
			nearAll(t, "ret", ret, tt.ret)
		})
	}
	if a, r := GAE([]float64{1, 2}, []float64{1}, 1, 1); a != nil || r != nil {
		t.Errorf("mismatched lengths: got %v %v, want nil", a, r)
	}
}

func TestOutcomeRewards(t *testing.T) {
	nearAll(t, "r", OutcomeRewards(0.7, 3), []float64{0, 0, 0.7})
	if len(OutcomeRewards(1, 0)) != 0 {
		t.Error("n=0 should give an empty slice")
	}
}

func TestGroupNormalize(t *testing.T) {
	s := 0.5 / (0.5 + GroupEps)
	sd := math.Sqrt(0.1875)
	tests := []struct {
		name    string
		in, out []float64
	}{
		{"balanced", []float64{1, 0, 0, 1}, []float64{s, -s, -s, s}},
		{"one of four", []float64{1, 0, 0, 0}, []float64{0.75 / (sd + GroupEps), -0.25 / (sd + GroupEps), -0.25 / (sd + GroupEps), -0.25 / (sd + GroupEps)}},
		{"all equal", []float64{1, 1, 1}, []float64{0, 0, 0}},
		{"empty", nil, []float64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { nearAll(t, "a", GroupNormalize(tt.in), tt.out) })
	}
}

func TestEntropic(t *testing.T) {
	b := math.Log(3)
	nearAll(t, "w2", EntropicWeights([]float64{0, 1}, b), []float64{0.25, 0.75})
	nearAll(t, "a2", EntropicAdvantages([]float64{0, 1}, b), []float64{-0.5, 0.5})
	nearAll(t, "w4", EntropicWeights([]float64{0, 0, 0, 1}, b), []float64{1.0 / 6, 1.0 / 6, 1.0 / 6, 0.5})
	nearAll(t, "a4", EntropicAdvantages([]float64{0, 0, 0, 1}, b), []float64{-1.0 / 3, -1.0 / 3, -1.0 / 3, 1})
	// Large β·r must not overflow.
	nearAll(t, "big", EntropicWeights([]float64{1000, 1000}, 10), []float64{0.5, 0.5})
	nearAll(t, "beta0", EntropicWeights([]float64{0, 5, 9}, 0), []float64{1.0 / 3, 1.0 / 3, 1.0 / 3})
}

func TestReinforce(t *testing.T) {
	b := LeaveOneOutBaseline([]float64{1, 0, 0})
	nearAll(t, "loo", b, []float64{0, 0.5, 0.5})
	nearAll(t, "adv", ReinforceAdvantages([]float64{1, 0, 0}, b), []float64{1, -0.5, -0.5})
	nearAll(t, "nobase", ReinforceAdvantages([]float64{0.3}, nil), []float64{0.3})
	nearAll(t, "single", LeaveOneOutBaseline([]float64{0.3}), []float64{0})
}

func TestBestWorstTop(t *testing.T) {
	tests := []struct {
		name        string
		r           []float64
		best, worst int
		ok          bool
		top         []int
	}{
		{"mixed", []float64{0, 1, 0.5, 1}, 1, 0, true, []int{1, 3}},
		{"flat", []float64{1, 1}, 0, 0, false, []int{0, 1}},
		{"all wrong", []float64{0, 0, 0}, 0, 0, false, nil},
		{"single", []float64{1}, 0, 0, false, []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, w, ok := BestWorst(tt.r)
			if ok != tt.ok || (ok && (b != tt.best || w != tt.worst)) {
				t.Errorf("BestWorst = %d,%d,%v want %d,%d,%v", b, w, ok, tt.best, tt.worst, tt.ok)
			}
			top := TopSamples(tt.r, SuccessThreshold)
			if len(top) != len(tt.top) {
				t.Fatalf("TopSamples = %v, want %v", top, tt.top)
			}
			for i := range top {
				if top[i] != tt.top[i] {
					t.Errorf("TopSamples = %v, want %v", top, tt.top)
				}
			}
		})
	}
}

func TestPPOClip(t *testing.T) {
	logp := []float64{math.Log(1.5), math.Log(0.5), math.Log(1.1), math.Log(0.7)}
	old := []float64{0, 0, 0, 0}
	adv := []float64{1, 1, -1, -1}
	r := PPOClip(logp, old, adv, 0.2)
	if !near(r.Loss, 0.2) {
		t.Errorf("loss %.9f, want 0.2", r.Loss)
	}
	nearAll(t, "grad", r.Grad, []float64{0, -0.5, 1.1, 0})
	if r.Clipped != 3 {
		t.Errorf("clipped %d, want 3", r.Clipped)
	}
	if !near(r.RatioSum, 3.8) {
		t.Errorf("ratio sum %.9f, want 3.8", r.RatioSum)
	}
	// On-policy (ratio 1) the gradient is the policy gradient −A.
	r = PPOClip([]float64{-1, -2}, []float64{-1, -2}, []float64{0.5, -2}, 0.2)
	nearAll(t, "onpolicy", r.Grad, []float64{-0.5, 2})
	checkGrad(t, "ppo", []float64{-0.3, -1.2, -0.05}, func(x []float64) (float64, []float64) {
		r := PPOClip(x, []float64{-0.35, -1.1, -0.5}, []float64{0.7, -1.3, 2}, 0.2)
		return r.Loss, r.Grad
	})
}

func TestPolicyGradient(t *testing.T) {
	loss, g := PolicyGradient([]float64{-1, -2}, []float64{2, -1})
	if !near(loss, 0) { // −(2·−1 + −1·−2) = 0
		t.Errorf("loss %v, want 0", loss)
	}
	nearAll(t, "grad", g, []float64{-2, 1})
	checkGrad(t, "pg", []float64{-0.3, -2}, func(x []float64) (float64, []float64) { return PolicyGradient(x, []float64{1.5, -0.25}) })
}

func TestKL(t *testing.T) {
	if kl := KLEstimate([]float64{math.Log(0.5), -1}, []float64{math.Log(0.25), -1}); !near(kl, 0.5+math.Log(2)-1) {
		t.Errorf("kl %.9f, want %.9f", kl, 0.5+math.Log(2)-1)
	}
	if kl := KLEstimate([]float64{-0.3, -2}, []float64{-0.3, -2}); kl != 0 {
		t.Errorf("kl of a policy to itself %v, want 0", kl)
	}
	loss, g := KLPenalty([]float64{-1, -2}, []float64{-1.5, -1})
	if !near(loss, 0.5*(0.25+1)) {
		t.Errorf("penalty %v, want %v", loss, 0.5*(0.25+1))
	}
	nearAll(t, "grad", g, []float64{0.5, -1})
	checkGrad(t, "kl penalty", []float64{-0.3, -2, -0.9}, func(x []float64) (float64, []float64) {
		return KLPenalty(x, []float64{-0.5, -1, -0.9})
	})
}

func TestDPO(t *testing.T) {
	r := DPOLoss(-1, -2, -1.5, -1.5, 0.5)
	if !near(r.Margin, 0.5) {
		t.Errorf("margin %v, want 0.5", r.Margin)
	}
	if !near(r.Loss, math.Log1p(math.Exp(-0.5))) {
		t.Errorf("loss %v, want %v", r.Loss, math.Log1p(math.Exp(-0.5)))
	}
	s := 1 / (1 + math.Exp(0.5))
	if !near(r.GradChosen, -0.5*s) || !near(r.GradRejected, 0.5*s) {
		t.Errorf("grads %v %v, want %v %v", r.GradChosen, r.GradRejected, -0.5*s, 0.5*s)
	}
	// Finite differences through the chosen and rejected sums.
	h := 1e-6
	up := DPOLoss(-1+h, -2, -1.5, -1.5, 0.5).Loss
	dn := DPOLoss(-1-h, -2, -1.5, -1.5, 0.5).Loss
	if !near((up-dn)/(2*h), r.GradChosen) {
		t.Errorf("fd chosen %v, analytic %v", (up-dn)/(2*h), r.GradChosen)
	}
	up = DPOLoss(-1, -2+h, -1.5, -1.5, 0.5).Loss
	dn = DPOLoss(-1, -2-h, -1.5, -1.5, 0.5).Loss
	if !near((up-dn)/(2*h), r.GradRejected) {
		t.Errorf("fd rejected %v, analytic %v", (up-dn)/(2*h), r.GradRejected)
	}
	// A huge margin must stay finite.
	if big := DPOLoss(0, -1e6, 0, 0, 1); math.IsInf(big.Loss, 0) || math.IsNaN(big.Loss) || big.Loss > 1e-6 {
		t.Errorf("huge margin loss %v", big.Loss)
	}
	if bad := DPOLoss(-1e6, 0, 0, 0, 1); !near(bad.Loss, 1e6) {
		t.Errorf("huge negative margin loss %v, want 1e6", bad.Loss)
	}
}

func TestCrossEntropyValue(t *testing.T) {
	loss, g := CrossEntropy([]float64{-1, -2}, 0.5)
	if !near(loss, 1.5) {
		t.Errorf("ce %v, want 1.5", loss)
	}
	nearAll(t, "ce grad", g, []float64{-0.5, -0.5})
	loss, g = ValueLoss([]float64{1, 2}, []float64{0, 4})
	if !near(loss, 2.5) {
		t.Errorf("value loss %v, want 2.5", loss)
	}
	nearAll(t, "value grad", g, []float64{1, -2})
}

// checkGrad compares an analytic gradient with central finite differences.
func checkGrad(t *testing.T, name string, x []float64, f func([]float64) (float64, []float64)) {
	t.Helper()
	_, g := f(x)
	h := 1e-6
	for i := range x {
		xp := append([]float64(nil), x...)
		xm := append([]float64(nil), x...)
		xp[i] += h
		xm[i] -= h
		lp, _ := f(xp)
		lm, _ := f(xm)
		fd := (lp - lm) / (2 * h)
		if math.Abs(fd-g[i]) > 1e-5 {
			t.Errorf("%s: d/dx[%d] analytic %.7f, finite difference %.7f", name, i, g[i], fd)
		}
	}
}
