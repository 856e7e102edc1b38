package reward

import (
	"fmt"

	"github.com/sia-agent/sia/rl"
)

// Samples is the batch as rl.ComputeStats sees it: one sample per
// trainable call, with its credited reward (a harness that votes over n
// completions shows n samples per item and their spread), and one sample
// without tokens per untrainable rollout sample. kl, when not nil, holds
// each trainable call's mean per-token KL to the base, in Calls order.
func (b *Batch) Samples(kl []float64) ([]rl.Sample, error) {
	calls := b.Calls()
	if kl != nil && len(kl) != len(calls) {
		return nil, fmt.Errorf("reward samples: %d KL values for %d calls", len(kl), len(calls))
	}
	out := make([]rl.Sample, 0, len(calls)+len(b.Untrainable))
	out = append(out, b.Untrainable...)
	for i, c := range calls {
		s := rl.Sample{Item: c.Item, Reward: c.Reward, Failed: c.Failed, HasTokens: true}
		if kl != nil {
			s.KL = kl[i]
		}
		out = append(out, s)
	}
	return out, nil
}

// Stats is the reward shape the rule table reads: rl.ComputeStats over
// Samples, plus every algorithm's training units under p, so rl.Select
// never picks an algorithm that would train nothing.
func (b *Batch) Stats(p Params, kl []float64) (rl.Stats, error) {
	ss, err := b.Samples(kl)
	if err != nil {
		return rl.Stats{}, err
	}
	s := rl.ComputeStats(ss)
	s.Units = &rl.Units{}
	for _, a := range rl.Algorithms {
		plan := b.Plan(a, p)
		s.Units.Set(a, plan.Units)
	}
	return s, nil
}
