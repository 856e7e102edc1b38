package tinylm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// sample.go: autoregressive sampling with a KV cache. The prompt is run once
// (the same batched forward pass as training); its keys and values are
// shared by the N samples, and each sample appends its own.

// SampleOptions configures Sample. The zero value is usable: one greedy
// sample up to the context limit.
type SampleOptions struct {
	N         int // samples to draw; 0 means 1
	MaxTokens int // new tokens per sample; 0 means up to the context
	// Temperature scales the logits; 0 means greedy decoding.
	Temperature float64
	// TopP keeps the smallest set of tokens whose (temperature-scaled)
	// probability reaches TopP; 0 or 1 means no truncation.
	TopP float64
	// StopTokens end a sample; the stop token is included in Tokens.
	StopTokens []int
	// Seed makes sampling deterministic: sample i uses its own stream
	// derived from (Seed, i), so results do not depend on N.
	Seed int64
}

// Finish reasons.
const (
	FinishStop   = "stop"
	FinishLength = "length"
)

// Sampled is one sampled continuation.
type Sampled struct {
	Tokens []int
	// Logprobs[i] is log p_T(Tokens[i]) under softmax(logits/T), before
	// top-p truncation (the model's own logprob when T is 0 or 1).
	Logprobs     []float64
	FinishReason string // FinishStop or FinishLength
}

// kvCache is one layer's keys and values in head-major blocks:
// k[h][j*hd:(j+1)*hd] is key j of head h.
type kvCache struct{ k, v [][]float32 }

func newKVCache(heads, rows, hd int) kvCache {
	c := kvCache{k: make([][]float32, heads), v: make([][]float32, heads)}
	for h := range c.k {
		c.k[h] = make([]float32, rows*hd)
		c.v[h] = make([]float32, rows*hd)
	}
	return c
}

// put stores row-layout key and value rows ([d]) at position j.
func (c kvCache) put(j int, k, v []float32, hd int) {
	for h := range c.k {
		copy(c.k[h][j*hd:(j+1)*hd], k[h*hd:(h+1)*hd])
		copy(c.v[h][j*hd:(j+1)*hd], v[h*hd:(h+1)*hd])
	}
}

// Sample draws o.N continuations of prompt with adapter a (nil: the base).
func (m *Model) Sample(ctx context.Context, a *Adapter, prompt []int, o SampleOptions) (out []Sampled, err error) {
	defer recoverInto(&err, "sample")
	if err := m.checkAdapter(a); err != nil {
		return nil, err
	}
	cfg := m.cfg
	if len(prompt) == 0 {
		return nil, errors.New("sample: empty prompt")
	}
	if len(prompt) >= cfg.Context {
		return nil, fmt.Errorf("sample: prompt has %d tokens, context is %d (no room to generate)", len(prompt), cfg.Context)
	}
	if o.N == 0 {
		o.N = 1
	}
	room := cfg.Context - len(prompt)
	if o.MaxTokens == 0 || o.MaxTokens > room {
		o.MaxTokens = room
	}
	if o.TopP == 0 {
		o.TopP = 1
	}
	switch {
	case o.N < 0 || o.N > 4096:
		return nil, fmt.Errorf("sample: n %d out of range [1, 4096]", o.N)
	case o.MaxTokens < 0:
		return nil, fmt.Errorf("sample: max tokens %d is negative", o.MaxTokens)
	case o.Temperature < 0 || math.IsNaN(o.Temperature) || math.IsInf(o.Temperature, 0):
		return nil, fmt.Errorf("sample: temperature %v must be finite and ≥ 0", o.Temperature)
	case !(o.TopP > 0 && o.TopP <= 1):
		return nil, fmt.Errorf("sample: top_p %v must be in (0, 1]", o.TopP)
	}
	spans, err := m.packSpans([][]int{prompt})
	if err != nil {
		return nil, fmt.Errorf("sample: prompt: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := m.newSampler(a, prompt, spans, o)
	if err := s.run(ctx); err != nil {
		return nil, err
	}
	return s.out, nil
}

// sampler is the state of one Sample call.
type sampler struct {
	m      *Model
	a      *Adapter
	o      SampleOptions
	P      int         // prompt length
	prompt []kvCache   // per layer, shared by all samples
	own    [][]kvCache // [sample][layer]
	out    []Sampled
	rngs   []*rand.Rand
	first  []float32 // log-softmax after the prompt [V]
	stop   map[int]bool
}

func (m *Model) newSampler(a *Adapter, prompt []int, spans []span, o SampleOptions) *sampler {
	cfg := m.cfg
	hd := cfg.headDim()
	P := len(prompt)
	tp := m.forward(a, [][]int{prompt}, spans)
	s := &sampler{m: m, a: a, o: o, P: P, stop: map[int]bool{}}
	for _, id := range o.StopTokens {
		s.stop[id] = true
	}
	for _, lt := range tp.layers {
		c := newKVCache(cfg.Heads, P, hd)
		for j := 0; j < P; j++ {
			c.put(j, lt.k[j*cfg.DModel:(j+1)*cfg.DModel], lt.v[j*cfg.DModel:(j+1)*cfg.DModel], hd)
		}
		s.prompt = append(s.prompt, c)
	}
	V := cfg.Vocab
	s.first = slices.Clone(tp.logp[(P-1)*V : P*V])
	tp.Release()
	s.out = make([]Sampled, o.N)
	s.own = make([][]kvCache, o.N)
	s.rngs = make([]*rand.Rand, o.N)
	for i := range s.out {
		s.rngs[i] = rand.New(rand.NewPCG(uint64(o.Seed), uint64(i)))
		for range cfg.Layers {
			s.own[i] = append(s.own[i], newKVCache(cfg.Heads, o.MaxTokens, hd))
		}
	}
	return s
}

func (s *sampler) run(ctx context.Context) error {
	cfg := s.m.cfg
	V := cfg.Vocab
	active := make([]int, 0, s.o.N) // samples still generating
	var last []int                  // their last token
	for i := range s.out {
		if s.o.MaxTokens == 0 {
			s.out[i].FinishReason = FinishLength
			continue
		}
		tok, lp := s.pick(i, s.first)
		if s.record(i, tok, lp) {
			active = append(active, i)
			last = append(last, tok)
		}
	}
	var st decodeState
	for step := 0; len(active) > 0; step++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Decode the token each active sample just produced, at
		// position P+step, and pick the next one.
		logp := s.decode(&st, active, last, step)
		nextActive, nextLast := active[:0], last[:0]
		for r, i := range active {
			tok, lp := s.pick(i, logp[r*V:(r+1)*V])
			if s.record(i, tok, lp) {
				nextActive = append(nextActive, i)
				nextLast = append(nextLast, tok)
			}
		}
		active, last = nextActive, nextLast
	}
	return nil
}

// record appends a token to sample i and reports whether it continues.
func (s *sampler) record(i, tok int, lp float64) bool {
	o := &s.out[i]
	o.Tokens = append(o.Tokens, tok)
	o.Logprobs = append(o.Logprobs, lp)
	switch {
	case s.stop[tok]:
		o.FinishReason = FinishStop
	case len(o.Tokens) >= s.o.MaxTokens:
		o.FinishReason = FinishLength
	default:
		return true
	}
	return false
}

// pick draws the next token of sample i from the log-softmax row logp.
func (s *sampler) pick(i int, logp []float32) (int, float64) {
	T := s.o.Temperature
	if T == 0 {
		best := 0
		for j, x := range logp {
			if x > logp[best] {
				best = j
			}
		}
		return best, float64(logp[best])
	}
	// log q = log_softmax(logp / T), in float64.
	lq := make([]float64, len(logp))
	mx := math.Inf(-1)
	for j, x := range logp {
		lq[j] = float64(x) / T
		mx = max(mx, lq[j])
	}
	var z float64
	for _, x := range lq {
		z += math.Exp(x - mx)
	}
	logZ := mx + math.Log(z)
	for j := range lq {
		lq[j] -= logZ
	}
	rng := s.rngs[i]
	if s.o.TopP >= 1 {
		u := rng.Float64()
		var c float64
		for j, x := range lq {
			c += math.Exp(x)
			if u < c {
				return j, lq[j]
			}
		}
		j := argmax64(lq) // rounding left u above the total
		return j, lq[j]
	}
	idx := make([]int, len(lq))
	for j := range idx {
		idx[j] = j
	}
	slices.SortStableFunc(idx, func(x, y int) int {
		switch {
		case lq[x] > lq[y]:
			return -1
		case lq[x] < lq[y]:
			return 1
		}
		return 0
	})
	var mass float64
	keep := 0
	for keep < len(idx) {
		mass += math.Exp(lq[idx[keep]])
		keep++
		if mass >= s.o.TopP {
			break
		}
	}
	u := rng.Float64() * mass
	var c float64
	for _, j := range idx[:keep] {
		c += math.Exp(lq[j])
		if u < c {
			return j, lq[j]
		}
	}
	j := idx[0]
	return j, lq[j]
}

func argmax64(x []float64) int {
	best := 0
	for j, v := range x {
		if v > x[best] {
			best = j
		}
	}
	return best
}

// decodeState is scratch reused across decode steps.
type decodeState struct {
	x, h, q, k, v, att, x1, pre, act, cdf, logits []float32
}

// decode runs one token per active sample through the model (the token at
// position P+step) and returns the log-softmax rows [n,V].
func (s *sampler) decode(st *decodeState, active, last []int, step int) []float32 {
	m := s.m
	cfg := m.cfg
	d, F, V, H, hd := cfg.DModel, cfg.MLP, cfg.Vocab, cfg.Heads, cfg.headDim()
	n := len(active)
	st.x = grow(st.x, n*d)
	st.h = grow(st.h, n*d)
	st.q = grow(st.q, n*d)
	st.k = grow(st.k, n*d)
	st.v = grow(st.v, n*d)
	st.att = grow(st.att, n*d)
	st.x1 = grow(st.x1, n*d)
	st.pre = grow(st.pre, n*F)
	st.act = grow(st.act, n*F)
	st.cdf = grow(st.cdf, n*F)
	st.logits = grow(st.logits, n*V)
	pos := s.P + step
	positions := make([]int, n)
	for r := range positions {
		positions[r] = pos
	}
	embedForward(st.x, m.tokEmb, m.posEmb, last, positions, d)
	scale := float32(1 / math.Sqrt(float64(hd)))
	for li, b := range m.layers {
		var lps [numTargets]*loraPair
		if s.a != nil {
			lps = s.a.layers[li]
		}
		normRows(st.h, st.x, b.ln1, n, d)
		linearForward(b.q, lps[tQ], st.h, st.q, n)
		linearForward(b.k, lps[tK], st.h, st.k, n)
		linearForward(b.v, lps[tV], st.h, st.v, n)
		for r, i := range active {
			s.own[i][li].put(step, st.k[r*d:(r+1)*d], st.v[r*d:(r+1)*d], hd)
		}
		pc := s.prompt[li]
		parallelFor(n*H, 4, func(lo, hi int) {
			L := s.P + step + 1
			scores := make([]float32, L)
			qh := make([]float32, hd)
			tmp := make([]float32, hd)
			for task := lo; task < hi; task++ {
				r, h := task/H, task%H
				oc := s.own[active[r]][li]
				for c := range qh {
					qh[c] = st.q[r*d+h*hd+c] * scale
				}
				matmul(scores[:s.P], pc.k[h], qh, s.P, hd, 1)
				matmul(scores[s.P:], oc.k[h], qh, step+1, hd, 1)
				softmaxCausalRow(scores, L-1, 1)
				out := st.att[r*d+h*hd : r*d+(h+1)*hd]
				matmul(out, scores[:s.P], pc.v[h], 1, s.P, hd)
				matmul(tmp, scores[s.P:], oc.v[h], 1, step+1, hd)
				addTo(out, tmp)
			}
		})
		linearForward(b.o, lps[tO], st.att, st.x1, n)
		addTo(st.x1, st.x)
		normRows(st.h, st.x1, b.ln2, n, d)
		linearForward(b.up, lps[tUp], st.h, st.pre, n)
		geluForward(st.act, st.cdf, st.pre)
		linearForward(b.dwn, lps[tDown], st.act, st.x, n)
		addTo(st.x, st.x1)
	}
	normRows(st.h, st.x, m.lnF, n, d)
	linearForward(m.head, nil, st.h, st.logits, n)
	e := make([]float32, V)
	for r := 0; r < n; r++ {
		logSoftmaxRow(st.logits[r*V:(r+1)*V], e)
	}
	return st.logits
}

// normRows applies a LayerNorm to n rows without keeping a cache.
func normRows(y, x []float32, ln layerNorm, n, d int) {
	for r := 0; r < n; r++ {
		layerNormRow(y[r*d:(r+1)*d], x[r*d:(r+1)*d], ln.g.w, ln.b.w, nil, nil)
	}
}
