package trainset

import (
	"errors"
	"math"
	"testing"

	"github.com/sia-agent/sia/reward"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/train"
	"github.com/sia-agent/sia/trajectory"
)

func traj(item string, sample int, reward float64, prompt, completion []int, version int) trajectory.Trajectory {
	lp := make([]float64, len(completion))
	for i := range lp {
		lp[i] = -0.1 * float64(i+1)
	}
	return trajectory.Trajectory{Item: item, Sample: sample, Reward: reward, Steps: []trajectory.Step{
		{Kind: trajectory.KindLog, Text: "x"},
		{Kind: trajectory.KindModel, PromptTokenIDs: prompt, CompletionTokenIDs: completion, Logprobs: lp, AdapterVersion: version},
	}}
}

func TestBuildAdvantages(t *testing.T) {
	ts := []trajectory.Trajectory{
		traj("b", 1, 0, []int{1, 2}, []int{5}, 0),
		traj("a", 0, 1, []int{1, 2}, []int{3, 4}, 0),
		traj("a", 1, 0, []int{1, 2}, []int{6, 7}, 0),
		traj("b", 0, 0, []int{1, 2}, []int{8}, 3),
		{Item: "c", Reward: 1}, // no model step: untrainable
	}
	tests := []struct {
		alg     rl.Algorithm
		wantAdv map[string]float64 // item/sample → advantage
		nEx     int
	}{
		// Item b's samples agree: zero advantage, no training unit (but
		// reinforce_kl's KL penalty still trains on them).
		{rl.GRPO, map[string]float64{"a0": 1, "a1": -1}, 2},
		{rl.ReinforceKL, map[string]float64{"a0": 1, "a1": -1, "b0": 0, "b1": 0}, 4},
		{rl.BestOfN, map[string]float64{"a0": 1}, 1},
		{rl.PPO, map[string]float64{"a0": 0, "a1": 0, "b0": 0, "b1": 0}, 4},
	}
	for _, tc := range tests {
		t.Run(string(tc.alg), func(t *testing.T) {
			s, err := Build(ts, tc.alg, reward.Params{})
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Examples) != tc.nEx || s.Untrainable != 1 || s.Items != 3 || s.Samples != 5 {
				t.Fatalf("%v", s)
			}
			for _, e := range s.Examples {
				key := e.Item + string(rune('0'+e.Sample))
				if _, ok := tc.wantAdv[key]; !ok {
					t.Errorf("%s is not a training unit of %s", key, tc.alg)
				}
				if math.Abs(e.Advantage-tc.wantAdv[key]) > 1e-4 {
					t.Errorf("%s advantage %g, want %g", key, e.Advantage, tc.wantAdv[key])
				}
			}
			if s.Examples[0].Item != "a" || s.Examples[0].Sample != 0 {
				t.Errorf("order: first is %s/%d", s.Examples[0].Item, s.Examples[0].Sample)
			}
		})
	}
	// Reference logprobs only where the base sampled.
	s, _ := Build(ts, rl.GRPO, reward.Params{})
	for _, e := range s.Examples {
		if (e.AdapterVersion == 0) != (e.RefLogprobs != nil) {
			t.Errorf("%s/%d v%d ref=%v", e.Item, e.Sample, e.AdapterVersion, e.RefLogprobs)
		}
	}
}

func TestBuildDPOPairs(t *testing.T) {
	ts := []trajectory.Trajectory{
		traj("a", 0, 0.2, []int{1, 2}, []int{3}, 0),
		traj("a", 1, 0.9, []int{1, 2}, []int{4, 5}, 0),
		traj("b", 0, 1, []int{1}, []int{3}, 0), // no spread
		traj("b", 1, 1, []int{1}, []int{4}, 0),
		traj("c", 0, 1, []int{9}, []int{3}, 0), // prompts differ
		traj("c", 1, 0, []int{8}, []int{4}, 0),
	}
	s, err := Build(ts, rl.DPO, reward.Params{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Pairs) != 1 || len(s.Examples) != 0 {
		t.Fatalf("pairs %+v", s.Pairs)
	}
	p := s.Pairs[0]
	if p.Item != "a" || p.Chosen[0] != 4 || p.Rejected[0] != 3 || p.ChosenReward != 0.9 || len(p.ChosenLogprobs) != 2 {
		t.Errorf("pair %+v", p)
	}
}

func TestBuildErrors(t *testing.T) {
	if _, err := Build([]trajectory.Trajectory{{Item: "a"}}, rl.GRPO, reward.Params{}); !errors.Is(err, ErrNoTokens) {
		t.Errorf("no tokens: %v", err)
	}
	if _, err := Build(nil, "sgd", reward.Params{}); err == nil {
		t.Error("unknown algorithm accepted")
	}
	same := []trajectory.Trajectory{traj("a", 0, 1, []int{1}, []int{2}, 0), traj("a", 1, 1, []int{1}, []int{3}, 0)}
	if _, err := Build(same, rl.GRPO, reward.Params{}); !errors.Is(err, train.ErrNothingToTrain) {
		t.Errorf("no spread: %v, want train.ErrNothingToTrain", err)
	}
	bad := traj("a", 0, 1, []int{1}, []int{2, 3}, 0)
	bad.Steps[1].Logprobs = bad.Steps[1].Logprobs[:1] // length mismatch
	if _, err := Build([]trajectory.Trajectory{bad}, rl.GRPO, reward.Params{}); !errors.Is(err, ErrNoTokens) {
		t.Errorf("mismatched logprobs: %v", err)
	}
}
