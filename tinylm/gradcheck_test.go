package tinylm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Finite-difference gradient checks, one per op and one over the whole
// model. Every check builds a scalar loss L = Σ c·y with random c, runs the
// op's backward with dL/dy = c, and compares each analytic gradient entry
// with the central difference (L(x+ε) − L(x−ε)) / 2ε computed in float32
// forward passes.

func randSlice(rng *rand.Rand, n int, scale float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64() * scale)
	}
	return s
}

func weightedSum(c, y []float32) float64 {
	var s float64
	for i := range c {
		s += float64(c[i]) * float64(y[i])
	}
	return s
}

// checkGrad compares analytic[i] with the numeric derivative of loss with
// respect to x[i], for every i (or maxN evenly spread entries).
func checkGrad(t *testing.T, name string, x, analytic []float32, loss func() float64, maxN int) {
	t.Helper()
	const eps = 1e-2
	n := len(x)
	stride := 1
	if maxN > 0 && n > maxN {
		stride = n / maxN
	}
	bad := 0
	for i := 0; i < n; i += stride {
		orig := x[i]
		x[i] = orig + eps
		lp := loss()
		x[i] = orig - eps
		lm := loss()
		x[i] = orig
		num := (lp - lm) / (2 * eps)
		ana := float64(analytic[i])
		if d := math.Abs(num - ana); d > 2e-3+2e-2*math.Max(math.Abs(num), math.Abs(ana)) {
			if bad < 5 {
				t.Errorf("%s[%d]: analytic %.6g, numeric %.6g", name, i, ana, num)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d mismatching entries", name, bad)
	}
}

func TestGradMatmul(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range [][3]int{{3, 4, 5}, {7, 2, 9}, {1, 6, 1}} {
		m, k, n := s[0], s[1], s[2]
		t.Run(fmt.Sprintf("%dx%dx%d", m, k, n), func(t *testing.T) {
			a, b, c := randSlice(rng, m*k, 1), randSlice(rng, k*n, 1), randSlice(rng, m*n, 1)
			y := make([]float32, m*n)
			loss := func() float64 { matmul(y, a, b, m, k, n); return weightedSum(c, y) }
			// dA = C·Bᵀ, dB = Aᵀ·C
			bT, aT := make([]float32, n*k), make([]float32, k*m)
			transpose(bT, b, k, n)
			transpose(aT, a, m, k)
			da, db := make([]float32, m*k), make([]float32, k*n)
			matmul(da, c, bT, m, n, k)
			matmul(db, aT, c, k, m, n)
			checkGrad(t, "dA", a, da, loss, 0)
			checkGrad(t, "dB", b, db, loss, 0)
		})
	}
}

func TestGradLayerNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const M, d = 5, 8
	x := randSlice(rng, M*d, 2)
	ln := newLayerNorm("ln", d)
	copy(ln.g.w, randSlice(rng, d, 1))
	copy(ln.b.w, randSlice(rng, d, 1))
	ln.g.trainable()
	ln.b.trainable()
	c := randSlice(rng, M*d, 1)
	y := make([]float32, M*d)
	cache := lnCache{xhat: make([]float32, M*d), rstd: make([]float32, M)}
	loss := func() float64 { layerNormForward(y, x, ln.g.w, ln.b.w, M, d, cache); return weightedSum(c, y) }
	loss()
	dx := make([]float32, M*d)
	layerNormBackward(dx, c, ln, M, d, cache)
	checkGrad(t, "dx", x, dx, loss, 0)
	checkGrad(t, "dg", ln.g.w, ln.g.g, loss, 0)
	checkGrad(t, "db", ln.b.w, ln.b.g, loss, 0)
}

func TestGradAttention(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const d, H = 8, 2
	// 27 and 50 cross causalBlock boundaries (several causal blocks).
	for _, lens := range [][]int{{1}, {4}, {3, 5}, {27, 50}} {
		t.Run(fmt.Sprint(lens), func(t *testing.T) {
			var spans []span
			M := 0
			for _, n := range lens {
				spans = append(spans, span{M, n})
				M += n
			}
			lay := newAttnLayout(spans, H)
			q, k, v := randSlice(rng, M*d, 1), randSlice(rng, M*d, 1), randSlice(rng, M*d, 1)
			c := randSlice(rng, M*d, 1)
			out := make([]float32, M*d)
			probs := make([]float32, lay.total)
			loss := func() float64 { attentionForward(out, q, k, v, lay, d, probs); return weightedSum(c, out) }
			loss()
			dq, dk, dv := make([]float32, M*d), make([]float32, M*d), make([]float32, M*d)
			attentionBackward(dq, dk, dv, c, q, k, v, lay, d, probs)
			checkGrad(t, "dq", q, dq, loss, 0)
			checkGrad(t, "dk", k, dk, loss, 0)
			checkGrad(t, "dv", v, dv, loss, 0)
		})
	}
}

// TestAttentionCausal checks that a query never sees later keys: changing
// the last token's k and v leaves every earlier output unchanged.
func TestAttentionCausal(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const d, H, L = 8, 2, 6
	lay := newAttnLayout([]span{{0, L}}, H)
	q, k, v := randSlice(rng, L*d, 1), randSlice(rng, L*d, 1), randSlice(rng, L*d, 1)
	out1, out2 := make([]float32, L*d), make([]float32, L*d)
	probs := make([]float32, lay.total)
	attentionForward(out1, q, k, v, lay, d, probs)
	for j := (L - 1) * d; j < L*d; j++ {
		k[j] += 3
		v[j] -= 2
	}
	attentionForward(out2, q, k, v, lay, d, probs)
	for i := 0; i < (L-1)*d; i++ {
		if out1[i] != out2[i] {
			t.Fatalf("output %d changed when only the last key changed: %v → %v", i, out1[i], out2[i])
		}
	}
	if out1[(L-1)*d] == out2[(L-1)*d] {
		t.Fatal("last output did not change with its own key/value")
	}
}

func TestGELU(t *testing.T) {
	xs := []float32{-12, -5, -3, -1.5, -1, -0.3, 0, 1e-3, 0.5, 1, 2.5, 4, 9}
	act := make([]float32, len(xs))
	geluForward(act, make([]float32, len(xs)), xs)
	for i, x := range xs {
		want := geluExact(float64(x))
		if d := math.Abs(float64(act[i]) - want); d > 1e-6*math.Max(1, math.Abs(want)) {
			t.Errorf("gelu(%v) = %v, want %v", x, act[i], want)
		}
	}
	rng := rand.New(rand.NewPCG(9, 10))
	x := randSlice(rng, 3000, 2) // spans several chunks
	c := randSlice(rng, len(x), 1)
	y, cdf := make([]float32, len(x)), make([]float32, len(x))
	loss := func() float64 { geluForward(y, cdf, x); return weightedSum(c, y) }
	loss()
	dx := make([]float32, len(x))
	geluBackward(dx, c, x, cdf)
	checkGrad(t, "dx", x, dx, loss, 300)
}

func TestGradHead(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const M, V = 4, 7
	logits := randSlice(rng, M*V, 2)
	target := []int{3, 0, -1, 6}
	gLp, gEnt := randSlice(rng, M, 1), randSlice(rng, M, 1)
	work := make([]float32, M*V)
	lp, ent := make([]float32, M), make([]float32, M)
	loss := func() float64 {
		copy(work, logits)
		headLogSoftmax(work, target, lp, ent, M, V)
		var s float64
		for r := range M {
			if target[r] >= 0 {
				s += float64(gLp[r])*float64(lp[r]) + float64(gEnt[r])*float64(ent[r])
			}
		}
		return s
	}
	loss()
	// the logprob is a real log-probability and the entropy matches it
	for r := range M {
		var z, h float64
		for j := range V {
			p := math.Exp(float64(work[r*V+j]))
			z += p
			h -= p * float64(work[r*V+j])
		}
		if math.Abs(z-1) > 1e-5 || math.Abs(h-float64(ent[r])) > 1e-5 {
			t.Errorf("row %d: Σp = %v, entropy %v vs %v", r, z, ent[r], h)
		}
	}
	dlogits := make([]float32, M*V)
	headBackward(dlogits, work, target, gLp, gEnt, M, V)
	checkGrad(t, "dlogits", logits, dlogits, loss, 0)
}

func TestGradLinearLoRA(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const M, in, out, r = 5, 6, 7, 3
	for _, withLoRA := range []bool{false, true} {
		t.Run(fmt.Sprintf("lora=%v", withLoRA), func(t *testing.T) {
			l := newLinear("l", in, out)
			copy(l.w.w, randSlice(rng, in*out, 0.5))
			copy(l.b.w, randSlice(rng, out, 0.5))
			l.w.trainable()
			l.b.trainable()
			var p *loraPair
			if withLoRA {
				p = &loraPair{in: in, out: out, r: r, a: newTensor("a", r, in), b: newTensor("b", out, r)}
				copy(p.a.w, randSlice(rng, r*in, 0.5))
				copy(p.b.w, randSlice(rng, out*r, 0.5))
				p.a.trainable()
				p.b.trainable()
			}
			x := randSlice(rng, M*in, 1)
			c := randSlice(rng, M*out, 1)
			y := make([]float32, M*out)
			var sc linearScratch
			loss := func() float64 {
				l.refresh()
				if p != nil {
					p.refresh(l, 1.5)
				}
				linearForward(l, p, x, y, M)
				return weightedSum(c, y)
			}
			loss()
			dx := make([]float32, M*in)
			linearBackward(l, p, x, c, dx, M, &sc)
			checkGrad(t, "dx", x, dx, loss, 0)
			checkGrad(t, "dW", l.w.w, l.w.g, loss, 0)
			checkGrad(t, "db", l.b.w, l.b.g, loss, 0)
			if p != nil {
				checkGrad(t, "dA", p.a.w, p.a.g, loss, 0)
				checkGrad(t, "dB", p.b.w, p.b.g, loss, 0)
			}
		})
	}
}

func TestGradValueHead(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	const M, d = 4, 6
	hf := randSlice(rng, M*d, 1)
	w, b := newTensor("w", 1, d), newTensor("b", 1)
	copy(w.w, randSlice(rng, d, 1))
	w.trainable()
	b.trainable()
	c := randSlice(rng, M, 1)
	v := make([]float32, M)
	loss := func() float64 { valueForward(v, hf, w.w, b.w[0], M, d); return weightedSum(c, v) }
	dhf := make([]float32, M*d)
	valueBackward(dhf, c, hf, w, b, M, d)
	checkGrad(t, "dhf", hf, dhf, loss, 0)
	checkGrad(t, "dw", w.w, w.g, loss, 0)
	checkGrad(t, "db", b.w, b.g, loss, 0)
}

// tinyConfig is a model small enough for finite differences.
func tinyConfig() Config {
	return Config{Vocab: 11, DModel: 8, Layers: 2, Heads: 2, MLP: 16, Context: 8, Seed: 1}
}

// TestGradModelLoRA checks the adapter gradients of the whole model (every
// target, value head, logprob + value + entropy losses, two sequences of
// different lengths) against finite differences.
func TestGradModelLoRA(t *testing.T) {
	m, err := New(tinyConfig())
	if err != nil {
		t.Fatal(err)
	}
	scaleWeights(m, 10) // larger weights so every path matters
	a, err := NewAdapter(m, LoRAConfig{Rank: 2, Targets: []string{"q", "k", "v", "o", "up", "down"}, ValueHead: true}, 2)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(17, 18))
	for _, p := range a.params() {
		copy(p.w, randSlice(rng, len(p.w), 0.3)) // B ≠ 0 so the A paths are live
	}
	a.refresh()
	seqs := [][]int{{1, 5, 2, 9, 3}, {4, 4, 10, 0, 7, 6, 2, 8}}
	cL := [][]float32{randSlice(rng, 4, 1), randSlice(rng, 7, 1)}
	cV := [][]float32{randSlice(rng, 4, 1), randSlice(rng, 7, 1)}
	cE := [][]float32{randSlice(rng, 4, 1), randSlice(rng, 7, 1)}
	loss := func() float64 {
		a.refresh()
		tp, err := m.Forward(a, seqs)
		if err != nil {
			t.Fatal(err)
		}
		var s float64
		for b := range seqs {
			s += weightedSum(cL[b], tp.Logprobs[b]) + weightedSum(cV[b], tp.Values[b]) + weightedSum(cE[b], tp.Entropy[b])
		}
		return s
	}
	tp, err := m.Forward(a, seqs)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.BackwardEntropy(tp, cL, cV, cE); err != nil {
		t.Fatal(err)
	}
	for _, p := range a.params() {
		checkGrad(t, p.name, p.w, p.g, loss, 40)
	}
}

// TestGradModelFull checks the base-parameter gradients used by Pretrain.
func TestGradModelFull(t *testing.T) {
	m, err := New(tinyConfig())
	if err != nil {
		t.Fatal(err)
	}
	scaleWeights(m, 10)
	for _, p := range m.params() {
		p.trainable()
	}
	rng := rand.New(rand.NewPCG(19, 20))
	seqs := [][]int{{1, 5, 2, 9, 3}, {4, 4, 10, 0, 7, 6}}
	cL := [][]float32{randSlice(rng, 4, 1), randSlice(rng, 5, 1)}
	loss := func() float64 {
		m.refresh()
		tp, err := m.Forward(nil, seqs)
		if err != nil {
			t.Fatal(err)
		}
		return weightedSum(cL[0], tp.Logprobs[0]) + weightedSum(cL[1], tp.Logprobs[1])
	}
	tp, err := m.Forward(nil, seqs)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Backward(tp, cL, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.params() {
		checkGrad(t, p.name, p.w, p.g, loss, 24)
	}
}

// scaleWeights multiplies the linear weights (not norms) by f and refreshes.
func scaleWeights(m *Model, f float32) {
	for _, l := range m.linears() {
		for i := range l.w.w {
			l.w.w[i] *= f
		}
	}
	for i := range m.tokEmb.w {
		m.tokEmb.w[i] *= f
	}
	m.refresh()
}
