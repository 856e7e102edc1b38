package rl

import "math"

// The losses below take the completion tokens of one sequence only (the
// caller applies the loss mask: prompt and tool-output tokens never reach
// here). Each returns the loss summed over its tokens and the gradient of
// that sum with respect to each token's current logprob; the trainer
// divides by the batch's token count and backpropagates the gradient
// through the model.

// PPOResult is the clipped surrogate over one sequence.
type PPOResult struct {
	Loss     float64   // −Σ_t min(ρ_t·A_t, clip(ρ_t, 1−ε, 1+ε)·A_t)
	Grad     []float64 // ∂Loss/∂logp_t
	Clipped  int       // tokens whose ratio lies outside [1−ε, 1+ε]
	RatioSum float64   // Σ_t ρ_t, for the mean ratio
}

// PPOClip computes PPO's clipped surrogate loss, with ρ_t = exp(logp_t −
// oldLogp_t) the ratio of the current policy to the sampling policy. Where
// the clipped term is the smaller one the loss is flat in logp and the
// gradient is 0; elsewhere it is −ρ_t·A_t. The three slices have equal
// length; extra entries in the longer ones are ignored.
func PPOClip(logp, oldLogp, adv []float64, eps float64) PPOResult {
	n := min(len(logp), len(oldLogp), len(adv))
	res := PPOResult{Grad: make([]float64, n)}
	for t := 0; t < n; t++ {
		ratio := math.Exp(logp[t] - oldLogp[t])
		clipped := math.Min(math.Max(ratio, 1-eps), 1+eps)
		un, cl := ratio*adv[t], clipped*adv[t]
		if un <= cl {
			res.Loss -= un
			res.Grad[t] = -ratio * adv[t]
		} else {
			res.Loss -= cl
		}
		if ratio < 1-eps || ratio > 1+eps {
			res.Clipped++
		}
		res.RatioSum += ratio
	}
	return res
}

// PolicyGradient is the REINFORCE surrogate −Σ_t A_t·logp_t and its
// gradient −A_t. Used by GRPO-free REINFORCE and by entropic weighting,
// which differ only in the advantages they feed it.
func PolicyGradient(logp, adv []float64) (loss float64, grad []float64) {
	n := min(len(logp), len(adv))
	grad = make([]float64, n)
	for t := 0; t < n; t++ {
		loss -= adv[t] * logp[t]
		grad[t] = -adv[t]
	}
	return loss, grad
}

// KLEstimate estimates KL(π‖ref), the KL of the policy to the reference
// (the base), summed over tokens sampled from the policy, with the
// non-negative, low-variance k3 estimator: k_t = e^{d_t} − d_t − 1 with
// d_t = ref_t − logp_t. It is what the trainers report as kl; it is not
// the penalty they differentiate (see KLPenalty).
func KLEstimate(logp, refLogp []float64) float64 {
	n := min(len(logp), len(refLogp))
	kl := 0.0
	for t := 0; t < n; t++ {
		d := refLogp[t] - logp[t]
		kl += math.Exp(d) - d - 1
	}
	return kl
}

// KLPenalty is the penalty whose gradient, on tokens sampled from the
// policy π, is in expectation the gradient of KL(π‖ref): the k2 term
// ½·Σ_t (logp_t − ref_t)², with ∂/∂logp_t = logp_t − ref_t. (Indeed
// E_π[(log π − log ref)·∇log π] = ∇ Σ_x π(x)(log π(x) − log ref(x)).)
// Differentiating the k3 estimate instead gives 1 − ref_t/π_t, whose
// expectation E_π[(1 − ref/π)·∇log π] = −Σ_x ref(x)·∇log π(x) is the
// gradient of the other KL, KL(ref‖π); TestKLPenaltyGradientIsKLPolicyToBase
// checks the difference. It returns the penalty summed over tokens and
// its per-token gradient.
func KLPenalty(logp, refLogp []float64) (loss float64, grad []float64) {
	return halfSquares(logp, refLogp)
}

// DPOResult is the DPO loss on one preference pair.
type DPOResult struct {
	Loss float64 // −log σ(z)
	// Margin is z = β·((π_w − ref_w) − (π_l − ref_l)), the implicit reward gap.
	Margin float64
	// GradChosen is ∂Loss/∂logp_t for every token of the chosen sequence
	// (the same value for each), GradRejected for the rejected one.
	GradChosen, GradRejected float64
}

// DPOLoss computes the direct preference optimisation loss for a pair whose
// sequence logprobs (sums over completion tokens) are policyChosen,
// policyRejected under the policy and refChosen, refRejected under the
// reference: −log σ(β·((π_w − ref_w) − (π_l − ref_l))). The gradient is
// ∓β·σ(−z) for each chosen/rejected token.
func DPOLoss(policyChosen, policyRejected, refChosen, refRejected, beta float64) DPOResult {
	z := beta * ((policyChosen - refChosen) - (policyRejected - refRejected))
	s := sigmoid(-z)
	return DPOResult{
		Loss:         softplus(-z),
		Margin:       z,
		GradChosen:   -beta * s,
		GradRejected: beta * s,
	}
}

// CrossEntropy is the behavioural-cloning loss −w·Σ_t logp_t on a sequence
// to imitate, weighted by w, and its gradient −w.
func CrossEntropy(logp []float64, w float64) (loss float64, grad []float64) {
	grad = make([]float64, len(logp))
	for t, l := range logp {
		loss -= w * l
		grad[t] = -w
	}
	return loss, grad
}

// ValueLoss is ½·Σ_t (V_t − R_t)² for the value head and its gradient
// V_t − R_t.
func ValueLoss(values, returns []float64) (loss float64, grad []float64) {
	return halfSquares(values, returns)
}

// halfSquares is ½·Σ_t (x_t − y_t)² and its gradient x_t − y_t in x, over
// the shorter length.
func halfSquares(x, y []float64) (loss float64, grad []float64) {
	n := min(len(x), len(y))
	grad = make([]float64, n)
	for t := 0; t < n; t++ {
		d := x[t] - y[t]
		loss += 0.5 * d * d
		grad[t] = d
	}
	return loss, grad
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// softplus is log(1 + e^x), stable for large |x|.
func softplus(x float64) float64 {
	if x > 30 {
		return x
	}
	if x < -30 {
		return math.Exp(x)
	}
	return math.Log1p(math.Exp(x))
}
