package rl

import (
	"strings"
	"testing"
)

func TestComputeStats(t *testing.T) {
	samples := []Sample{
		{Item: "a", Reward: 1, HasTokens: true, KL: 0.1},
		{Item: "a", Reward: 0, HasTokens: true, KL: 0.1},
		{Item: "b", Reward: 1, HasTokens: true, KL: 0.1},
		{Item: "b", Reward: 1, HasTokens: true, KL: 0.1},
		{Item: "c", Reward: 0, Failed: true, HasTokens: true, KL: 0.1},
		{Item: "c", Reward: 0, KL: 5}, // no tokens: its KL is not counted
	}
	s := ComputeStats(samples)
	checks := []struct {
		name      string
		got, want float64
	}{
		{"n", float64(s.N), 6},
		{"items", float64(s.Items), 3},
		{"samples/item", s.SamplesPerItem, 2},
		{"success", s.SuccessRate, 0.5},
		{"mean", s.Mean, 0.5},
		{"variance", s.Variance, 0.25},
		{"within", s.WithinItemVar, 0.25 / 3},
		{"mixed", s.MixedItems, 1.0 / 3},
		{"gap", s.PairGap, 1},
		{"failed", s.FailedFrac, 1.0 / 6},
		{"skew", s.Skewness, 0},
		{"kl", s.KLToBase, 0.1},
		{"tokens", float64(s.TokenSamples), 5},
	}
	for _, c := range checks {
		if !near(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if !s.Binary || s.HeavyTail {
		t.Errorf("binary=%v heavy=%v, want true false", s.Binary, s.HeavyTail)
	}
	if z := ComputeStats(nil); z != (Stats{}) {
		t.Errorf("empty input: %+v, want zero", z)
	}
}

func TestHeavyTail(t *testing.T) {
	var ss []Sample
	for i := range 10 {
		r := 0.0
		if i == 9 {
			r = 0.9
		}
		ss = append(ss, Sample{Item: string(rune('a' + i)), Reward: r})
	}
	s := ComputeStats(ss)
	if s.Binary || !s.HeavyTail || !near(s.Skewness, 8.0/3) {
		t.Errorf("binary=%v heavy=%v skew=%v, want false true 2.6667", s.Binary, s.HeavyTail, s.Skewness)
	}
	// A rare-success binary reward is just as skewed but not "heavy-tailed".
	for i := range ss {
		if ss[i].Reward > 0 {
			ss[i].Reward = 1
		}
	}
	if s := ComputeStats(ss); !s.Binary || s.HeavyTail {
		t.Errorf("binary rare success: binary=%v heavy=%v", s.Binary, s.HeavyTail)
	}
}

// group builds k samples for each of the given per-item reward lists.
func group(rewards ...[]float64) []Sample {
	var out []Sample
	for i, rs := range rewards {
		for _, r := range rs {
			out = append(out, Sample{Item: string(rune('a' + i)), Reward: r, HasTokens: true})
		}
	}
	return out
}

func TestSelect(t *testing.T) {
	drift := group([]float64{1, 0}, []float64{0, 1})
	for i := range drift {
		drift[i].KL = 0.5
	}
	failing := group([]float64{0, 0}, []float64{0, 1}, []float64{0, 0})
	for i := range failing {
		if failing[i].Reward == 0 {
			failing[i].Failed = true
		}
	}
	noTokens := group([]float64{1}, []float64{0})
	for i := range noTokens {
		noTokens[i].HasTokens = false
	}
	tests := []struct {
		name    string
		samples []Sample
		want    Algorithm
		reason  string
	}{
		{"drift from base", drift, ReinforceKL, "KL"},
		{"most rollouts failing", failing, Entropic, "failed"},
		{"rare reliable successes", group([]float64{0, 0, 0, 0}, []float64{1, 1, 0, 0}, []float64{0, 0, 0, 0}), BestOfN, "rare"},
		{"heavy tail", group([]float64{0.1}, []float64{0.1}, []float64{0.12}, []float64{0.1}, []float64{0.1}, []float64{0.1}, []float64{0.1}, []float64{0.1}, []float64{0.1}, []float64{0.45}), BestOfN, "heavy"},
		{"K samples with spread", group([]float64{1, 0, 1, 0}, []float64{1, 1, 0, 1}, []float64{0, 1, 0, 0}), GRPO, "GRPO"},
		{"clear pairs on few items", group([]float64{1, 0}, []float64{1, 1}, []float64{1, 1}, []float64{0, 0}, []float64{1, 1}), DPO, "DPO"},
		{"clean outcome scalar", group([]float64{1}, []float64{0}, []float64{1}, []float64{1}), PPO, "PPO"},
		{"K samples, no spread", group([]float64{1, 1}, []float64{0, 0}, []float64{1, 1}), PPO, "PPO"},
		{"no samples", nil, "", "no samples"},
		{"no token ids", noTokens, "", "no sample carries token ids"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := Select(ComputeStats(tt.samples))
			if got != tt.want {
				t.Errorf("Select = %s (%s), want %s", got, why, tt.want)
			}
			if !strings.Contains(why, tt.reason) {
				t.Errorf("reason %q does not mention %q", why, tt.reason)
			}
		})
	}
}

func TestParseAlgorithm(t *testing.T) {
	for _, a := range Algorithms {
		got, err := ParseAlgorithm(string(a))
		if err != nil || got != a {
			t.Errorf("ParseAlgorithm(%q) = %v, %v", a, got, err)
		}
	}
	if _, err := ParseAlgorithm("sft"); err == nil {
		t.Error("ParseAlgorithm(sft) gave no error")
	}
}
