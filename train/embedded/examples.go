package embedded

import (
	"slices"
	"sort"
	"strings"

	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/trajectory"
)

// example is one sampled completion to train on.
type example struct {
	item       string
	prompt     []int
	completion []int
	stored     []float64 // sampling logprobs as stored
	reward     float64   // after credit assignment
	adv        float64   // sequence-level advantage (all but PPO)
	weight     float64   // best-of-N cross-entropy weight

	// Filled before the first update, per completion token.
	old    []float64 // π_old: stored logprobs, or the parent's recomputed ones
	ref    []float64 // the base model's logprobs (reference policy)
	tokAdv []float64 // PPO: whitened GAE advantages
	tokRet []float64 // PPO: value targets
}

func (e *example) seq() []int { return append(slices.Clip(e.prompt), e.completion...) }

// first is the tape index of the first completion token's logprob.
func (e *example) first() int { return len(e.prompt) - 1 }

// extraction counts what was read from the rollouts.
type extraction struct {
	samples, calls, skippedNoTokens, skippedLong int
}

// extract turns rollouts into examples grouped by item, in (item, sample,
// step) order so nothing depends on the order rollouts finished in.
func extract(rollouts []trajectory.Trajectory, context int, credit string) ([][]*example, extraction) {
	ts := slices.Clone(rollouts)
	sort.SliceStable(ts, func(i, j int) bool {
		if ts[i].Item != ts[j].Item {
			return ts[i].Item < ts[j].Item
		}
		return ts[i].Sample < ts[j].Sample
	})
	var x extraction
	var groups [][]*example
	for i := range ts {
		t := &ts[i]
		x.samples++
		if i == 0 || ts[i-1].Item != t.Item {
			groups = append(groups, nil)
		}
		answer := normalize(t.Answer)
		for _, s := range t.ModelSteps() {
			x.calls++
			if len(s.PromptTokenIDs) == 0 || len(s.CompletionTokenIDs) == 0 || len(s.Logprobs) != len(s.CompletionTokenIDs) {
				x.skippedNoTokens++
				continue
			}
			if len(s.PromptTokenIDs)+len(s.CompletionTokenIDs) > context {
				x.skippedLong++
				continue
			}
			r := t.Reward
			if credit == CreditAgreement && answer != "" && !strings.Contains(normalize(s.Completion), answer) && t.Reward >= rl.SuccessThreshold {
				r = 0 // it disagreed with a correct final answer
			}
			groups[len(groups)-1] = append(groups[len(groups)-1], &example{
				item: t.Item, prompt: s.PromptTokenIDs, completion: s.CompletionTokenIDs,
				stored: s.Logprobs, reward: r,
			})
		}
	}
	// Drop items none of whose calls were trainable.
	out := groups[:0]
	for _, g := range groups {
		if len(g) > 0 {
			out = append(out, g)
		}
	}
	return out, x
}

func normalize(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

// pair is one DPO preference between two completions of the same prompt.
type pair struct{ chosen, rejected *example }

// assignAdvantages sets the sequence-level advantage (or cloning weight)
// of every example for alg, group by group; DPO gets pairs instead. PPO's
// token-level advantages need the value head and are set by the trainer.
func assignAdvantages(groups [][]*example, alg rl.Algorithm, cfg Config) []pair {
	batchMean, n := 0.0, 0
	for _, g := range groups {
		for _, e := range g {
			batchMean += e.reward
			n++
		}
	}
	if n > 0 {
		batchMean /= float64(n)
	}
	var pairs []pair
	for _, g := range groups {
		rewards := make([]float64, len(g))
		for i, e := range g {
			rewards[i] = e.reward
		}
		var adv []float64
		switch alg {
		case rl.GRPO:
			adv = rl.GroupNormalize(rewards)
		case rl.Entropic:
			adv = rl.EntropicAdvantages(rewards, cfg.EntropicBeta)
		case rl.ReinforceKL:
			base := rl.LeaveOneOutBaseline(rewards)
			if len(g) < 2 {
				base = []float64{batchMean}
			}
			adv = rl.ReinforceAdvantages(rewards, base)
		case rl.BestOfN:
			for _, i := range rl.TopSamples(rewards, rl.SuccessThreshold) {
				g[i].weight = 1
			}
		case rl.DPO:
			pairs = append(pairs, groupPairs(g)...)
		}
		for i := range adv {
			g[i].adv = adv[i]
		}
	}
	return pairs
}

// groupPairs pairs the completions of one item that share a prompt: the
// i-th best with the i-th worst, while the best still beats the worst and
// the two completions differ.
func groupPairs(g []*example) []pair {
	byPrompt := map[string][]*example{}
	var keys []string
	for _, e := range g {
		k := promptKey(e.prompt)
		if _, ok := byPrompt[k]; !ok {
			keys = append(keys, k)
		}
		byPrompt[k] = append(byPrompt[k], e)
	}
	var out []pair
	for _, k := range keys {
		es := slices.Clone(byPrompt[k])
		sort.SliceStable(es, func(i, j int) bool { return es[i].reward > es[j].reward })
		for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
			if es[i].reward <= es[j].reward {
				break
			}
			if slices.Equal(es[i].completion, es[j].completion) {
				continue
			}
			out = append(out, pair{chosen: es[i], rejected: es[j]})
		}
	}
	return out
}

func promptKey(p []int) string {
	var b strings.Builder
	for _, id := range p {
		b.WriteRune(rune(id))
	}
	return b.String()
}
