package tinylm

import (
	"math"

	"github.com/viterin/vek/vek32"
)

// mlp.go: the MLP's activation, exact GELU(x) = x·Φ(x), forward and backward.
// The up and down projections are linear layers (linear.go).
//
// Φ(x) = ½(1 + erf(x/√2)) uses Abramowitz & Stegun 7.1.26 (absolute error
// below 1.5e-7, i.e. float32 rounding); the forward pass keeps Φ and the
// backward pass adds x·φ(x), φ(x) = e^(−x²/2)/√(2π).

const (
	asP  = 0.3275911
	asA1 = 0.254829592
	asA2 = -0.284496736
	asA3 = 1.421413741
	asA4 = -1.453152027
	asA5 = 1.061405429
)

const geluChunk = 1024

// geluPhi fills cdf[i] = Φ(x[i]) and pdf[i] = e^(−x[i]²/2) (the density
// without its 1/√(2π) factor), using tmp (len ≥ len(x)) as scratch. Go does
// not vectorise loops, so the arithmetic runs as whole-chunk vek32 passes;
// only the sign fix-up is a scalar loop (branchless: signs are random).
func geluPhi(cdf, pdf, tmp, x []float32) {
	const invSqrt2 = 0.7071067811865476
	n := len(x)
	t, q := tmp[:n], cdf[:n]
	vek32.Abs_Into(t, x)
	vek32.MulNumber_Inplace(t, asP*invSqrt2)
	vek32.AddNumber_Inplace(t, 1)
	vek32.Inv_Inplace(t) // t = 1/(1 + p·|x|/√2)
	vek32.MulNumber_Into(q, t, asA5)
	for _, a := range [...]float32{asA4, asA3, asA2, asA1} {
		vek32.AddNumber_Inplace(q, a)
		vek32.Mul_Inplace(q, t)
	}
	vek32.Mul_Into(pdf[:n], x, x)
	vek32.MulNumber_Inplace(pdf[:n], -0.5)
	expInplace(pdf[:n])
	vek32.Mul_Inplace(q, pdf[:n]) // erfc(|x|/√2)
	for i, v := range x {
		// Φ = 1 − erfc/2 for x ≥ 0, erfc/2 for x < 0.
		pos := float32(1 - math.Float32bits(v)>>31)
		q[i] = pos + (1-2*pos)*0.5*q[i]
	}
}

// geluForward sets act = GELU(pre) and cdf = Φ(pre), which the backward
// pass reuses instead of recomputing erf.
func geluForward(act, cdf, pre []float32) {
	parallelFor((len(pre)+geluChunk-1)/geluChunk, 8, func(lo, hi int) {
		var pdf, tmp [geluChunk]float32
		for c := lo; c < hi; c++ {
			off := c * geluChunk
			x := pre[off:min(off+geluChunk, len(pre))]
			cd := cdf[off : off+len(x)]
			geluPhi(cd, pdf[:len(x)], tmp[:], x)
			vek32.Mul_Into(act[off:off+len(x)], x, cd)
		}
	})
}

// geluBackward sets dpre = dact · GELU'(pre), GELU'(x) = Φ(x) + x·φ(x),
// with Φ from the forward pass.
func geluBackward(dpre, dact, pre, cdf []float32) {
	const invSqrt2Pi = 0.3989422804014327
	parallelFor((len(pre)+geluChunk-1)/geluChunk, 8, func(lo, hi int) {
		var pdf [geluChunk]float32
		for c := lo; c < hi; c++ {
			off := c * geluChunk
			x := pre[off:min(off+geluChunk, len(pre))]
			e := pdf[:len(x)]
			vek32.Mul_Into(e, x, x)
			vek32.MulNumber_Inplace(e, -0.5)
			expInplace(e)
			// dpre = dact·(Φ + x·φ)
			vek32.Mul_Inplace(e, x)
			vek32.MulNumber_Inplace(e, invSqrt2Pi)
			vek32.Add_Inplace(e, cdf[off:off+len(x)])
			vek32.Mul_Into(dpre[off:off+len(x)], dact[off:off+len(x)], e)
		}
	})
}

// geluExact is the reference GELU, for tests.
func geluExact(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }
