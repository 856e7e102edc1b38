package rl

import "math"

// GroupEps keeps group normalisation finite when a group's rewards barely differ.
const GroupEps = 1e-6

// GAE computes generalised advantage estimates over one sequence of T
// steps: δ_t = r_t + γ·V_{t+1} − V_t, A_t = δ_t + γλ·A_{t+1}. values has T
// entries (the value after the last step is taken as 0, the episode ends)
// or T+1 (the last is the bootstrap value). returns = A + V are the value
// head's regression targets. Mismatched lengths give nil slices.
func GAE(rewards, values []float64, gamma, lambda float64) (adv, returns []float64) {
	t := len(rewards)
	if len(values) != t && len(values) != t+1 {
		return nil, nil
	}
	adv = make([]float64, t)
	returns = make([]float64, t)
	next, running := 0.0, 0.0
	if len(values) == t+1 {
		next = values[t]
	}
	for i := t - 1; i >= 0; i-- {
		delta := rewards[i] + gamma*next - values[i]
		running = delta + gamma*lambda*running
		adv[i] = running
		returns[i] = running + values[i]
		next = values[i]
	}
	return adv, returns
}

// OutcomeRewards spreads one outcome reward over a sequence of n tokens as
// a per-token reward vector: 0 everywhere, the reward on the last token.
func OutcomeRewards(reward float64, n int) []float64 {
	r := make([]float64, n)
	if n > 0 {
		r[n-1] = reward
	}
	return r
}

// GroupNormalize returns GRPO's group-relative advantages for the rewards
// of one item's K samples: (r − mean) / (std + GroupEps), with the
// population standard deviation. A group whose rewards are all equal gets
// zero advantages: it says nothing about which sample is better.
func GroupNormalize(rewards []float64) []float64 {
	out := make([]float64, len(rewards))
	if len(rewards) == 0 {
		return out
	}
	mean, v, _, _ := moments(rewards)
	if v <= varEps {
		return out
	}
	sd := math.Sqrt(v)
	for i, r := range rewards {
		out[i] = (r - mean) / (sd + GroupEps)
	}
	return out
}

// EntropicWeights returns w_i = exp(β·r_i) / Σ_j exp(β·r_j), computed
// stably (the maximum is subtracted first). The weights sum to 1.
func EntropicWeights(rewards []float64, beta float64) []float64 {
	out := make([]float64, len(rewards))
	if len(rewards) == 0 {
		return out
	}
	hi := math.Inf(-1)
	for _, r := range rewards {
		hi = math.Max(hi, beta*r)
	}
	sum := 0.0
	for i, r := range rewards {
		out[i] = math.Exp(beta*r - hi)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// EntropicAdvantages turns entropic weights into zero-mean advantages,
// A_i = n·w_i − 1: a sample with the average weight gets 0, the rare good
// samples get large positive advantages and the many failures a small
// negative one (never below −1), so failures are not pushed down hard.
func EntropicAdvantages(rewards []float64, beta float64) []float64 {
	w := EntropicWeights(rewards, beta)
	n := float64(len(rewards))
	for i := range w {
		w[i] = n*w[i] - 1
	}
	return w
}

// LeaveOneOutBaseline returns, for each sample, the mean reward of the other
// samples of its group: an unbiased REINFORCE baseline. A group of one gets
// baseline 0.
func LeaveOneOutBaseline(rewards []float64) []float64 {
	out := make([]float64, len(rewards))
	if len(rewards) < 2 {
		return out
	}
	sum := 0.0
	for _, r := range rewards {
		sum += r
	}
	n := float64(len(rewards) - 1)
	for i, r := range rewards {
		out[i] = (sum - r) / n
	}
	return out
}

// ReinforceAdvantages returns r_i − b_i for REINFORCE with a baseline.
// baseline has one entry per reward; nil means a zero baseline.
func ReinforceAdvantages(rewards, baseline []float64) []float64 {
	out := make([]float64, len(rewards))
	for i, r := range rewards {
		out[i] = r
		if baseline != nil {
			out[i] -= baseline[i]
		}
	}
	return out
}

// Whiten returns x shifted and scaled to zero mean and unit variance
// (PPO normalises advantages over a batch this way). A constant input gives
// zeros.
func Whiten(x []float64) []float64 {
	return GroupNormalize(x)
}

// BestWorst returns the indices of the best and the worst reward of one
// item's samples (the first on ties), the pair DPO learns from; ok is false
// when the group has fewer than two samples or no spread.
func BestWorst(rewards []float64) (best, worst int, ok bool) {
	if len(rewards) < 2 {
		return 0, 0, false
	}
	for i, r := range rewards {
		if r > rewards[best] {
			best = i
		}
		if r < rewards[worst] {
			worst = i
		}
	}
	return best, worst, rewards[best]-rewards[worst] > varEps
}

// TopSamples returns, for one item's samples, the indices whose reward
// equals the group's best and reaches minReward: the samples best-of-N
// cloning imitates. A group whose best sample falls short gives none.
func TopSamples(rewards []float64, minReward float64) []int {
	if len(rewards) == 0 {
		return nil
	}
	hi := rewards[0]
	for _, r := range rewards[1:] {
		hi = math.Max(hi, r)
	}
	if hi < minReward {
		return nil
	}
	var out []int
	for i, r := range rewards {
		if r >= hi-varEps {
			out = append(out, i)
		}
	}
	return out
}
