package tinylm

import (
	"math"

	"github.com/viterin/vek/vek32"
)

// head.go: the output distribution (log-softmax, the target's logprob and
// the entropy) and the value head, forward and backward.

// headLogSoftmax turns logits [M,V] into log-probabilities in place and sets
// lp[r] = logp[r, target[r]] (0 where target is -1) and ent[r] = the entropy.
func headLogSoftmax(logits []float32, target []int, lp, ent []float32, M, V int) {
	parallelFor(M, 32, func(lo, hi int) {
		e := make([]float32, V)
		for r := lo; r < hi; r++ {
			row := logits[r*V : r*V+V]
			ent[r] = logSoftmaxRow(row, e)
			if tg := target[r]; tg >= 0 {
				lp[r] = row[tg]
			}
		}
	})
}

// logSoftmaxRow replaces row by its log-softmax, using e (len V) as scratch,
// and returns the entropy of the distribution.
func logSoftmaxRow(row, e []float32) float32 {
	mx := vek32.Max(row)
	vek32.SubNumber_Into(e, row, mx)
	expInplace(e)
	sum := vek32.Sum(e)
	logZ := float32(math.Log(float64(sum))) + mx
	vek32.SubNumber_Inplace(row, logZ)
	// H = −Σ p·log p, p = e/sum.
	return -vek32.Dot(e, row) / sum
}

// headBackward sets dlogits from dL/dlogprob and dL/dentropy per row:
// dz_k = g·(1[k=y] − p_k) + gH·(−p_k·(log p_k + H)).
func headBackward(dlogits, logp []float32, target []int, dLogp, dEnt []float32, M, V int) {
	parallelFor(M, 32, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			tg := target[r]
			if tg < 0 {
				continue
			}
			var g, gH float32
			if dLogp != nil {
				g = dLogp[r]
			}
			if dEnt != nil {
				gH = dEnt[r]
			}
			if g == 0 && gH == 0 {
				continue
			}
			lrow := logp[r*V : r*V+V]
			drow := dlogits[r*V : r*V+V]
			copy(drow, lrow)
			expInplace(drow) // p
			if gH != 0 {
				var h float32
				for j, p := range drow {
					h -= p * lrow[j]
				}
				for j, p := range drow {
					drow[j] = -g*p - gH*p*(lrow[j]+h)
				}
			} else {
				for j, p := range drow {
					drow[j] = -g * p
				}
			}
			drow[tg] += g
		}
	})
}

// valueForward sets v[r] = hf[r]·w + b.
func valueForward(v, hf, w []float32, b float32, M, d int) {
	for r := 0; r < M; r++ {
		v[r] = dot(hf[r*d:r*d+d], w) + b
	}
}

// valueBackward adds dv·w to dhf and accumulates the value head's gradients.
func valueBackward(dhf, dv, hf []float32, w, b *tensor, M, d int) {
	for r := 0; r < M; r++ {
		g := dv[r]
		if g == 0 {
			continue
		}
		axpy(dhf[r*d:r*d+d], g, w.w)
		axpy(w.g, g, hf[r*d:r*d+d])
		b.g[0] += g
	}
}
