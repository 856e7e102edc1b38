package tinylm

import (
	"math"

	"github.com/viterin/vek/vek32"
)

// attention.go: causal multi-head self-attention over packed sequences,
// forward and backward. Each (sequence, head) pair is one task; tasks are
// spread over the CPUs. The kernel reads a head's columns of q, k, v in
// place (row stride d, transposed where needed) and writes its output
// columns in place, so no head is gathered or scattered. The [L,L]
// probabilities are kept (L ≤ Context, so at most Context² floats per head)
// for the backward pass.

// span is one sequence inside the packed [M, ·] activations.
type span struct{ start, n int }

// attnLayout says where each (sequence, head) block of probabilities lives.
type attnLayout struct {
	spans []span
	heads int
	off   []int // off[b*heads+h] is the offset of that [n,n] block
	total int
}

func newAttnLayout(spans []span, heads int) attnLayout {
	l := attnLayout{spans: spans, heads: heads, off: make([]int, len(spans)*heads)}
	for b, s := range spans {
		for h := 0; h < heads; h++ {
			l.off[b*heads+h] = l.total
			l.total += s.n * s.n
		}
	}
	return l
}

// headCols returns head h's columns of rows i0.. of span s in x[M,d] as a
// kernel operand ([L-i0,hd] with row stride d).
func headCols(x []float32, s span, i0, h, hd, d int) operand {
	return operand{data: x[(s.start+i0)*d+h*hd:], stride: d}
}

// headT sets dst[hd,L] to the transpose of head h's columns of span s in
// x[M,d]: a product X·Yᵀ reads Yᵀ's rows, which the kernel wants
// contiguous, and one transposition per head serves every causal block.
func headT(dst, x []float32, s span, h, hd, d int) {
	L := s.n
	for i := 0; i < L; i++ {
		row := x[(s.start+i)*d+h*hd : (s.start+i)*d+h*hd+hd]
		for c, v := range row {
			dst[c*L+i] = v
		}
	}
}

// causalBlock is the number of query rows per causal block (two kernel
// tiles): block [i0,i1) needs keys 0..i1 only, so products skip the masked
// upper triangle a block at a time (at L = 128, 59 % of the full square).
const causalBlock = 24

// attentionForward sets out[M,d] = softmax(q·kᵀ/√hd + causal mask)·v per
// sequence and head, and stores the probabilities in probs.
func attentionForward(out, q, k, v []float32, lay attnLayout, d int, probs []float32) {
	H := lay.heads
	hd := d / H
	scale := float32(1 / math.Sqrt(float64(hd)))
	parallelFor(len(lay.spans)*H, 1, func(lo, hi int) {
		var kT []float32
		for task := lo; task < hi; task++ {
			b, h := task/H, task%H
			s := lay.spans[b]
			L := s.n
			P := probs[lay.off[task] : lay.off[task]+L*L]
			kT = grow(kT, hd*L)
			headT(kT, k, s, h, hd, d)
			for i0 := 0; i0 < L; i0 += causalBlock {
				i1 := min(L, i0+causalBlock)
				// P[i0:i1, :i1] = Q[i0:i1]·Kᵀ[:, :i1], then softmax(scale·P).
				product(false, i1-i0, i1, hd, headCols(q, s, i0, h, hd, d), operand{data: kT, stride: L}, P[i0*L:], L)
				for i := i0; i < i1; i++ {
					softmaxCausalRow(P[i*L:i*L+L], i, scale)
				}
				// O[i0:i1] = P[i0:i1, :i1]·V[:i1], into head h's columns.
				product(false, i1-i0, hd, i1, operand{data: P[i0*L:], stride: L}, headCols(v, s, 0, h, hd, d), out[(s.start+i0)*d+h*hd:], d)
			}
		}
	})
}

// softmaxCausalRow turns row (scores of query i against every key) into
// probabilities softmax(scale·row) over keys 0..i and zeroes the masked keys
// after i.
func softmaxCausalRow(row []float32, i int, scale float32) {
	live := row[:i+1]
	// scale > 0, so max(scale·x) = scale·max(x).
	vek32.SubNumber_Inplace(live, vek32.Max(live))
	vek32.MulNumber_Inplace(live, scale)
	expInplace(live)
	vek32.MulNumber_Inplace(live, 1/vek32.Sum(live))
	clear(row[i+1:])
}

// attentionBackward sets dq, dk, dv [M,d] from dout given the forward's
// inputs and probabilities. Like the forward pass it works in causal blocks:
// query block [i0,i1) meets keys 0..i1, key block [j0,j1) queries j0..L.
func attentionBackward(dq, dk, dv, dout, q, k, v []float32, lay attnLayout, d int, probs []float32) {
	H := lay.heads
	hd := d / H
	scale := float32(1 / math.Sqrt(float64(hd)))
	parallelFor(len(lay.spans)*H, 1, func(lo, hi int) {
		var dS, vT []float32
		for task := lo; task < hi; task++ {
			b, h := task/H, task%H
			s := lay.spans[b]
			L := s.n
			P := probs[lay.off[task] : lay.off[task]+L*L]
			dS = grow(dS, L*L)
			vT = grow(vT, hd*L)
			headT(vT, v, s, h, hd, d)
			at := func(x []float32, i0 int) []float32 { return x[(s.start+i0)*d+h*hd:] }
			for i0 := 0; i0 < L; i0 += causalBlock {
				i1 := min(L, i0+causalBlock)
				// dP = dO·Vᵀ; dS = scale · P ⊙ (dP − rowsum(P ⊙ dP))
				product(false, i1-i0, i1, hd, headCols(dout, s, i0, h, hd, d), operand{data: vT, stride: L}, dS[i0*L:], L)
				for i := i0; i < i1; i++ {
					pr := P[i*L : i*L+i+1]
					gr := dS[i*L : i*L+i+1]
					vek32.SubNumber_Inplace(gr, vek32.Dot(pr, gr))
					vek32.Mul_Inplace(gr, pr)
					vek32.MulNumber_Inplace(gr, scale)
					clear(dS[i*L+i+1 : i*L+L])
				}
				// dQ[i0:i1] = dS[i0:i1, :i1]·K[:i1] (scale is in dS)
				product(false, i1-i0, hd, i1, operand{data: dS[i0*L:], stride: L}, headCols(k, s, 0, h, hd, d), at(dq, i0), d)
			}
			for j0 := 0; j0 < L; j0 += causalBlock {
				j1 := min(L, j0+causalBlock)
				// dV[j0:j1] = P[j0:, j0:j1]ᵀ·dO[j0:], dK[j0:j1] = dS[j0:, j0:j1]ᵀ·Q[j0:]
				pT := operand{data: P[j0*L+j0:], stride: L, trans: true}
				product(false, j1-j0, hd, L-j0, pT, headCols(dout, s, j0, h, hd, d), at(dv, j0), d)
				dST := operand{data: dS[j0*L+j0:], stride: L, trans: true}
				product(false, j1-j0, hd, L-j0, dST, headCols(q, s, j0, h, hd, d), at(dk, j0), d)
			}
		}
	})
}
