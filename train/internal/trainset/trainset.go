// Package trainset turns a generation's trajectories into the examples a
// remote trainer learns from: one example per sampled model call that
// carries prompt and completion token ids and sampling logprobs and is a
// training unit of the chosen algorithm, with the reward and advantage
// package reward credits it with, plus preference pairs for DPO. It is
// shared by train/tinker and train/command so both backends see the same
// data, which is also what the loop's reward statistics describe.
package trainset

import (
	"errors"
	"fmt"

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/reward"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/train"
	"github.com/sia-agent/sia/trajectory"
)

// Example is one sampled completion to train on.
type Example struct {
	Item   string `json:"item"`
	Sample int    `json:"sample"`
	Step   int    `json:"step"` // index among the sample's model calls
	// Prompt and Completion are token ids exactly as sampled.
	Prompt     []int `json:"prompt_token_ids"`
	Completion []int `json:"completion_token_ids"`
	// Logprobs are the sampling logprobs of Completion, one per token.
	Logprobs []float64 `json:"logprobs"`
	// RefLogprobs are the base model's logprobs of Completion; set only when
	// the sample came from the base itself (adapter version 0), where the
	// sampling logprobs are the reference logprobs.
	RefLogprobs []float64 `json:"ref_logprobs,omitempty"`
	// Reward is the reward credited to this call (package reward's
	// agreement rule), the one the loop's statistics count.
	Reward float64 `json:"reward"`
	// Advantage is the call's advantage under the algorithm (0 for PPO,
	// whose advantages come from the trainer's critic).
	Advantage float64 `json:"advantage"`
	// Weight is the cross-entropy weight for best-of-N cloning (1 for the
	// cloned samples); 0 otherwise.
	Weight         float64       `json:"weight,omitempty"`
	AdapterVersion int           `json:"adapter_version"`
	Messages       []llm.Message `json:"messages,omitempty"`
	CompletionText string        `json:"completion,omitempty"`
}

// Pair is a DPO preference: two completions of the same prompt.
type Pair struct {
	Item             string    `json:"item"`
	Prompt           []int     `json:"prompt_token_ids"`
	Chosen           []int     `json:"chosen_token_ids"`
	Rejected         []int     `json:"rejected_token_ids"`
	ChosenLogprobs   []float64 `json:"chosen_logprobs"`
	RejectedLogprobs []float64 `json:"rejected_logprobs"`
	ChosenReward     float64   `json:"chosen_reward"`
	RejectedReward   float64   `json:"rejected_reward"`
	// Text forms, for trainers that tokenize themselves (TRL's DPOTrainer).
	Messages       []llm.Message `json:"messages,omitempty"`
	ChosenText     string        `json:"chosen,omitempty"`
	RejectedText   string        `json:"rejected,omitempty"`
	AdapterVersion int           `json:"adapter_version"`
}

// Set is the training data of one generation.
type Set struct {
	Algorithm rl.Algorithm
	Examples  []Example
	Pairs     []Pair
	Samples   int // trajectories read
	Items     int // distinct items
	// Untrainable counts samples with no model call carrying token ids and
	// logprobs (for example an Anthropic-served harness).
	Untrainable int
}

// ErrNoTokens is returned when no trajectory carries token ids and
// sampling logprobs: no remote trainer can learn from such rollouts.
var ErrNoTokens = errors.New("no rollout carries token ids and sampling logprobs (serve the task model through a backend that returns them, e.g. vLLM with logprobs)")

// Build reads trajectories through package reward — the same trainable
// calls, credited rewards and advantages the loop's statistics and the
// embedded trainer use — and collects the examples the algorithm trains on
// (the plan's units) or, for DPO, its pairs. Calls come in (item, sample,
// step) order, so the result does not depend on the order rollouts
// finished in. An algorithm with no unit gives train.ErrNothingToTrain.
func Build(trajs []trajectory.Trajectory, alg rl.Algorithm, p reward.Params) (*Set, error) {
	if _, err := rl.ParseAlgorithm(string(alg)); err != nil {
		return nil, err
	}
	b := reward.Collect(trajs, reward.Options{})
	set := &Set{Algorithm: alg, Samples: b.Trajectories, Items: b.Items, Untrainable: len(b.Untrainable)}
	if len(b.Groups) == 0 {
		return nil, ErrNoTokens
	}
	plan := b.Plan(alg, p)
	if plan.Units == 0 {
		return nil, fmt.Errorf("%s: %w (%s)", alg, train.ErrNothingToTrain, set)
	}
	for gi, g := range b.Groups {
		for i, c := range g {
			if alg == rl.DPO || !plan.Trains(gi, i) {
				continue
			}
			e := exampleOf(c)
			e.Advantage, e.Weight = plan.Advantage[gi][i], plan.Weight[gi][i]
			set.Examples = append(set.Examples, e)
		}
	}
	for _, pr := range plan.Pairs {
		c, r := b.Groups[pr.Group][pr.Chosen], b.Groups[pr.Group][pr.Rejected]
		set.Pairs = append(set.Pairs, Pair{
			Item: c.Item, Prompt: c.Prompt,
			Chosen: c.Completion, Rejected: r.Completion,
			ChosenLogprobs: c.Logprobs, RejectedLogprobs: r.Logprobs,
			ChosenReward: c.Reward, RejectedReward: r.Reward,
			Messages: c.Messages, ChosenText: c.Text, RejectedText: r.Text,
			AdapterVersion: c.AdapterVersion,
		})
	}
	return set, nil
}

func exampleOf(c reward.Call) Example {
	e := Example{
		Item: c.Item, Sample: c.Sample, Step: c.Step,
		Prompt: c.Prompt, Completion: c.Completion, Logprobs: c.Logprobs,
		Reward: c.Reward, AdapterVersion: c.AdapterVersion,
		Messages: c.Messages, CompletionText: c.Text,
	}
	if c.AdapterVersion == 0 {
		e.RefLogprobs = c.Logprobs // sampled from the base: the reference logprobs
	}
	return e
}

// String summarises the set for logs.
func (s *Set) String() string {
	return fmt.Sprintf("%s: %d examples, %d pairs from %d samples over %d items (%d untrainable)",
		s.Algorithm, len(s.Examples), len(s.Pairs), s.Samples, s.Items, s.Untrainable)
}
