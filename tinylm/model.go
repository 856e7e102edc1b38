package tinylm

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// model.go: the Model, its parameters, and the batched forward and backward
// passes that every training path (LoRA, full pretraining) goes through.

// block is one transformer layer.
type block struct {
	ln1                 layerNorm
	q, k, v, o, up, dwn *linear
	ln2                 layerNorm
}

// proj returns the projection for a LoRA target id.
func (b *block) proj(id int) *linear {
	switch id {
	case tQ:
		return b.q
	case tK:
		return b.k
	case tV:
		return b.v
	case tO:
		return b.o
	case tUp:
		return b.up
	default:
		return b.dwn
	}
}

// Model is the base transformer. Its weights are frozen during LoRA
// training; after New, Load or Pretrain it is never written again, so it is
// safe for concurrent use.
type Model struct {
	cfg    Config
	tokEmb *tensor // [Vocab,d]
	posEmb *tensor // [Context,d]
	layers []*block
	lnF    layerNorm
	head   *linear // d → Vocab
}

// newModel allocates a model with zero weights and unit LayerNorm gains.
func newModel(cfg Config) *Model {
	d := cfg.DModel
	m := &Model{
		cfg:    cfg,
		tokEmb: newTensor("model.embed_tokens.weight", cfg.Vocab, d),
		posEmb: newTensor("model.embed_positions.weight", cfg.Context, d),
		lnF:    newLayerNorm("model.norm", d),
		head:   newLinear("lm_head", d, cfg.Vocab),
	}
	for i := 0; i < cfg.Layers; i++ {
		p := fmt.Sprintf("model.layers.%d.", i)
		m.layers = append(m.layers, &block{
			ln1: newLayerNorm(p+"input_layernorm", d),
			q:   newLinear(p+"self_attn.q_proj", d, d),
			k:   newLinear(p+"self_attn.k_proj", d, d),
			v:   newLinear(p+"self_attn.v_proj", d, d),
			o:   newLinear(p+"self_attn.o_proj", d, d),
			ln2: newLayerNorm(p+"post_attention_layernorm", d),
			up:  newLinear(p+"mlp.up_proj", d, cfg.MLP),
			dwn: newLinear(p+"mlp.down_proj", cfg.MLP, d),
		})
	}
	return m
}

func newLayerNorm(name string, d int) layerNorm {
	ln := layerNorm{g: newTensor(name+".weight", d), b: newTensor(name+".bias", d)}
	for i := range ln.g.w {
		ln.g.w[i] = 1
	}
	return ln
}

// New returns a model with seeded random weights: GPT-2's initialisation
// (normal, std 0.02; residual output projections scaled by 1/sqrt(2·Layers);
// zero biases; unit LayerNorm gains).
func New(cfg Config) (m *Model, err error) {
	defer recoverInto(&err, "new model")
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	m = newModel(cfg)
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x7e11_1a))
	normal := func(t *tensor, std float64) {
		for i := range t.w {
			t.w[i] = float32(rng.NormFloat64() * std)
		}
	}
	normal(m.tokEmb, 0.02)
	normal(m.posEmb, 0.01)
	resid := 0.02 / math.Sqrt(2*float64(cfg.Layers))
	for _, b := range m.layers {
		normal(b.q.w, 0.02)
		normal(b.k.w, 0.02)
		normal(b.v.w, 0.02)
		normal(b.o.w, resid)
		normal(b.up.w, 0.02)
		normal(b.dwn.w, resid)
	}
	normal(m.head.w, 0.02)
	m.refresh()
	return m, nil
}

// Config returns the model's configuration (defaults applied).
func (m *Model) Config() Config { return m.cfg }

// params lists every base tensor in the canonical (checkpoint) order.
func (m *Model) params() []*tensor {
	ps := []*tensor{m.tokEmb, m.posEmb}
	for _, b := range m.layers {
		ps = append(ps, b.ln1.g, b.ln1.b)
		for _, l := range []*linear{b.q, b.k, b.v, b.o} {
			ps = append(ps, l.w, l.b)
		}
		ps = append(ps, b.ln2.g, b.ln2.b, b.up.w, b.up.b, b.dwn.w, b.dwn.b)
	}
	return append(ps, m.lnF.g, m.lnF.b, m.head.w, m.head.b)
}

// linears lists every linear layer.
func (m *Model) linears() []*linear {
	var ls []*linear
	for _, b := range m.layers {
		ls = append(ls, b.q, b.k, b.v, b.o, b.up, b.dwn)
	}
	return append(ls, m.head)
}

// refresh rebuilds the derived transposed weights after w changed.
func (m *Model) refresh() {
	for _, l := range m.linears() {
		l.refresh()
	}
}

// NumParams counts the base model's parameters.
func (m *Model) NumParams() int {
	n := 0
	for _, p := range m.params() {
		n += p.size()
	}
	return n
}

// baseTrainable reports whether the base has gradients (full training).
func (m *Model) baseTrainable() bool { return m.tokEmb.g != nil }

// recoverInto turns a panic into an error at the API edge. It must be
// deferred directly.
func recoverInto(err *error, op string) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("tinylm %s: internal error: %v", op, r)
	}
}

// layerTape holds one layer's activations for the backward pass.
type layerTape struct {
	x             []float32 // layer input (residual stream) [M,d]
	ln1           lnCache
	h1, q, k, v   []float32 // [M,d]
	att           []float32 // attention output before o_proj [M,d]
	probs         []float32 // attention probabilities (attnLayout)
	x1            []float32 // residual after attention [M,d]
	ln2           lnCache
	h2            []float32 // [M,d]
	pre, act, cdf []float32 // MLP pre-activation, GELU output, Φ(pre) [M,MLP]
}

// Tape is the result of Forward, kept for Backward. Logprobs[b][t] is the
// log-probability of seqs[b][t+1] given seqs[b][:t+1], for t < len(seqs[b])-1;
// Entropy[b][t] is the entropy (nats) of that next-token distribution;
// Values[b][t] is the value head's output at position t (nil without a
// value head).
type Tape struct {
	Logprobs [][]float32
	Values   [][]float32
	Entropy  [][]float32

	model     *Model
	adapter   *Adapter
	version   int
	M         int
	parts     []*Tape // groups run in parallel, in batch order; nil for one group
	lay       attnLayout
	tokens    []int
	positions []int
	target    []int // next token of each row, -1 for the last row of a sequence
	layers    []layerTape
	xL        []float32 // final residual stream [M,d]
	lnF       lnCache
	hf        []float32 // final hidden state [M,d]
	logp      []float32 // log-softmax of the logits [M,Vocab]
	arena     *arena    // where the activations live (nil for a parent of parts)
	released  bool
}

// Tokens returns the number of tokens in the batch.
func (t *Tape) Tokens() int { return t.M }

// Forward runs a batch of token sequences through the model with adapter a
// (nil: the base model, the reference policy). Sequences keep their own
// lengths (1 ≤ len ≤ Context) and are not padded.
func (m *Model) Forward(a *Adapter, seqs [][]int) (t *Tape, err error) {
	defer recoverInto(&err, "forward")
	if err := m.checkAdapter(a); err != nil {
		return nil, err
	}
	spans, err := m.packSpans(seqs)
	if err != nil {
		return nil, err
	}
	t = m.forward(a, seqs, spans)
	if a == nil && !m.baseTrainable() {
		// Nothing can be trained through this tape (Backward refuses it),
		// so its activations go back for reuse at once.
		t.Release()
	}
	return t, nil
}

func (m *Model) checkAdapter(a *Adapter) error {
	if m == nil {
		return errors.New("nil model")
	}
	if a != nil && a.model != m {
		return errors.New("adapter belongs to another model instance (load it with LoadPEFT for this model)")
	}
	return nil
}

// packSpans validates seqs and lays them out back to back.
func (m *Model) packSpans(seqs [][]int) ([]span, error) {
	if len(seqs) == 0 {
		return nil, errors.New("empty batch")
	}
	spans := make([]span, len(seqs))
	M := 0
	for b, s := range seqs {
		if len(s) == 0 {
			return nil, fmt.Errorf("sequence %d is empty", b)
		}
		if len(s) > m.cfg.Context {
			return nil, fmt.Errorf("sequence %d has %d tokens, context is %d", b, len(s), m.cfg.Context)
		}
		for i, id := range s {
			if id < 0 || id >= m.cfg.Vocab {
				return nil, fmt.Errorf("sequence %d token %d: id %d out of vocabulary [0,%d)", b, i, id, m.cfg.Vocab)
			}
		}
		spans[b] = span{start: M, n: len(s)}
		M += len(s)
	}
	return spans, nil
}

// forwardPart runs one group of sequences on the calling goroutine (its
// products and row-wise steps still use every CPU).
func (m *Model) forwardPart(a *Adapter, seqs [][]int, spans []span) *Tape {
	cfg := m.cfg
	d, V, F := cfg.DModel, cfg.Vocab, cfg.MLP
	M := 0
	for _, s := range spans {
		M += s.n
	}
	t := &Tape{model: m, adapter: a, M: M, lay: newAttnLayout(spans, cfg.Heads)}
	if a != nil {
		t.version = a.version
	}
	t.tokens = make([]int, 0, M)
	t.positions = make([]int, 0, M)
	t.target = make([]int, 0, M)
	for _, s := range seqs {
		for i, id := range s {
			t.tokens = append(t.tokens, id)
			t.positions = append(t.positions, i)
			if i+1 < len(s) {
				t.target = append(t.target, s[i+1])
			} else {
				t.target = append(t.target, -1)
			}
		}
	}
	ar := tapeArenas.get()
	t.arena = ar
	x := ar.take(M * d)
	embedForward(x, m.tokEmb, m.posEmb, t.tokens, t.positions, d)
	t.layers = make([]layerTape, cfg.Layers)
	lnc := func() lnCache { return lnCache{xhat: ar.take(M * d), rstd: ar.take(M)} }
	for li, b := range m.layers {
		lt := &t.layers[li]
		lt.x = x
		var lps [numTargets]*loraPair
		if a != nil {
			lps = a.layers[li]
		}
		lt.ln1 = lnc()
		lt.h1 = ar.take(M * d)
		layerNormForward(lt.h1, x, b.ln1.g.w, b.ln1.b.w, M, d, lt.ln1)
		lt.q, lt.k, lt.v = ar.take(M*d), ar.take(M*d), ar.take(M*d)
		linearForward(b.q, lps[tQ], lt.h1, lt.q, M)
		linearForward(b.k, lps[tK], lt.h1, lt.k, M)
		linearForward(b.v, lps[tV], lt.h1, lt.v, M)
		lt.att = ar.take(M * d)
		lt.probs = ar.take(t.lay.total)
		attentionForward(lt.att, lt.q, lt.k, lt.v, t.lay, d, lt.probs)
		lt.x1 = ar.take(M * d)
		linearForward(b.o, lps[tO], lt.att, lt.x1, M)
		addTo(lt.x1, x)
		lt.ln2 = lnc()
		lt.h2 = ar.take(M * d)
		layerNormForward(lt.h2, lt.x1, b.ln2.g.w, b.ln2.b.w, M, d, lt.ln2)
		lt.pre, lt.act, lt.cdf = ar.take(M*F), ar.take(M*F), ar.take(M*F)
		linearForward(b.up, lps[tUp], lt.h2, lt.pre, M)
		geluForward(lt.act, lt.cdf, lt.pre)
		x = ar.take(M * d)
		linearForward(b.dwn, lps[tDown], lt.act, x, M)
		addTo(x, lt.x1)
	}
	t.xL = x
	t.lnF = lnc()
	t.hf = ar.take(M * d)
	layerNormForward(t.hf, x, m.lnF.g.w, m.lnF.b.w, M, d, t.lnF)
	t.logp = ar.take(M * V)
	linearForward(m.head, nil, t.hf, t.logp, M)
	// What the caller sees is allocated on its own, so it outlives Release.
	lp := make([]float32, M)
	ent := make([]float32, M)
	headLogSoftmax(t.logp, t.target, lp, ent, M, V)
	var vals []float32
	if a != nil && a.valueW != nil {
		vals = make([]float32, M)
		valueForward(vals, t.hf, a.valueW.w, a.valueB.w[0], M, d)
	}
	t.Logprobs = make([][]float32, len(spans))
	t.Entropy = make([][]float32, len(spans))
	if vals != nil {
		t.Values = make([][]float32, len(spans))
	}
	for b, s := range spans {
		n := s.n - 1
		t.Logprobs[b] = lp[s.start : s.start+n : s.start+n]
		t.Entropy[b] = ent[s.start : s.start+n : s.start+n]
		if vals != nil {
			t.Values[b] = vals[s.start : s.start+n : s.start+n]
		}
	}
	return t
}

// Backward accumulates gradients for the loss whose derivatives are
// dLogp[b][t] = dL/dLogprobs[b][t] and dValue[b][t] = dL/dValues[b][t]
// into the tape's adapter (and into the base when it is being pretrained).
// A nil outer or inner slice means zeros. Calling Backward twice on one tape
// adds twice; a tape from before the adapter's last Step is refused.
func (m *Model) Backward(t *Tape, dLogp, dValue [][]float32) error {
	return m.BackwardEntropy(t, dLogp, dValue, nil)
}

// BackwardEntropy is Backward with dEntropy[b][t] = dL/dEntropy[b][t] as
// well (for an entropy bonus).
func (m *Model) BackwardEntropy(t *Tape, dLogp, dValue, dEntropy [][]float32) (err error) {
	defer recoverInto(&err, "backward")
	if t == nil || t.model != m {
		return errors.New("backward: tape is nil or from another model")
	}
	a := t.adapter
	if a == nil && !m.baseTrainable() {
		return errors.New("backward: tape has no adapter, nothing to train (run Forward with an adapter)")
	}
	if t.released {
		return errReleased
	}
	if a != nil && a.version != t.version {
		return fmt.Errorf("backward: stale tape: the adapter took %d step(s) since Forward", a.version-t.version)
	}
	check := func(name string, g [][]float32) error {
		if g == nil {
			return nil
		}
		if len(g) != len(t.Logprobs) {
			return fmt.Errorf("backward: %s has %d sequences, tape has %d", name, len(g), len(t.Logprobs))
		}
		for b, row := range g {
			if row != nil && len(row) != len(t.Logprobs[b]) {
				return fmt.Errorf("backward: %s[%d] has %d positions, want %d", name, b, len(row), len(t.Logprobs[b]))
			}
		}
		return nil
	}
	if err := errors.Join(check("dLogp", dLogp), check("dValue", dValue), check("dEntropy", dEntropy)); err != nil {
		return err
	}
	if dValue != nil && t.Values == nil {
		return errors.New("backward: dValue given but the adapter has no value head")
	}
	m.backward(t, flatten(dLogp, t), flatten(dValue, t), flatten(dEntropy, t))
	return nil
}

// flatten lays per-sequence gradients out by row (nil when g is nil).
func flatten(g [][]float32, t *Tape) []float32 {
	if g == nil {
		return nil
	}
	out := make([]float32, t.M)
	for b, row := range g {
		copy(out[t.lay.spans[b].start:], row)
	}
	return out
}

// backwardPart runs the backward pass of one group's tape, writing
// gradients into m's and a's tensors (shadows when groups run in parallel).
func (m *Model) backwardPart(t *Tape, a *Adapter, dLogp, dValue, dEnt []float32) {
	cfg := m.cfg
	d, V, F, M := cfg.DModel, cfg.Vocab, cfg.MLP, t.M
	full := m.baseTrainable()

	ar := scratchArenas.get()
	defer scratchArenas.put(ar)
	sc := getLinearScratch()
	defer putLinearScratch(sc)
	dlogits := ar.take(M * V)
	clear(dlogits) // headBackward skips rows without a gradient
	headBackward(dlogits, t.logp, t.target, dLogp, dEnt, M, V)
	dh := ar.take(M * d)
	clear(dh)
	linearBackward(m.head, nil, t.hf, dlogits, dh, M, sc)
	if dValue != nil {
		valueBackward(dh, dValue, t.hf, a.valueW, a.valueB, M, d)
	}
	dx := ar.take(M * d)
	clear(dx)
	layerNormBackward(dx, dh, m.lnF, M, d, t.lnF)

	dact, dpre := ar.take(M*F), ar.take(M*F)
	datt, dq, dk, dv := ar.take(M*d), ar.take(M*d), ar.take(M*d), ar.take(M*d)
	for li := len(m.layers) - 1; li >= 0; li-- {
		b := m.layers[li]
		lt := &t.layers[li]
		var lps [numTargets]*loraPair
		if a != nil {
			lps = a.layers[li]
		}
		// MLP: x2 = x1 + down(GELU(up(LN2(x1))))
		clear(dact)
		linearBackward(b.dwn, lps[tDown], lt.act, dx, dact, M, sc)
		geluBackward(dpre, dact, lt.pre, lt.cdf)
		clear(dh)
		linearBackward(b.up, lps[tUp], lt.h2, dpre, dh, M, sc)
		layerNormBackward(dx, dh, b.ln2, M, d, lt.ln2)
		// attention: x1 = x + o(attn(q,k,v)(LN1(x)))
		clear(datt)
		linearBackward(b.o, lps[tO], lt.att, dx, datt, M, sc)
		attentionBackward(dq, dk, dv, datt, lt.q, lt.k, lt.v, t.lay, d, lt.probs)
		// The first layer's input gradient only feeds the embeddings.
		needDx := li > 0 || full
		var dh1 []float32
		if needDx {
			clear(dh)
			dh1 = dh
		}
		linearBackward(b.q, lps[tQ], lt.h1, dq, dh1, M, sc)
		linearBackward(b.k, lps[tK], lt.h1, dk, dh1, M, sc)
		linearBackward(b.v, lps[tV], lt.h1, dv, dh1, M, sc)
		if needDx {
			layerNormBackward(dx, dh, b.ln1, M, d, lt.ln1)
		}
	}
	if full {
		embedBackward(dx, m.tokEmb, m.posEmb, t.tokens, t.positions, d)
	}
}
