package embedded

import (
	"slices"

	"github.com/sia-agent/sia/reward"
	"github.com/sia-agent/sia/rl"
)

// example is one sampled completion to train on.
type example struct {
	item       string
	prompt     []int
	completion []int
	stored     []float64 // sampling logprobs as stored
	reward     float64   // as credited by package reward
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

// pair is one DPO preference between two completions of the same prompt.
type pair struct{ chosen, rejected *example }

// examples turns a batch's calls into examples, group by group, with the
// plan's advantages and weights; it returns them all and the training
// units (the plan's examples, or its pairs for DPO).
func examples(b *reward.Batch, plan *reward.Plan) (all []*example, units []unit) {
	groups := make([][]*example, len(b.Groups))
	for gi, g := range b.Groups {
		for i, c := range g {
			e := &example{item: c.Item, prompt: c.Prompt, completion: c.Completion, stored: c.Logprobs, reward: c.Reward,
				adv: plan.Advantage[gi][i], weight: plan.Weight[gi][i]}
			groups[gi] = append(groups[gi], e)
			all = append(all, e)
			if plan.Algorithm != rl.DPO && plan.Trains(gi, i) {
				units = append(units, unit{ex: e})
			}
		}
	}
	for _, p := range plan.Pairs {
		units = append(units, unit{pair: &pair{chosen: groups[p.Group][p.Chosen], rejected: groups[p.Group][p.Rejected]}})
	}
	return all, units
}

// unit is one thing a minibatch holds: an example, or a DPO pair.
type unit struct {
	ex   *example
	pair *pair
}
