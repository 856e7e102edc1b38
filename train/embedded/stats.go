package embedded

import (
	"context"
	"fmt"

	"github.com/sia-agent/sia/reward"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/tinylm"
)

// RewardOptions says which model calls this trainer can learn from: those
// that fit the base's context.
func (t *Trainer) RewardOptions() reward.Options {
	return reward.Options{MaxTokens: t.base.Config().Context}
}

// KLToBase measures how far the adapter in adapterDir ("" = the base
// itself) has moved the policy from the base, on the tokens it sampled:
// for each call, the mean over its completion tokens of the k3 estimate of
// KL(adapter ‖ base), both logprobs recomputed at temperature 1 (stored
// sampling logprobs may be tempered). The result is in calls' order.
func (t *Trainer) KLToBase(ctx context.Context, adapterDir string, calls []reward.Call) ([]float64, error) {
	out := make([]float64, len(calls))
	if adapterDir == "" || len(calls) == 0 {
		return out, nil
	}
	ad, err := tinylm.LoadPEFT(adapterDir, t.base)
	if err != nil {
		return nil, fmt.Errorf("kl to base: load adapter %q: %w", adapterDir, err)
	}
	for lo := 0; lo < len(calls); lo += t.cfg.MinibatchSeqs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		batch := calls[lo:min(lo+t.cfg.MinibatchSeqs, len(calls))]
		exs := make([]*example, len(batch))
		seqs := make([][]int, len(batch))
		for i, c := range batch {
			exs[i] = &example{prompt: c.Prompt, completion: c.Completion}
			seqs[i] = exs[i].seq()
		}
		ref, err := t.base.Forward(nil, seqs)
		if err != nil {
			return nil, fmt.Errorf("kl to base: %w", err)
		}
		cur, err := t.base.Forward(ad, seqs)
		if err != nil {
			return nil, fmt.Errorf("kl to base: %w", err)
		}
		for i, e := range exs {
			kl := rl.KLEstimate(completionSlice(cur.Logprobs[i], e), completionSlice(ref.Logprobs[i], e))
			out[lo+i] = kl / float64(len(e.completion))
		}
	}
	return out, nil
}
