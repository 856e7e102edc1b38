package tinylm

import "math"

// mlp.go: the MLP's activation, exact GELU(x) = x·Φ(x), forward and backward.
// The up and down projections are linear layers (linear.go).
//
// Φ(x) = ½(1 + erf(x/√2)) uses Abramowitz & Stegun 7.1.26 (absolute error
// below 1.5e-7, i.e. float32 rounding) with the exponential e^(−x²/2)
// computed vectorised; the same exponential gives the density
// φ(x) = e^(−x²/2)/√(2π) for the backward pass.

const (
	asP  = 0.3275911
	asA1 = 0.254829592
	asA2 = -0.284496736
	asA3 = 1.421413741
	asA4 = -1.453152027
	asA5 = 1.061405429
)

const geluChunk = 1024

// geluPhi fills cdf[i] = Φ(x[i]) and pdf[i] = φ(x[i]).
func geluPhi(cdf, pdf, x []float32) {
	for i, v := range x {
		pdf[i] = -0.5 * v * v
	}
	expInplace(pdf)
	const invSqrt2 = 0.7071067811865476
	const invSqrt2Pi = 0.3989422804014327
	// Branchless (signs are random, a branch would mispredict half the
	// time): erf(|z|) by A&S, then the sign of z copied onto it.
	for i, v := range x {
		bits := math.Float32bits(v)
		z := math.Float32frombits(bits&0x7fffffff) * invSqrt2
		t := 1 / (1 + asP*z)
		poly := t * (asA1 + t*(asA2+t*(asA3+t*(asA4+t*asA5))))
		erf := math.Float32frombits(math.Float32bits(1-poly*pdf[i]) | bits&0x80000000)
		cdf[i] = 0.5 * (1 + erf)
		pdf[i] *= invSqrt2Pi
	}
}

// geluForward sets act = GELU(pre) and cdf = Φ(pre), which the backward
// pass reuses instead of recomputing erf.
func geluForward(act, cdf, pre []float32) {
	parallelFor((len(pre)+geluChunk-1)/geluChunk, 8, func(lo, hi int) {
		var pdf [geluChunk]float32
		for c := lo; c < hi; c++ {
			off := c * geluChunk
			x := pre[off:min(off+geluChunk, len(pre))]
			cd := cdf[off : off+len(x)]
			geluPhi(cd, pdf[:len(x)], x)
			a := act[off : off+len(x)]
			for i, v := range x {
				a[i] = v * cd[i]
			}
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
			for i, v := range x {
				e[i] = -0.5 * v * v
			}
			expInplace(e)
			dp := dpre[off : off+len(x)]
			da := dact[off : off+len(x)]
			cd := cdf[off : off+len(x)]
			for i, v := range x {
				dp[i] = da[i] * (cd[i] + v*e[i]*invSqrt2Pi)
			}
		}
	})
}

// geluExact is the reference GELU, for tests.
func geluExact(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }
