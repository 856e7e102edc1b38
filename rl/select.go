package rl

import "fmt"

// Thresholds of the selection rule table. They are documented in docs/rl.md;
// change both together.
const (
	// KLDriftLimit: mean per-token KL to the base (nats) above which the
	// policy is drifting and gets anchored.
	KLDriftLimit = 0.3
	// FailingFrac: fraction of failed (error/invalid/missing) samples at or
	// above which "most rollouts fail".
	FailingFrac = 0.5
	// RareSuccess: success rate at or below which successes are rare.
	RareSuccess = 0.2
	// SpreadItems: fraction of multi-sample items with disagreeing samples at
	// or above which group-relative advantages have signal on most groups.
	SpreadItems = 0.3
	// ClearGap: mean best-minus-worst reward gap at or above which a
	// best-vs-worst pair is a clear preference.
	ClearGap = 0.5
)

// Select maps a reward shape to an algorithm and says why. Rules are tried
// in order; the first that matches wins.
//
//	#  condition (Stats)                                   algorithm     why
//	1  KLToBase ≥ KLDriftLimit                             reinforce_kl  the adapter drifts from the base: keep learning from reward but pay for the drift
//	2  FailedFrac ≥ FailingFrac                            entropic      most rollouts produce no usable answer: weights ∝ exp(β·r) put the update on the few better ones without pushing hard on the rest
//	3  0 < SuccessRate ≤ RareSuccess, or HeavyTail         best_of_n     successes are rare but verified: clone them (cross-entropy); also when a few samples hold most of the reward, so outliers cannot dominate a gradient
//	4  SamplesPerItem ≥ 2 and MixedItems ≥ SpreadItems     grpo          K samples per item with spread on most items: group-normalised advantages need no value model
//	5  SamplesPerItem ≥ 2, MixedItems > 0, PairGap ≥ ClearGap  dpo      spread on a few items but the best and worst sample clearly differ: learn from those pairs
//	6  otherwise                                           ppo           a clean outcome scalar per sample: PPO-clip with GAE and a value head
//
// Stats with no samples fall through to rule 6 with a note; a caller with
// no token-level samples cannot train whatever the choice.
func Select(s Stats) (Algorithm, string) {
	a, why := selectRule(s)
	if s.N > 0 && s.TokenSamples == 0 {
		why += " (note: no sample carries token ids and logprobs, so no trainer can learn from these rollouts)"
	}
	return a, why
}

func selectRule(s Stats) (Algorithm, string) {
	switch {
	case s.N == 0:
		return PPO, "no samples: defaulting to PPO"
	case s.KLToBase >= KLDriftLimit:
		return ReinforceKL, fmt.Sprintf("KL to base %.3f ≥ %.2f nats/token: the adapter is drifting, so use REINFORCE with a KL-to-base penalty", s.KLToBase, KLDriftLimit)
	case s.FailedFrac >= FailingFrac:
		return Entropic, fmt.Sprintf("%.0f%% of rollouts failed (error/invalid/missing): entropic weighting exp(β·r) focuses on the rare better samples", 100*s.FailedFrac)
	case s.SuccessRate > 0 && s.SuccessRate <= RareSuccess:
		return BestOfN, fmt.Sprintf("success rate %.0f%% ≤ %.0f%%: successes are rare but verified, so clone the best samples", 100*s.SuccessRate, 100*RareSuccess)
	case s.HeavyTail:
		return BestOfN, fmt.Sprintf("heavy-tailed rewards (skewness %.2f): clone the top samples rather than let outliers dominate a gradient", s.Skewness)
	case s.SamplesPerItem >= 2 && s.MixedItems >= SpreadItems:
		return GRPO, fmt.Sprintf("%.1f samples per item and %.0f%% of items have within-item spread: group-normalised advantages (GRPO)", s.SamplesPerItem, 100*s.MixedItems)
	case s.SamplesPerItem >= 2 && s.MixedItems > 0 && s.PairGap >= ClearGap:
		return DPO, fmt.Sprintf("%.0f%% of items have spread with a clear best-vs-worst gap of %.2f: DPO on those pairs", 100*s.MixedItems, s.PairGap)
	default:
		return PPO, fmt.Sprintf("clean outcome scalar (success rate %.0f%%, %.1f samples per item): PPO-clip with GAE and a value head", 100*s.SuccessRate, s.SamplesPerItem)
	}
}
