// Package trainset turns a generation's trajectories into the examples a
// remote trainer learns from: one example per sampled model call that
// carries prompt and completion token ids and sampling logprobs, with the
// sample's advantage computed by the rl package for the chosen algorithm,
// plus best-vs-worst pairs for DPO. It is shared by train/tinker and
// train/command so both backends see the same data.
package trainset

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/trajectory"
)

// Options tune the advantage estimators. Zero values take the defaults.
type Options struct {
	// EntropicBeta is β in weights ∝ exp(β·r). Default 5.
	EntropicBeta float64
	// MinReward is the reward best-of-N's top samples must reach.
	// Default rl.SuccessThreshold.
	MinReward float64
}

func (o *Options) applyDefaults() {
	if o.EntropicBeta == 0 {
		o.EntropicBeta = 5
	}
	if o.MinReward == 0 {
		o.MinReward = rl.SuccessThreshold
	}
}

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
	Reward      float64   `json:"reward"`
	// Advantage is the sample's advantage under the algorithm (0 for PPO,
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

// Build groups trajectories by item, computes advantages for alg and
// collects the trainable examples (and pairs, for DPO). Trajectories are
// taken in (item, sample) order so the result does not depend on the order
// rollouts finished in.
func Build(trajs []trajectory.Trajectory, alg rl.Algorithm, opts Options) (*Set, error) {
	opts.applyDefaults()
	if _, err := rl.ParseAlgorithm(string(alg)); err != nil {
		return nil, err
	}
	ts := slices.Clone(trajs)
	sort.SliceStable(ts, func(i, j int) bool {
		if ts[i].Item != ts[j].Item {
			return ts[i].Item < ts[j].Item
		}
		return ts[i].Sample < ts[j].Sample
	})
	set := &Set{Algorithm: alg, Samples: len(ts)}
	var groups [][]trajectory.Trajectory
	for i := 0; i < len(ts); {
		j := i
		for j < len(ts) && ts[j].Item == ts[i].Item {
			j++
		}
		groups = append(groups, ts[i:j])
		i = j
	}
	set.Items = len(groups)
	batchMean := 0.0
	for _, t := range ts {
		batchMean += t.Reward
	}
	if len(ts) > 0 {
		batchMean /= float64(len(ts))
	}
	for _, g := range groups {
		rewards := make([]float64, len(g))
		for i, t := range g {
			rewards[i] = t.Reward
		}
		adv, weight := advantages(alg, rewards, batchMean, opts)
		perSample := make([][]Example, len(g))
		for i, t := range g {
			perSample[i] = examples(t)
			if len(perSample[i]) == 0 {
				set.Untrainable++
			}
			for k := range perSample[i] {
				perSample[i][k].Advantage = adv[i]
				perSample[i][k].Weight = weight[i]
			}
		}
		if alg == rl.DPO {
			if p, ok := pair(g, rewards, perSample); ok {
				set.Pairs = append(set.Pairs, p)
			}
			continue
		}
		for i := range g {
			if alg == rl.BestOfN && weight[i] == 0 {
				continue
			}
			set.Examples = append(set.Examples, perSample[i]...)
		}
	}
	if set.Untrainable == set.Samples {
		return nil, ErrNoTokens
	}
	return set, nil
}

// advantages returns per-sample advantages and cross-entropy weights for one
// item's rewards.
func advantages(alg rl.Algorithm, rewards []float64, batchMean float64, o Options) (adv, weight []float64) {
	weight = make([]float64, len(rewards))
	switch alg {
	case rl.GRPO:
		adv = rl.GroupNormalize(rewards)
	case rl.Entropic:
		adv = rl.EntropicAdvantages(rewards, o.EntropicBeta)
	case rl.ReinforceKL:
		base := rl.LeaveOneOutBaseline(rewards)
		if len(rewards) < 2 {
			// One sample per item: the batch mean is the only baseline.
			base = []float64{batchMean}
		}
		adv = rl.ReinforceAdvantages(rewards, base)
	case rl.BestOfN:
		adv = make([]float64, len(rewards))
		for _, i := range rl.TopSamples(rewards, o.MinReward) {
			adv[i], weight[i] = 1, 1
		}
	default: // PPO (critic-side advantages) and DPO (pairs) carry none here
		adv = make([]float64, len(rewards))
	}
	return adv, weight
}

// examples extracts the trainable model calls of one sample.
func examples(t trajectory.Trajectory) []Example {
	var out []Example
	for k, s := range t.ModelSteps() {
		if len(s.PromptTokenIDs) == 0 || len(s.CompletionTokenIDs) == 0 || len(s.Logprobs) != len(s.CompletionTokenIDs) {
			continue
		}
		if !finite(s.Logprobs) {
			continue
		}
		e := Example{
			Item: t.Item, Sample: t.Sample, Step: k,
			Prompt: s.PromptTokenIDs, Completion: s.CompletionTokenIDs, Logprobs: s.Logprobs,
			Reward: t.Reward, AdapterVersion: s.AdapterVersion,
			Messages: s.Messages, CompletionText: s.Completion,
		}
		if s.AdapterVersion == 0 {
			e.RefLogprobs = s.Logprobs
		}
		out = append(out, e)
	}
	return out
}

func finite(x []float64) bool {
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// pair builds the best-vs-worst DPO pair of one item from the first
// trainable call of each sample; both must share the prompt tokens.
func pair(g []trajectory.Trajectory, rewards []float64, per [][]Example) (Pair, bool) {
	// Only samples with a trainable call compete.
	var idx []int
	var rs []float64
	for i := range g {
		if len(per[i]) > 0 {
			idx = append(idx, i)
			rs = append(rs, rewards[i])
		}
	}
	b, w, ok := rl.BestWorst(rs)
	if !ok {
		return Pair{}, false
	}
	c, r := per[idx[b]][0], per[idx[w]][0]
	if !slices.Equal(c.Prompt, r.Prompt) {
		return Pair{}, false
	}
	return Pair{
		Item: c.Item, Prompt: c.Prompt,
		Chosen: c.Completion, Rejected: r.Completion,
		ChosenLogprobs: c.Logprobs, RejectedLogprobs: r.Logprobs,
		ChosenReward: c.Reward, RejectedReward: r.Reward,
		Messages: c.Messages, ChosenText: c.CompletionText, RejectedText: r.CompletionText,
		AdapterVersion: c.AdapterVersion,
	}, true
}

// String summarises the set for logs.
func (s *Set) String() string {
	return fmt.Sprintf("%s: %d examples, %d pairs from %d samples over %d items (%d untrainable)",
		s.Algorithm, len(s.Examples), len(s.Pairs), s.Samples, s.Items, s.Untrainable)
}
