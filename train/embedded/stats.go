package embedded

import (
	"context"
	"fmt"

	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/tinylm"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

// RewardSamples turns a generation's rollouts into rl.Samples for
// rl.ComputeStats. A sample has tokens when one of its model calls carries
// prompt and completion ids with logprobs; its KL is the mean per-token k3
// estimate of KL(adapter ‖ base) on the sampled completion tokens, from a
// forward pass of each (ad nil, the base itself, gives 0).
func RewardSamples(ctx context.Context, base *tinylm.Model, ad *tinylm.Adapter, rollouts []trajectory.Trajectory) ([]rl.Sample, error) {
	out := make([]rl.Sample, len(rollouts))
	ctxLen := base.Config().Context
	for i := range rollouts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t := &rollouts[i]
		s := rl.Sample{Item: t.Item, Reward: t.Reward}
		switch t.Status {
		case verify.StatusError, verify.StatusInvalid, verify.StatusMissing:
			s.Failed = true
		}
		var seqs [][]int
		var exs []*example
		for _, st := range t.ModelSteps() {
			if len(st.PromptTokenIDs) == 0 || len(st.CompletionTokenIDs) == 0 || len(st.Logprobs) != len(st.CompletionTokenIDs) ||
				len(st.PromptTokenIDs)+len(st.CompletionTokenIDs) > ctxLen {
				continue
			}
			e := &example{prompt: st.PromptTokenIDs, completion: st.CompletionTokenIDs}
			exs = append(exs, e)
			seqs = append(seqs, e.seq())
		}
		s.HasTokens = len(exs) > 0
		if s.HasTokens && ad != nil {
			ref, err := base.Forward(nil, seqs)
			if err != nil {
				return nil, fmt.Errorf("kl to base, item %s: %w", t.Item, err)
			}
			cur, err := base.Forward(ad, seqs)
			if err != nil {
				return nil, fmt.Errorf("kl to base, item %s: %w", t.Item, err)
			}
			kl, n := 0.0, 0
			for k, e := range exs {
				v, _ := rl.KLToRef(completionSlice(cur.Logprobs[k], e), completionSlice(ref.Logprobs[k], e))
				kl += v
				n += len(e.completion)
			}
			s.KL = kl / float64(n)
		}
		out[i] = s
	}
	return out, nil
}
