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
// in order; the first that matches and would train something wins.
//
//	#  condition (Stats)                                   algorithm     why
//	1  KLToBase ≥ KLDriftLimit                             reinforce_kl  the adapter drifts from the base: keep learning from reward but pay for the drift
//	2  FailedFrac ≥ FailingFrac                            entropic      most rollouts produce no usable answer: weights ∝ exp(β·r) put the update on the few better ones without pushing hard on the rest
//	3  0 < SuccessRate ≤ RareSuccess, or HeavyTail         best_of_n     successes are rare but verified: clone them (cross-entropy); also when a few samples hold most of the reward, so outliers cannot dominate a gradient
//	4  SamplesPerItem ≥ 2 and MixedItems ≥ SpreadItems     grpo          K samples per item with spread on most items: group-normalised advantages need no value model
//	5  SamplesPerItem ≥ 2, MixedItems > 0, PairGap ≥ ClearGap  dpo      spread on a few items but the best and worst sample clearly differ: learn from those pairs
//	6  otherwise                                           ppo           a clean outcome scalar per sample: PPO-clip with GAE and a value head
//
// A rule whose algorithm has no training unit in Stats.Units (entropic
// with one sample per item, best-of-N when no sample reaches its floor,
// DPO without a pair, …) is passed over. No algorithm at all ("") is
// chosen when there is nothing to learn: no samples, no sample with token
// ids, rewards that are all equal (even PPO would only fit its critic's
// noise), or no algorithm with a unit; the reason then says to use the
// harness lever.
func Select(s Stats) (Algorithm, string) {
	switch {
	case s.N == 0:
		return "", "no samples: nothing to train on; use the harness lever"
	case s.TokenSamples == 0:
		return "", "no sample carries token ids and logprobs, so no trainer can learn from these rollouts; use the harness lever"
	case s.Variance <= varEps:
		return "", fmt.Sprintf("every reward is %.3g: no sample is better than another, so no algorithm has anything to learn; use the harness lever", s.Mean)
	}
	for _, r := range rules {
		if !r.when(s) || (s.Units != nil && s.Units.Of(r.alg) == 0) {
			continue
		}
		return r.alg, r.why(s)
	}
	return "", "no algorithm would train a single unit on these rewards (see units); use the harness lever"
}

// rule is one row of the table.
type rule struct {
	alg  Algorithm
	when func(Stats) bool
	why  func(Stats) string
}

var rules = []rule{
	{ReinforceKL, func(s Stats) bool { return s.KLToBase >= KLDriftLimit }, func(s Stats) string {
		return fmt.Sprintf("KL to base %.3f ≥ %.2f nats/token: the adapter is drifting, so use REINFORCE with a KL-to-base penalty", s.KLToBase, KLDriftLimit)
	}},
	{Entropic, func(s Stats) bool { return s.FailedFrac >= FailingFrac }, func(s Stats) string {
		return fmt.Sprintf("%.0f%% of rollouts failed (error/invalid/missing): entropic weighting exp(β·r) focuses on the rare better samples", 100*s.FailedFrac)
	}},
	{BestOfN, func(s Stats) bool { return s.SuccessRate > 0 && s.SuccessRate <= RareSuccess }, func(s Stats) string {
		return fmt.Sprintf("success rate %.0f%% ≤ %.0f%%: successes are rare but verified, so clone the best samples", 100*s.SuccessRate, 100*RareSuccess)
	}},
	{BestOfN, func(s Stats) bool { return s.HeavyTail }, func(s Stats) string {
		return fmt.Sprintf("heavy-tailed rewards (skewness %.2f): clone the top samples rather than let outliers dominate a gradient", s.Skewness)
	}},
	{GRPO, func(s Stats) bool { return s.SamplesPerItem >= 2 && s.MixedItems >= SpreadItems }, func(s Stats) string {
		return fmt.Sprintf("%.1f samples per item and %.0f%% of items have within-item spread: group-normalised advantages (GRPO)", s.SamplesPerItem, 100*s.MixedItems)
	}},
	{DPO, func(s Stats) bool { return s.SamplesPerItem >= 2 && s.MixedItems > 0 && s.PairGap >= ClearGap }, func(s Stats) string {
		return fmt.Sprintf("%.0f%% of items have spread with a clear best-vs-worst gap of %.2f: DPO on those pairs", 100*s.MixedItems, s.PairGap)
	}},
	{PPO, func(Stats) bool { return true }, func(s Stats) string {
		return fmt.Sprintf("clean outcome scalar (success rate %.0f%%, %.1f samples per item): PPO-clip with GAE and a value head", 100*s.SuccessRate, s.SamplesPerItem)
	}},
}
