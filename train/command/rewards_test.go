package command

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sia-agent/sia/reward"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/train"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

// votingRollouts: each sample asks the model three times and votes; a vote
// that disagrees with a correct answer is credited 0.
func votingRollouts() []trajectory.Trajectory {
	vote := func(k int, text string) trajectory.Step {
		return trajectory.Step{Kind: trajectory.KindModel, Completion: text, PromptTokenIDs: []int{1, 2},
			CompletionTokenIDs: []int{10 + k, int(text[0])}, Logprobs: []float64{-0.5, -0.25}}
	}
	mk := func(item string, sample int, answer string, r float64, votes ...string) trajectory.Trajectory {
		t := trajectory.Trajectory{Item: item, Sample: sample, Answer: answer, Reward: r, Status: verify.StatusWrong}
		if r == 1 {
			t.Status = verify.StatusCorrect
		}
		for k, v := range votes {
			t.Steps = append(t.Steps, vote(k, v))
		}
		return t
	}
	return []trajectory.Trajectory{
		mk("a", 0, "korbel", 1, "korbel", "karbol", "korbel"),
		mk("a", 1, "mist", 0, "mist", "most", "mist"),
		mk("b", 0, "yew", 1, "yew", "yaw", "yew"),
		mk("b", 1, "yaw", 0, "yaw", "yaw", "yew"),
	}
}

// TestDataCarriesTheLoopsRewards: the per-call rewards the command trainer
// writes to data.jsonl are the ones the loop's reward statistics count
// (reward.Batch.Samples, what loop feeds rl.ComputeStats), including the 0
// the agreement rule credits a vote that disagreed with a correct answer.
func TestDataCarriesTheLoopsRewards(t *testing.T) {
	rs := votingRollouts()
	b := reward.Collect(rs, reward.Options{})
	ss, err := b.Samples(nil)
	if err != nil {
		t.Fatal(err)
	}
	var loop []float64
	for _, s := range ss {
		if s.HasTokens {
			loop = append(loop, s.Reward)
		}
	}
	tr, _ := newTrainer(t, script(t, writeAdapterSh(32)), nil)
	gen := t.TempDir()
	if _, err := tr.Train(t.Context(), train.Request{Algorithm: rl.PPO, Rollouts: rs, Version: 1,
		OutDir: filepath.Join(gen, "adapter")}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(gen, "trainer", "data.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var sent []float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line struct {
			Type   string  `json:"type"`
			Reward float64 `json:"reward"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		if line.Type == "sample" {
			sent = append(sent, line.Reward)
		}
	}
	if !slices.Equal(sent, loop) {
		t.Errorf("data.jsonl rewards %v, the loop's statistics count %v", sent, loop)
	}
	// a/0's second vote disagreed with the correct "korbel".
	if want := []float64{1, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0}; !slices.Equal(loop, want) {
		t.Errorf("credited rewards %v, want %v", loop, want)
	}
}
