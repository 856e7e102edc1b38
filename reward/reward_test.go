package reward

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

func TestCredit(t *testing.T) {
	tests := []struct {
		name        string
		reward      float64
		answer      string
		completions []string
		want        []float64
	}{
		{"voters that agree keep the reward", 1, "Korbel", []string{"korbel", "karbol", "the answer is  KORBEL"}, []float64{1, 0, 1}},
		{"a wrong answer is everyone's", 0, "mist", []string{"mist", "most"}, []float64{0, 0}},
		{"partial credit below the threshold is everyone's", 0.4, "mist", []string{"mist", "most"}, []float64{0.4, 0.4}},
		{"no completion contains the answer", 1, "7", []string{"1"}, []float64{1}},
		{"empty answer", 1, "  ", []string{"a", "b"}, []float64{1, 1}},
		{"no completions", 1, "x", nil, []float64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Credit(tt.reward, tt.answer, tt.completions); !slices.Equal(got, tt.want) {
				t.Errorf("Credit = %v, want %v", got, tt.want)
			}
		})
	}
}

func modelStep(comp string, prompt, ids []int) trajectory.Step {
	return trajectory.Step{Kind: trajectory.KindModel, Completion: comp, PromptTokenIDs: prompt, CompletionTokenIDs: ids, Logprobs: make([]float64, len(ids))}
}

func TestCollect(t *testing.T) {
	p := []int{1, 2, 3}
	rs := []trajectory.Trajectory{
		{Item: "b", Answer: "korbel", Reward: 1, Status: verify.StatusCorrect, Steps: []trajectory.Step{
			modelStep("korbel", p, []int{4, 5}), modelStep("karbol", p, []int{6, 7}), {Kind: trajectory.KindTool, Output: "x"}}},
		{Item: "a", Sample: 1, Answer: "x", Reward: 0, Status: verify.StatusInvalid, Steps: []trajectory.Step{{Kind: trajectory.KindModel, PromptTokenIDs: p}}}, // no completion
		{Item: "a", Answer: "mist", Reward: 0, Status: verify.StatusWrong, Steps: []trajectory.Step{modelStep("mist", p, []int{4}), modelStep("most", p, []int{5})}},
		{Item: "c", Answer: "y", Reward: 1, Steps: []trajectory.Step{modelStep("y", p, make([]int, 40))}}, // too long
		{Item: "d", Answer: "y", Reward: 1, Steps: []trajectory.Step{{Kind: trajectory.KindModel, Completion: "y", PromptTokenIDs: p,
			CompletionTokenIDs: []int{9}, Logprobs: []float64{math.NaN()}}}}, // non-finite logprob
	}
	b := Collect(rs, Options{MaxTokens: 32})
	if b.Trajectories != 5 || b.Items != 4 || b.ModelCalls != 7 || b.NoTokens != 2 || b.TooLong != 1 {
		t.Errorf("counts: %+v", b)
	}
	if len(b.Groups) != 2 || b.Groups[0][0].Item != "a" || b.Groups[1][0].Item != "b" {
		t.Fatalf("groups: %+v", b.Groups)
	}
	want := map[string][]float64{"a": {0, 0}, "b": {1, 0}}
	for _, g := range b.Groups {
		for i, c := range g {
			if c.Reward != want[c.Item][i] || c.Step != i {
				t.Errorf("item %s call %d: reward %v step %d, want %v and %d", c.Item, i, c.Reward, c.Step, want[c.Item][i], i)
			}
		}
	}
	// Failure is per sample: item a's invalid sample 1 has no trainable
	// call; its wrong sample 0 did not fail.
	if b.Groups[0][0].Failed || len(b.Untrainable) != 3 {
		t.Errorf("item a: failed %v; untrainable %+v", b.Groups[0][0].Failed, b.Untrainable)
	}
	ss, err := b.Samples(nil)
	if err != nil {
		t.Fatal(err)
	}
	if st := rl.ComputeStats(ss); st.FailedFrac != 1.0/7 || st.TokenSamples != 4 || st.N != 7 {
		t.Errorf("stats: failed %v tokens %d n %d; want 1/7, 4, 7", st.FailedFrac, st.TokenSamples, st.N)
	}
	if _, err := b.Samples([]float64{1}); err == nil {
		t.Error("a KL slice of the wrong length was accepted")
	}
}

// batch builds one call per reward, item by item; calls of one item share
// a prompt and have distinct completions.
func batch(rewards ...[]float64) Batch {
	var ts []trajectory.Trajectory
	for i, rs := range rewards {
		for k, r := range rs {
			ts = append(ts, trajectory.Trajectory{Item: fmt.Sprintf("i%02d", i), Sample: k, Reward: r,
				Steps: []trajectory.Step{modelStep("", []int{1, i}, []int{10 + k})}})
		}
	}
	return Collect(ts, Options{})
}

func TestPlanUnits(t *testing.T) {
	tests := []struct {
		name  string
		b     Batch
		units map[rl.Algorithm]int
	}{
		{"one sample per item", batch([]float64{0}, []float64{1}, []float64{0}),
			map[rl.Algorithm]int{rl.Entropic: 0, rl.GRPO: 0, rl.DPO: 0, rl.BestOfN: 1, rl.PPO: 3, rl.ReinforceKL: 3}},
		{"spread on one item of two", batch([]float64{1, 0, 0}, []float64{1, 1, 1}),
			map[rl.Algorithm]int{rl.Entropic: 3, rl.GRPO: 3, rl.DPO: 1, rl.BestOfN: 4, rl.PPO: 6, rl.ReinforceKL: 3}},
		{"nothing reaches the floor", batch([]float64{0.1, 0.3}, []float64{0.2, 0.1}),
			map[rl.Algorithm]int{rl.BestOfN: 0, rl.PPO: 4, rl.GRPO: 4, rl.DPO: 2}},
		{"constant rewards", batch([]float64{1, 1}, []float64{1}),
			map[rl.Algorithm]int{rl.PPO: 0, rl.GRPO: 0, rl.Entropic: 0, rl.ReinforceKL: 0, rl.DPO: 0, rl.BestOfN: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for alg, want := range tt.units {
				if got := tt.b.Plan(alg, Params{}).Units; got != want {
					t.Errorf("%s: %d units, want %d", alg, got, want)
				}
			}
		})
	}
}

func TestPlanAdvantages(t *testing.T) {
	b := batch([]float64{1, 0}, []float64{0.5})
	grpo := b.Plan(rl.GRPO, Params{})
	s := 0.5 / (0.5 + rl.GroupEps)
	if math.Abs(grpo.Advantage[0][0]-s) > 1e-9 || math.Abs(grpo.Advantage[0][1]+s) > 1e-9 || grpo.Advantage[1][0] != 0 {
		t.Errorf("grpo advantages %v", grpo.Advantage)
	}
	rk := b.Plan(rl.ReinforceKL, Params{})
	// Leave-one-out within item 0; the lone call of item 1 against the batch mean 0.5.
	if rk.Advantage[0][0] != 1 || rk.Advantage[0][1] != -1 || rk.Advantage[1][0] != 0 {
		t.Errorf("reinforce_kl advantages %v", rk.Advantage)
	}
	bon := b.Plan(rl.BestOfN, Params{})
	if bon.Weight[0][0] != 1 || bon.Weight[0][1] != 0 || bon.Weight[1][0] != 1 || bon.Units != 2 {
		t.Errorf("best_of_n weights %v (%d units)", bon.Weight, bon.Units)
	}
	dpo := b.Plan(rl.DPO, Params{})
	if len(dpo.Pairs) != 1 || dpo.Pairs[0] != (Pair{Group: 0, Chosen: 0, Rejected: 1}) {
		t.Errorf("dpo pairs %+v", dpo.Pairs)
	}
}

func TestPairs(t *testing.T) {
	mk := func(r float64, c int, prompt ...int) Call {
		return Call{Reward: r, Completion: []int{c}, Prompt: prompt}
	}
	g := []Call{mk(0, 1, 9), mk(1, 2, 9), mk(0, 3, 9), mk(1, 2, 9), mk(1, 5, 8), mk(0, 6, 8), mk(0, 7, 7)}
	ps := pairs(g)
	// Prompt 9: two good (2, 2) vs two bad (1, 3) → two pairs; prompt 8: one; prompt 7: none.
	if len(ps) != 3 {
		t.Fatalf("%d pairs, want 3", len(ps))
	}
	for _, p := range ps {
		c, r := g[p[0]], g[p[1]]
		if c.Reward <= r.Reward || c.Prompt[0] != r.Prompt[0] {
			t.Errorf("bad pair %+v / %+v", c, r)
		}
	}
}

// TestSelectOnBatches: with the units of real batches, the rule table
// never picks an algorithm that would train nothing.
func TestSelectOnBatches(t *testing.T) {
	failing := batch([]float64{0}, []float64{0}, []float64{1}, []float64{0})
	for gi := range failing.Groups {
		for i := range failing.Groups[gi] {
			c := &failing.Groups[gi][i]
			c.Failed = c.Reward == 0
		}
	}
	lowTail := batch([]float64{0.1}, []float64{0.1}, []float64{0.12}, []float64{0.1}, []float64{0.1}, []float64{0.1}, []float64{0.1}, []float64{0.1}, []float64{0.1}, []float64{0.45})
	tests := []struct {
		name string
		b    Batch
		not  rl.Algorithm
	}{
		{"entropic with one sample per item", failing, rl.Entropic},
		{"best_of_n with no sample over the floor", lowTail, rl.BestOfN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.b.Stats(Params{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, why := rl.Select(s)
			if got == tt.not || got == "" || s.Units.Of(got) == 0 {
				t.Errorf("Select = %q (%s), units %v", got, why, s.Units)
			}
		})
	}
}
