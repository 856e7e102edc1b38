package tinker

import (
	"math"
	"testing"

	"github.com/sia-agent/sia/reward"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/train"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

// TestAdvantagesFollowTheLoopsRewards: the GRPO advantages sent to the
// service are the group-normalised per-call rewards the loop's reward
// statistics count (reward.Batch.Samples), including the 0 the agreement
// rule credits a vote that disagreed with a correct answer.
func TestAdvantagesFollowTheLoopsRewards(t *testing.T) {
	vote := func(k int, text string) trajectory.Step {
		return trajectory.Step{Kind: trajectory.KindModel, Completion: text, PromptTokenIDs: []int{1, 2},
			CompletionTokenIDs: []int{10 + k, int(text[0])}, Logprobs: []float64{-0.5, -0.25}}
	}
	rs := []trajectory.Trajectory{
		{Item: "a", Sample: 0, Answer: "korbel", Reward: 1, Status: verify.StatusCorrect, Steps: []trajectory.Step{vote(0, "korbel"), vote(1, "karbol")}},
		{Item: "a", Sample: 1, Answer: "mist", Reward: 0, Status: verify.StatusWrong, Steps: []trajectory.Step{vote(0, "mist"), vote(1, "mist")}},
	}
	b := reward.Collect(rs, reward.Options{})
	ss, err := b.Samples(nil)
	if err != nil {
		t.Fatal(err)
	}
	var rewards []float64
	for _, s := range ss {
		rewards = append(rewards, s.Reward)
	}
	want := rl.GroupNormalize(rewards) // one item: one group
	f := newFake(t)
	cfg := testConfig(f)
	cfg.SkipDownload = true
	tr, _ := New(t.Context(), cfg)
	if _, err := tr.Train(t.Context(), train.Request{Algorithm: rl.GRPO, Rollouts: rs, Version: 1, OutDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	fb := f.routeCalls("forward_backward")[0].Body["forward_backward_input"].(map[string]any)
	data := fb["data"].([]any)
	if len(data) != len(want) {
		t.Fatalf("%d datums, want %d (rewards %v)", len(data), len(want), rewards)
	}
	for i, d := range data {
		adv := d.(map[string]any)["loss_fn_inputs"].(map[string]any)["advantages"].(map[string]any)["data"].([]any)
		got := adv[len(adv)-1].(float64)
		if math.Abs(got-want[i]) > 1e-6 {
			t.Errorf("datum %d: advantage %v, want %v (from the loop's rewards %v)", i, got, want[i], rewards)
		}
	}
	if rewards[1] != 0 {
		t.Errorf("the disagreeing vote is credited %v, want 0", rewards[1])
	}
}
