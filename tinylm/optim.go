package tinylm

import "math"

// optim.go: AdamW with global-norm gradient clipping.

// AdamW is the decoupled-weight-decay Adam optimizer (Loshchilov & Hutter;
// the same update as torch.optim.AdamW). Its fields may be changed between
// steps (for a learning-rate schedule). It keeps per-parameter moments, so
// one AdamW serves one adapter (or one model) at a time.
type AdamW struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64

	steps int
	state map[*tensor]*adamState
}

type adamState struct{ m, v []float32 }

// NewAdamW returns an AdamW optimizer. Typical values: lr 1e-4…1e-3,
// beta1 0.9, beta2 0.999, eps 1e-8, wd 0.01.
func NewAdamW(lr, beta1, beta2, eps, wd float64) *AdamW {
	return &AdamW{LR: lr, Beta1: beta1, Beta2: beta2, Eps: eps, WeightDecay: wd}
}

// Steps returns how many updates the optimizer has applied.
func (o *AdamW) Steps() int { return o.steps }

// gradNorm returns the global L2 norm of the gradients.
func gradNorm(ps []*tensor) float64 {
	var ss float64
	for _, p := range ps {
		for _, g := range p.g {
			ss += float64(g) * float64(g)
		}
	}
	return math.Sqrt(ss)
}

// step clips the gradients to clipNorm (when > 0 and finite) and applies one
// AdamW update to ps. It returns the norm before clipping. Non-finite
// gradients skip the update, so one bad batch cannot poison the weights.
func (o *AdamW) step(ps []*tensor, clipNorm float64) float64 {
	norm := gradNorm(ps)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return norm
	}
	if o.state == nil {
		o.state = make(map[*tensor]*adamState)
	}
	o.steps++
	gscale := 1.0
	if clipNorm > 0 && norm > clipNorm {
		gscale = clipNorm / (norm + 1e-6)
	}
	b1, b2 := o.Beta1, o.Beta2
	bc1 := 1 - math.Pow(b1, float64(o.steps))
	bc2 := 1 - math.Pow(b2, float64(o.steps))
	lr := o.LR
	decay := float32(1 - lr*o.WeightDecay)
	stepSize := float32(lr / bc1)
	invBc2 := float32(1 / bc2)
	eps := float32(o.Eps)
	gs, fb1, fb2 := float32(gscale), float32(b1), float32(b2)
	for _, p := range ps {
		st := o.state[p]
		if st == nil {
			st = &adamState{m: make([]float32, len(p.w)), v: make([]float32, len(p.w))}
			o.state[p] = st
		}
		for i, g := range p.g {
			g *= gs
			st.m[i] = fb1*st.m[i] + (1-fb1)*g
			st.v[i] = fb2*st.v[i] + (1-fb2)*g*g
			denom := float32(math.Sqrt(float64(st.v[i]*invBc2))) + eps
			p.w[i] = p.w[i]*decay - stepSize*st.m[i]/denom
		}
	}
	return norm
}

// Step clips the adapter's gradients to the global norm clipNorm (0: no
// clipping), applies one AdamW update, and returns the gradient norm before
// clipping. It does not clear the gradients (call ZeroGrad). With a nil
// optimizer, or non-finite gradients, the weights are left as they are
// (and NaN is returned if the step could not run at all).
func (a *Adapter) Step(opt *AdamW, clipNorm float64) (norm float64) {
	defer func() {
		if recover() != nil {
			norm = math.NaN()
		}
	}()
	ps := a.params()
	if opt == nil {
		return gradNorm(ps)
	}
	n := opt.step(ps, clipNorm)
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return n
	}
	a.version++
	a.refresh()
	return n
}
