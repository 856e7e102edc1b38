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
// rl.ComputeStats, as the trainer sees them: one sample per trainable model
// call (prompt and completion ids with logprobs), with the same credit
// assignment as training, so a harness that votes over n completions shows
// n samples per item and their spread. A rollout with no trainable call
// gives one sample without tokens. A sample's KL is the mean per-token k3
// estimate of KL(adapter ‖ base) on its completion tokens (0 when ad is
// nil, the base itself).
func RewardSamples(ctx context.Context, base *tinylm.Model, ad *tinylm.Adapter, rollouts []trajectory.Trajectory) ([]rl.Sample, error) {
	failed := map[string]bool{}
	var out []rl.Sample
	for _, t := range rollouts {
		switch t.Status {
		case verify.StatusError, verify.StatusInvalid, verify.StatusMissing:
			failed[t.Item] = true
		}
		has := false
		for _, s := range t.ModelSteps() {
			if len(s.PromptTokenIDs) > 0 && len(s.CompletionTokenIDs) > 0 && len(s.Logprobs) == len(s.CompletionTokenIDs) &&
				len(s.PromptTokenIDs)+len(s.CompletionTokenIDs) <= base.Config().Context {
				has = true
				break
			}
		}
		if !has {
			out = append(out, rl.Sample{Item: t.Item, Reward: t.Reward, Failed: failed[t.Item]})
		}
	}
	groups, _ := extract(rollouts, base.Config().Context, CreditAgreement)
	for _, g := range groups {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		kls := make([]float64, len(g))
		if ad != nil {
			seqs := make([][]int, len(g))
			for i, e := range g {
				seqs[i] = e.seq()
			}
			ref, err := base.Forward(nil, seqs)
			if err != nil {
				return nil, fmt.Errorf("kl to base, item %s: %w", g[0].item, err)
			}
			cur, err := base.Forward(ad, seqs)
			if err != nil {
				return nil, fmt.Errorf("kl to base, item %s: %w", g[0].item, err)
			}
			for i, e := range g {
				v, _ := rl.KLToRef(completionSlice(cur.Logprobs[i], e), completionSlice(ref.Logprobs[i], e))
				kls[i] = v / float64(len(e.completion))
			}
		}
		for i, e := range g {
			out = append(out, rl.Sample{Item: e.item, Reward: e.reward, Failed: failed[e.item], HasTokens: true, KL: kls[i]})
		}
	}
	return out, nil
}
