package tinylm

// parallel.go: data parallelism over the batch. A batch of several
// sequences is cut into one contiguous group per CPU (balanced by tokens);
// each group runs its whole forward and backward pass on its own goroutine,
// so the row-wise steps between products (norms, GELU, copies, bias adds,
// the LoRA bookkeeping) overlap instead of leaving a core idle. Backward
// passes write into private gradient "shadows" of the trained tensors, summed
// in group order afterwards, so results do not depend on scheduling.

// splitBatch cuts spans into at most w contiguous groups of about equal
// token counts; it returns group boundaries as sequence indexes.
func splitBatch(spans []span, w int) []int {
	total := 0
	for _, s := range spans {
		total += s.n
	}
	w = min(w, len(spans))
	cuts := []int{0}
	acc := 0
	for b, s := range spans {
		acc += s.n
		// Group len(cuts)-1 is being filled; cut after b when that leaves
		// it closer to its share of tokens than cutting after b+1 would.
		g := len(cuts)
		if g < w && b+1 < len(spans) && absInt(acc*w-total*g) <= absInt((acc+spans[b+1].n)*w-total*g) {
			cuts = append(cuts, b+1)
		}
	}
	return append(cuts, len(spans))
}

// forward runs the batch, in parallel groups when it has several sequences.
func (m *Model) forward(a *Adapter, seqs [][]int, spans []span) *Tape {
	cuts := splitBatch(spans, workers())
	if len(cuts) <= 2 {
		return m.forwardPart(a, seqs, spans)
	}
	t := &Tape{model: m, adapter: a, parts: make([]*Tape, len(cuts)-1)}
	if a != nil {
		t.version = a.version
	}
	for _, s := range spans {
		t.M += s.n
	}
	parallelFor(len(t.parts), 1, func(lo, hi int) {
		for g := lo; g < hi; g++ {
			part := seqs[cuts[g]:cuts[g+1]]
			local := make([]span, len(part))
			off := 0
			for i, s := range part {
				local[i] = span{start: off, n: len(s)}
				off += len(s)
			}
			t.parts[g] = m.forwardPart(a, part, local)
		}
	})
	t.lay = attnLayout{spans: spans}
	for _, p := range t.parts {
		t.Logprobs = append(t.Logprobs, p.Logprobs...)
		t.Entropy = append(t.Entropy, p.Entropy...)
		if p.Values != nil {
			t.Values = append(t.Values, p.Values...)
		}
	}
	return t
}

// backward runs the backward pass; dLogp, dValue and dEnt are per row of
// the whole batch (nil for zeros).
func (m *Model) backward(t *Tape, dLogp, dValue, dEnt []float32) {
	a := t.adapter
	if t.parts == nil {
		m.backwardPart(t, a, dLogp, dValue, dEnt)
		return
	}
	rows := func(g []float32, off, n int) []float32 {
		if g == nil {
			return nil
		}
		return g[off : off+n]
	}
	full := m.baseTrainable()
	ms := make([]*Model, len(t.parts))
	as := make([]*Adapter, len(t.parts))
	offs := make([]int, len(t.parts))
	off := 0
	for g, p := range t.parts {
		offs[g] = off
		off += p.M
		ms[g] = m
		if full {
			ms[g] = m.shadow()
		}
		if a != nil {
			as[g] = a.shadow()
		}
	}
	parallelFor(len(t.parts), 1, func(lo, hi int) {
		for g := lo; g < hi; g++ {
			p := t.parts[g]
			ms[g].backwardPart(p, as[g], rows(dLogp, offs[g], p.M), rows(dValue, offs[g], p.M), rows(dEnt, offs[g], p.M))
		}
	})
	for g := range t.parts {
		if full {
			addGrads(m.params(), ms[g].params())
		}
		if a != nil {
			addGrads(a.params(), as[g].params())
		}
	}
}

// shadow returns a tensor sharing t's weights with a private zero gradient
// (nil when t is frozen).
func (t *tensor) shadow() *tensor {
	s := &tensor{name: t.name, shape: t.shape, w: t.w}
	if t.g != nil {
		s.g = make([]float32, len(t.g))
	}
	return s
}

func (l *linear) shadow() *linear {
	return &linear{in: l.in, out: l.out, w: l.w.shadow(), b: l.b.shadow(), wT: l.wT}
}

func (ln layerNorm) shadow() layerNorm { return layerNorm{g: ln.g.shadow(), b: ln.b.shadow()} }

// shadow returns a model sharing m's weights with private gradients.
func (m *Model) shadow() *Model {
	s := &Model{cfg: m.cfg, tokEmb: m.tokEmb.shadow(), posEmb: m.posEmb.shadow(), lnF: m.lnF.shadow(), head: m.head.shadow()}
	for _, b := range m.layers {
		s.layers = append(s.layers, &block{
			ln1: b.ln1.shadow(), q: b.q.shadow(), k: b.k.shadow(), v: b.v.shadow(), o: b.o.shadow(),
			ln2: b.ln2.shadow(), up: b.up.shadow(), dwn: b.dwn.shadow(),
		})
	}
	return s
}

// shadow returns an adapter sharing a's weights and fused matrices with
// private gradients.
func (a *Adapter) shadow() *Adapter {
	s := *a
	s.layers = make([][numTargets]*loraPair, len(a.layers))
	for li, l := range a.layers {
		for id, p := range l {
			if p != nil {
				q := *p
				q.a, q.b = p.a.shadow(), p.b.shadow()
				s.layers[li][id] = &q
			}
		}
	}
	if a.valueW != nil {
		s.valueW, s.valueB = a.valueW.shadow(), a.valueB.shadow()
	}
	return &s
}

// addGrads adds src[i].g to dst[i].g (the same parameters, shadow and real).
func addGrads(dst, src []*tensor) {
	for i, t := range dst {
		if t.g != nil {
			addTo(t.g, src[i].g)
		}
	}
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
