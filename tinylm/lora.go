package tinylm

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// lora.go: LoRA adapters. For a target projection y = x·Wᵀ + b the adapter
// adds s·(x·Aᵀ)·Bᵀ with A [r,in], B [out,r] and s = Alpha/Rank.

// Target projection names (PEFT module names without the "_proj" suffix).
const (
	TargetQ    = "q"
	TargetK    = "k"
	TargetV    = "v"
	TargetO    = "o"
	TargetUp   = "up"
	TargetDown = "down"
)

// targetOrder is the canonical order of targets; index = target id.
var targetOrder = [...]string{TargetQ, TargetK, TargetV, TargetO, TargetUp, TargetDown}

const (
	tQ = iota
	tK
	tV
	tO
	tUp
	tDown
	numTargets
)

// peftModule is the Hugging Face module path of target t under a layer.
func peftModule(t int) string {
	switch t {
	case tQ, tK, tV, tO:
		return "self_attn." + targetOrder[t] + "_proj"
	default:
		return "mlp." + targetOrder[t] + "_proj"
	}
}

// DefaultLoRARank is the default rank, capped at DModel/2.
const DefaultLoRARank = 32

// LoRAConfig configures an adapter. The zero value is usable: Rank 32
// capped at DModel/2, Alpha = 2·Rank, Targets q, k, v, o, no value head.
type LoRAConfig struct {
	Rank  int     `json:"r"`
	Alpha float64 `json:"lora_alpha"`
	// Targets are projection names: q, k, v, o, up, down (the PEFT names
	// q_proj … down_proj are accepted too).
	Targets []string `json:"targets"`
	// ValueHead adds a scalar value head on the final hidden state (PPO).
	ValueHead bool `json:"value_head"`
}

// WithDefaults returns c with zero fields set for a model of width dModel
// and Targets normalised to the canonical short names and order.
func (c LoRAConfig) WithDefaults(dModel int) (LoRAConfig, error) {
	if c.Rank == 0 {
		c.Rank = min(DefaultLoRARank, max(1, dModel/2))
	}
	if c.Alpha == 0 {
		c.Alpha = 2 * float64(c.Rank)
	}
	if len(c.Targets) == 0 {
		c.Targets = []string{TargetQ, TargetK, TargetV, TargetO}
	}
	var seen [numTargets]bool
	for _, t := range c.Targets {
		id := targetID(t)
		if id < 0 {
			return c, fmt.Errorf("unknown LoRA target %q (want q, k, v, o, up or down)", t)
		}
		seen[id] = true
	}
	c.Targets = c.Targets[:0:0]
	for id, ok := range seen {
		if ok {
			c.Targets = append(c.Targets, targetOrder[id])
		}
	}
	var errs []error
	if c.Rank < 1 || c.Rank > dModel {
		errs = append(errs, fmt.Errorf("rank %d out of range [1, %d]", c.Rank, dModel))
	}
	if !(c.Alpha > 0) || math.IsInf(c.Alpha, 0) {
		errs = append(errs, fmt.Errorf("alpha %v must be positive", c.Alpha))
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("invalid LoRA config: %w", err)
	}
	return c, nil
}

func targetID(name string) int {
	n := strings.TrimSuffix(strings.ToLower(name), "_proj")
	for id, t := range targetOrder {
		if t == n {
			return id
		}
	}
	return -1
}

// loraPair is one target's A and B with their gradients, and the matrices
// derived from them and the base layer (rebuilt by refresh). The forward
// pass runs on the merged weight W + s·B·A (one product, the same function
// of x as the separate LoRA path); the backward pass needs x·Aᵀ and
// dy·(s·B) for the gradients of A and B, and dy·(W + s·B·A) for dx.
type loraPair struct {
	in, out, r int
	a          *tensor   // [r,in]
	b          *tensor   // [out,r]
	s          float32   // Alpha/Rank
	w          []float32 // merged weight W + s·B·A [out,in]
	wT         []float32 // its transpose [in,out]
	aT         []float32 // Aᵀ [in,r]
	sB         []float32 // s·B [out,r]
}

// refresh rebuilds the derived matrices from A, B and the base layer l.
func (p *loraPair) refresh(l *linear, s float32) {
	p.s = s
	in, out, r := p.in, p.out, p.r
	p.sB = grow(p.sB, out*r)
	for i, v := range p.b.w {
		p.sB[i] = s * v
	}
	p.aT = grow(p.aT, in*r)
	transpose(p.aT, p.a.w, r, in)
	p.w = grow(p.w, out*in)
	copy(p.w, l.w.w)
	matmulAcc(p.w, p.sB, p.a.w, out, r, in)
	p.wT = grow(p.wT, in*out)
	transpose(p.wT, p.w, out, in)
}

// backward adds dA = duᵀ·x and dB = dyᵀ·(s·u) to the gradients, given
// u = x·Aᵀ and du = dy·(s·B).
func (p *loraPair) backward(x, u, dy, du []float32, M int, sc *linearScratch) {
	in, out, r, s := p.in, p.out, p.r, p.s
	matmulTA(p.a.g, du, x, r, M, in)
	// dBᵀ = uᵀ·dy has out columns (the kernel's good side), dB has r.
	dBT := grow(sc.buf3, r*out)
	sc.buf3 = dBT
	clear(dBT)
	matmulTA(dBT, u, dy, r, M, out)
	for j := 0; j < r; j++ {
		for o := 0; o < out; o++ {
			p.b.g[o*r+j] += s * dBT[j*out+o]
		}
	}
}

// Adapter holds LoRA A/B matrices per target per layer and an optional
// value head, with their gradients. It belongs to the model it was made
// for (NewAdapter, LoadPEFT) and only runs with that model.
type Adapter struct {
	cfg    LoRAConfig
	model  *Model
	scale  float32
	layers [][numTargets]*loraPair
	// valueW [1,d] and valueB [1] form the value head (nil without one).
	valueW, valueB *tensor
	// version counts Steps; a Tape remembers it to refuse stale backward
	// passes.
	version int
}

// NewAdapter returns a fresh adapter for m. A is drawn like PEFT's default
// (uniform in ±1/sqrt(in)) from seed; B is zero, so the adapted model equals
// the base until the first Step. The value head starts uniform in
// ±1/sqrt(d) with a zero bias.
func NewAdapter(m *Model, cfg LoRAConfig, seed int64) (a *Adapter, err error) {
	defer recoverInto(&err, "new adapter")
	a, err = newAdapter(m, cfg)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed_10a))
	for _, l := range a.layers {
		for _, p := range l {
			if p == nil {
				continue
			}
			bound := 1 / math.Sqrt(float64(p.in))
			for i := range p.a.w {
				p.a.w[i] = float32((rng.Float64()*2 - 1) * bound)
			}
		}
	}
	if a.valueW != nil {
		bound := 1 / math.Sqrt(float64(m.cfg.DModel))
		for i := range a.valueW.w {
			a.valueW.w[i] = float32((rng.Float64()*2 - 1) * bound)
		}
	}
	a.refresh()
	return a, nil
}

// newAdapter allocates a zero adapter with gradients.
func newAdapter(m *Model, cfg LoRAConfig) (*Adapter, error) {
	if m == nil {
		return nil, errors.New("new adapter: nil model")
	}
	cfg, err := cfg.WithDefaults(m.cfg.DModel)
	if err != nil {
		return nil, err
	}
	a := &Adapter{cfg: cfg, model: m, scale: float32(cfg.Alpha / float64(cfg.Rank))}
	a.layers = make([][numTargets]*loraPair, m.cfg.Layers)
	for li := range a.layers {
		for _, t := range cfg.Targets {
			id := targetID(t)
			l := m.layers[li].proj(id)
			p := &loraPair{in: l.in, out: l.out, r: cfg.Rank}
			base := fmt.Sprintf("base_model.model.model.layers.%d.%s", li, peftModule(id))
			p.a = newTensor(base+".lora_A.weight", cfg.Rank, l.in)
			p.b = newTensor(base+".lora_B.weight", l.out, cfg.Rank)
			p.a.trainable()
			p.b.trainable()
			a.layers[li][id] = p
		}
	}
	if cfg.ValueHead {
		a.valueW = newTensor("v_head.summary.weight", 1, m.cfg.DModel)
		a.valueB = newTensor("v_head.summary.bias", 1)
		a.valueW.trainable()
		a.valueB.trainable()
	}
	return a, nil
}

// refresh rebuilds every pair's fused matrices after A or B changed.
func (a *Adapter) refresh() {
	for li, l := range a.layers {
		for id, p := range l {
			if p != nil {
				p.refresh(a.model.layers[li].proj(id), a.scale)
			}
		}
	}
}

// params lists the adapter's tensors in a stable order.
func (a *Adapter) params() []*tensor {
	var ps []*tensor
	for _, l := range a.layers {
		for _, p := range l {
			if p != nil {
				ps = append(ps, p.a, p.b)
			}
		}
	}
	if a.valueW != nil {
		ps = append(ps, a.valueW, a.valueB)
	}
	return ps
}

// Config returns the adapter's configuration, defaults applied.
func (a *Adapter) Config() LoRAConfig {
	c := a.cfg
	c.Targets = slices.Clone(c.Targets)
	return c
}

// Model returns the base model the adapter belongs to.
func (a *Adapter) Model() *Model { return a.model }

// NumParams counts the adapter's trainable parameters.
func (a *Adapter) NumParams() int {
	n := 0
	for _, p := range a.params() {
		n += p.size()
	}
	return n
}

// HasValueHead reports whether the adapter has a value head.
func (a *Adapter) HasValueHead() bool { return a.valueW != nil }

// ZeroGrad clears the adapter's gradients.
func (a *Adapter) ZeroGrad() {
	for _, p := range a.params() {
		clear(p.g)
	}
}

// ZeroPolicyGrad clears every gradient but the value head's, so a Step
// trains the value head alone (the critic warm-up of PPO): the value loss
// also reaches the LoRA matrices through the shared trunk.
func (a *Adapter) ZeroPolicyGrad() {
	for _, p := range a.params() {
		if p != a.valueW && p != a.valueB {
			clear(p.g)
		}
	}
}

// Clone returns a deep copy of the adapter (weights and gradients) for the
// same model. Optimizer state lives in the AdamW and is not copied.
func (a *Adapter) Clone() *Adapter {
	c, err := newAdapter(a.model, a.cfg)
	if err != nil { // a's config was already validated
		return nil
	}
	src, dst := a.params(), c.params()
	for i := range src {
		copy(dst[i].w, src[i].w)
		copy(dst[i].g, src[i].g)
	}
	c.refresh()
	return c
}
