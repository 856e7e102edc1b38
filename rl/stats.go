package rl

import (
	"math"
	"sort"
)

// SuccessThreshold is the reward at or above which a sample counts as a
// success. Verifier rewards live in [0, 1]; a binary verifier gives 1 for a
// correct answer, a partial-credit one counts at least half credit.
const SuccessThreshold = 0.5

// Sample is one rollout sample as the reward-shape statistics see it.
type Sample struct {
	Item   string  // item id; samples of one item form a group
	Reward float64 // verifier reward
	// Failed is true for verifier status error, invalid or missing: the
	// rollout did not produce a usable answer at all (as opposed to a wrong one).
	Failed bool
	// HasTokens is true when the sample carries completion token ids and
	// sampling logprobs, so a trainer can learn from it.
	HasTokens bool
	// KL is the sample's mean per-token KL of the sampling distribution to
	// the base model, when known (0 for the base itself).
	KL float64
}

// ComputeStats summarises the shape of a generation's rewards. Samples are
// grouped by Item; within-item figures use only items with two or more
// samples. An empty slice gives the zero Stats.
func ComputeStats(samples []Sample) Stats {
	var s Stats
	s.N = len(samples)
	if s.N == 0 {
		return s
	}
	groups := map[string][]float64{}
	rewards := make([]float64, 0, s.N)
	successes, failed := 0, 0
	s.Binary = true
	klSum := 0.0
	for _, x := range samples {
		groups[x.Item] = append(groups[x.Item], x.Reward)
		rewards = append(rewards, x.Reward)
		if x.Reward >= SuccessThreshold {
			successes++
		}
		if x.Failed {
			failed++
		}
		if x.Reward != 0 && x.Reward != 1 {
			s.Binary = false
		}
		if x.HasTokens {
			s.TokenSamples++
			klSum += x.KL
		}
	}
	s.Items = len(groups)
	s.SamplesPerItem = float64(s.N) / float64(s.Items)
	s.SuccessRate = float64(successes) / float64(s.N)
	s.FailedFrac = float64(failed) / float64(s.N)
	if s.TokenSamples > 0 {
		s.KLToBase = klSum / float64(s.TokenSamples)
	}

	mean, m2, m3, m4 := moments(rewards)
	s.Mean, s.Variance = mean, m2
	kurtosis := 0.0
	if m2 > varEps {
		s.Skewness = m3 / math.Pow(m2, 1.5)
		kurtosis = m4/(m2*m2) - 3
	}
	// A binary reward is skewed whenever its success rate is far from one
	// half, which says nothing about outliers; a heavy tail is a property of
	// continuous rewards only.
	s.HeavyTail = !s.Binary && m2 > varEps && (math.Abs(s.Skewness) > heavySkew || kurtosis > heavyKurtosis)

	// Iterate groups in a fixed order so float sums are reproducible.
	ids := make([]string, 0, len(groups))
	for id := range groups {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	multi, mixed := 0, 0
	varSum, gapSum := 0.0, 0.0
	for _, id := range ids {
		g := groups[id]
		if len(g) < 2 {
			continue
		}
		multi++
		_, v, _, _ := moments(g)
		varSum += v
		lo, hi := minMax(g)
		if hi-lo > varEps {
			mixed++
			gapSum += hi - lo
		}
	}
	if multi > 0 {
		s.WithinItemVar = varSum / float64(multi)
		s.MixedItems = float64(mixed) / float64(multi)
	}
	if mixed > 0 {
		s.PairGap = gapSum / float64(mixed)
	}
	return s
}

const (
	varEps        = 1e-12
	heavySkew     = 2.0
	heavyKurtosis = 3.0
)

// moments returns the mean and the second, third and fourth central
// moments (population, divided by n).
func moments(x []float64) (mean, m2, m3, m4 float64) {
	if len(x) == 0 {
		return 0, 0, 0, 0
	}
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	for _, v := range x {
		d := v - mean
		d2 := d * d
		m2 += d2
		m3 += d2 * d
		m4 += d2 * d2
	}
	n := float64(len(x))
	return mean, m2 / n, m3 / n, m4 / n
}

func minMax(x []float64) (lo, hi float64) {
	lo, hi = x[0], x[0]
	for _, v := range x[1:] {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	return lo, hi
}
