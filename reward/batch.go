package reward

import (
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

// Options say which model calls a trainer can learn from.
type Options struct {
	// MaxTokens is the longest prompt plus completion, in tokens, the
	// trainer takes (the embedded model's context); longer calls are left
	// out. 0 means no limit.
	MaxTokens int
}

// Call is one sampled model call a trainer can learn from: token ids and
// sampling logprobs exactly as sampled, and the reward credited to it.
type Call struct {
	Item   string
	Sample int // the trajectory's sample index
	Step   int // index among the trajectory's model calls
	// Prompt and Completion are the token ids as sampled; Logprobs are the
	// sampling logprobs of Completion, one per token.
	Prompt, Completion []int
	Logprobs           []float64
	AdapterVersion     int
	Messages           []llm.Message
	Text               string // the completion's text
	// Reward is the reward credited to this call (see Credit).
	Reward float64
	// Failed is true when the call's sample got verifier status error,
	// invalid or missing: no usable answer at all, as opposed to a wrong one.
	Failed bool
}

// Batch is a generation's rollouts as the reward rules see them.
type Batch struct {
	// Groups holds the trainable calls by item: items in id order, calls in
	// (sample, step) order, so nothing depends on the order rollouts
	// finished in. Items with no trainable call have no group.
	Groups [][]Call
	// Untrainable holds one rl.Sample (without tokens) per sample none of
	// whose model calls a trainer can learn from.
	Untrainable  []rl.Sample
	Trajectories int // trajectories read
	Items        int // distinct items, trainable or not
	ModelCalls   int // model calls read
	NoTokens     int // calls without prompt and completion ids and finite logprobs
	TooLong      int // calls longer than Options.MaxTokens
}

// Collect reads trajectories (verified: Reward and Status set) into a
// Batch: each model call that carries prompt and completion token ids with
// one finite sampling logprob per completion token, and fits MaxTokens,
// becomes a Call with its credited reward.
func Collect(trajs []trajectory.Trajectory, opts Options) Batch {
	ts := slices.Clone(trajs)
	sort.SliceStable(ts, func(i, j int) bool {
		if ts[i].Item != ts[j].Item {
			return ts[i].Item < ts[j].Item
		}
		return ts[i].Sample < ts[j].Sample
	})
	var b Batch
	b.Trajectories = len(ts)
	for i := range ts {
		t := &ts[i]
		newItem := i == 0 || ts[i-1].Item != t.Item
		if newItem {
			b.Items++
		}
		failed := Failed(t.Status)
		steps := t.ModelSteps()
		completions := make([]string, len(steps))
		for k, s := range steps {
			completions[k] = s.Completion
		}
		credited := Credit(t.Reward, t.Answer, completions)
		var calls []Call
		for k, s := range steps {
			b.ModelCalls++
			if !trainable(s) {
				b.NoTokens++
				continue
			}
			if opts.MaxTokens > 0 && len(s.PromptTokenIDs)+len(s.CompletionTokenIDs) > opts.MaxTokens {
				b.TooLong++
				continue
			}
			calls = append(calls, Call{
				Item: t.Item, Sample: t.Sample, Step: k,
				Prompt: s.PromptTokenIDs, Completion: s.CompletionTokenIDs, Logprobs: s.Logprobs,
				AdapterVersion: s.AdapterVersion, Messages: s.Messages, Text: s.Completion,
				Reward: credited[k], Failed: failed,
			})
		}
		if len(calls) == 0 {
			b.Untrainable = append(b.Untrainable, rl.Sample{Item: t.Item, Reward: t.Reward, Failed: failed})
			continue
		}
		if n := len(b.Groups); n > 0 && b.Groups[n-1][0].Item == t.Item {
			b.Groups[n-1] = append(b.Groups[n-1], calls...)
		} else {
			b.Groups = append(b.Groups, calls)
		}
	}
	return b
}

// Calls returns the trainable calls in group order.
func (b *Batch) Calls() []Call {
	var out []Call
	for _, g := range b.Groups {
		out = append(out, g...)
	}
	return out
}

// Failed reports whether a verifier status means the sample produced no
// usable answer at all (error, invalid, missing).
func Failed(status string) bool {
	switch status {
	case verify.StatusError, verify.StatusInvalid, verify.StatusMissing:
		return true
	}
	return false
}

// Credit returns the reward each of a sample's model-call completions earns
// when the sample's final answer earned reward: the "agreement" rule. A
// correct answer (reward ≥ rl.SuccessThreshold) belongs to the completions
// that contain it (compared after verify.Fold); a completion that does not
// contain it disagreed with the correct answer and gets 0 — a harness that
// votes over n completions teaches only the ones that voted for the answer.
// When no completion contains the answer (the harness computed it from the
// model's output rather than copying it) there is nothing to tell the
// calls apart by, and every call gets the sample's reward; so does every
// call of a sample that was not correct.
func Credit(reward float64, answer string, completions []string) []float64 {
	out := make([]float64, len(completions))
	for i := range out {
		out[i] = reward
	}
	a := verify.Fold(answer)
	if a == "" || reward < rl.SuccessThreshold {
		return out
	}
	agree := make([]bool, len(completions))
	some := false
	for i, c := range completions {
		agree[i] = strings.Contains(verify.Fold(c), a)
		some = some || agree[i]
	}
	if !some {
		return out
	}
	for i := range out {
		if !agree[i] {
			out[i] = 0
		}
	}
	return out
}

func trainable(s trajectory.Step) bool {
	if len(s.PromptTokenIDs) == 0 || len(s.CompletionTokenIDs) == 0 || len(s.Logprobs) != len(s.CompletionTokenIDs) {
		return false
	}
	for _, v := range s.Logprobs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}
