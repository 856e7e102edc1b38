package reward

import (
	"slices"
	"sort"

	"github.com/sia-agent/sia/rl"
)

// Params tune the advantage estimators. Zero values take the defaults.
type Params struct {
	// EntropicBeta is β in weights ∝ exp(β·r) (default 5).
	EntropicBeta float64
	// MinReward is the reward best-of-N's cloned samples must reach
	// (default rl.SuccessThreshold).
	MinReward float64
}

func (p Params) withDefaults() Params {
	if p.EntropicBeta == 0 {
		p.EntropicBeta = 5
	}
	if p.MinReward == 0 {
		p.MinReward = rl.SuccessThreshold
	}
	return p
}

// Pair is a DPO preference between two calls of one group, indexes into
// Batch.Groups[Group].
type Pair struct{ Group, Chosen, Rejected int }

// Plan is what one algorithm learns from a batch: a sequence-level
// advantage or cloning weight per call, or preference pairs.
type Plan struct {
	Algorithm rl.Algorithm
	// Advantage[g][i] is call i of group g's sequence-level advantage
	// (grpo, entropic, reinforce_kl; 1 for a cloned best_of_n call; 0 for
	// ppo, whose token-level advantages come from the trainer's critic).
	Advantage [][]float64
	// Weight[g][i] is the cross-entropy weight of best_of_n cloning (1 for
	// a cloned call), 0 otherwise.
	Weight [][]float64
	// Pairs are dpo's preferences.
	Pairs []Pair
	// Units counts what the update would learn reward from: calls with a
	// nonzero advantage (grpo, entropic, reinforce_kl), cloned calls
	// (best_of_n), pairs (dpo), or every call when the rewards differ at
	// all (ppo: on constant rewards its critic fits the constant and the
	// whitened advantages are noise). A plan with 0 units trains nothing,
	// and trainers refuse it.
	Units int
}

// Trains reports whether call i of group g takes part in the update: a
// unit, or, for ppo and reinforce_kl once the plan has a unit, any call
// (ppo's critic learns from them all; reinforce_kl's KL-to-base penalty
// anchors the zero-advantage calls too). DPO trains pairs, not calls.
func (p *Plan) Trains(g, i int) bool {
	switch p.Algorithm {
	case rl.BestOfN:
		return p.Weight[g][i] > 0
	case rl.PPO, rl.ReinforceKL:
		return p.Units > 0
	case rl.DPO:
		return false // dpo's units are its pairs
	}
	return p.Advantage[g][i] != 0
}

// Plan assigns the algorithm's advantages (or weights, or pairs) group by
// group, each group being one item's calls.
func (b *Batch) Plan(alg rl.Algorithm, p Params) Plan {
	p = p.withDefaults()
	plan := Plan{Algorithm: alg, Advantage: make([][]float64, len(b.Groups)), Weight: make([][]float64, len(b.Groups))}
	batchMean, n := 0.0, 0
	lo, hi := 0.0, 0.0
	for _, g := range b.Groups {
		for _, c := range g {
			if n == 0 {
				lo, hi = c.Reward, c.Reward
			}
			lo, hi = min(lo, c.Reward), max(hi, c.Reward)
			batchMean += c.Reward
			n++
		}
	}
	if n > 0 {
		batchMean /= float64(n)
	}
	for gi, g := range b.Groups {
		rewards := make([]float64, len(g))
		for i, c := range g {
			rewards[i] = c.Reward
		}
		adv := make([]float64, len(g))
		weight := make([]float64, len(g))
		switch alg {
		case rl.GRPO:
			adv = rl.GroupNormalize(rewards)
		case rl.Entropic:
			adv = rl.EntropicAdvantages(rewards, p.EntropicBeta)
		case rl.ReinforceKL:
			base := rl.LeaveOneOutBaseline(rewards)
			if len(g) < 2 {
				base = []float64{batchMean} // one call: the batch mean is the only baseline
			}
			adv = rl.ReinforceAdvantages(rewards, base)
		case rl.BestOfN:
			for _, i := range rl.TopSamples(rewards, p.MinReward) {
				adv[i], weight[i] = 1, 1
			}
		case rl.DPO:
			for _, pr := range pairs(g) {
				plan.Pairs = append(plan.Pairs, Pair{Group: gi, Chosen: pr[0], Rejected: pr[1]})
			}
		}
		plan.Advantage[gi], plan.Weight[gi] = adv, weight
	}
	switch alg {
	case rl.PPO:
		if n > 0 && hi-lo > 1e-12 {
			plan.Units = n
		}
	case rl.DPO:
		plan.Units = len(plan.Pairs)
	case rl.BestOfN:
		for gi, g := range b.Groups {
			for i := range g {
				if plan.Weight[gi][i] > 0 {
					plan.Units++
				}
			}
		}
	default:
		for gi, g := range b.Groups {
			for i := range g {
				if plan.Advantage[gi][i] != 0 {
					plan.Units++
				}
			}
		}
	}
	return plan
}

// pairs pairs the calls of one group that share a prompt: within each
// prompt, the i-th best with the i-th worst, while the better still beats
// the worse and the two completions differ. It returns (chosen, rejected)
// index pairs.
func pairs(g []Call) [][2]int {
	byPrompt := map[string][]int{}
	var keys []string
	for i, c := range g {
		k := promptKey(c.Prompt)
		if _, ok := byPrompt[k]; !ok {
			keys = append(keys, k)
		}
		byPrompt[k] = append(byPrompt[k], i)
	}
	var out [][2]int
	for _, k := range keys {
		idx := slices.Clone(byPrompt[k])
		sort.SliceStable(idx, func(a, b int) bool { return g[idx[a]].Reward > g[idx[b]].Reward })
		for i, j := 0, len(idx)-1; i < j; i, j = i+1, j-1 {
			if g[idx[i]].Reward <= g[idx[j]].Reward {
				break
			}
			if slices.Equal(g[idx[i]].Completion, g[idx[j]].Completion) {
				continue
			}
			out = append(out, [2]int{idx[i], idx[j]})
		}
	}
	return out
}

func promptKey(p []int) string {
	b := make([]rune, len(p))
	for i, id := range p {
		b[i] = rune(id)
	}
	return string(b)
}
