package tinylm

import "math"

// attention.go: causal multi-head self-attention over packed sequences,
// forward and backward. Each (sequence, head) pair is one task; tasks are
// spread over the CPUs. Within a task the head's rows are gathered into
// contiguous blocks so the products run on the kernel, and the [L,L]
// probabilities are kept (L ≤ Context, so at most Context² floats per head)
// for the backward pass.
//
// The kernel is fast when a product has many output columns and slow when it
// has few, so every product here is arranged to output L columns rather than
// the head width hd: O = P·V is computed as Oᵀ = Vᵀ·Pᵀ, dK = dSᵀ·Q as
// dKᵀ = Qᵀ·dS, and so on; gathers and scatters transpose for free.

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

// attnScratch is per-worker scratch, grown to the largest sequence.
type attnScratch struct{ bufs [6][]float32 }

func (s *attnScratch) get(i, n int) []float32 {
	s.bufs[i] = grow(s.bufs[i], n)
	return s.bufs[i]
}

// gatherT sets dst[hd,L] to the transpose of head h's columns of the rows
// of s in src[M,d], times alpha.
func gatherT(dst, src []float32, s span, h, hd, d int, alpha float32) {
	L := s.n
	for i := 0; i < L; i++ {
		row := src[(s.start+i)*d+h*hd : (s.start+i)*d+h*hd+hd]
		for c, x := range row {
			dst[c*L+i] = alpha * x
		}
	}
}

// gather sets dst[L,hd] to head h's columns of the rows of s in src[M,d].
func gather(dst, src []float32, s span, h, hd, d int) {
	for i := 0; i < s.n; i++ {
		copy(dst[i*hd:i*hd+hd], src[(s.start+i)*d+h*hd:(s.start+i)*d+h*hd+hd])
	}
}

// scatterT writes alpha·srcᵀ (src is [hd,L]) into head h's columns of the
// rows of s in dst[M,d].
func scatterT(dst, src []float32, s span, h, hd, d int, alpha float32) {
	L := s.n
	for i := 0; i < L; i++ {
		row := dst[(s.start+i)*d+h*hd : (s.start+i)*d+h*hd+hd]
		for c := range row {
			row[c] = alpha * src[c*L+i]
		}
	}
}

// attentionForward sets out[M,d] = softmax(q·kᵀ/√hd + causal mask)·v per
// sequence and head, and stores the probabilities in probs.
func attentionForward(out, q, k, v []float32, lay attnLayout, d int, probs []float32) {
	H := lay.heads
	hd := d / H
	scale := float32(1 / math.Sqrt(float64(hd)))
	parallelFor(len(lay.spans)*H, 1, func(lo, hi int) {
		var sc attnScratch
		for task := lo; task < hi; task++ {
			b, h := task/H, task%H
			s := lay.spans[b]
			L := s.n
			Q := sc.get(0, L*hd)
			KT := sc.get(1, hd*L)
			VT := sc.get(2, hd*L)
			PT := sc.get(3, L*L)
			OT := sc.get(4, hd*L)
			gather(Q, q, s, h, hd, d)
			gatherT(KT, k, s, h, hd, d, scale)
			gatherT(VT, v, s, h, hd, d, 1)
			P := probs[lay.off[task] : lay.off[task]+L*L]
			matmul(P, Q, KT, L, hd, L) // scores
			for i := 0; i < L; i++ {
				softmaxCausalRow(P[i*L:i*L+L], i)
			}
			transpose(PT, P, L, L)
			matmul(OT, VT, PT, hd, L, L) // Oᵀ = Vᵀ·Pᵀ
			scatterT(out, OT, s, h, hd, d, 1)
		}
	})
}

// softmaxCausalRow turns row (scores of query i against every key) into
// probabilities over keys 0..i and zeroes the masked keys after i.
func softmaxCausalRow(row []float32, i int) {
	live := row[:i+1]
	mx := live[0]
	for _, x := range live[1:] {
		mx = max(mx, x)
	}
	for j := range live {
		live[j] -= mx
	}
	expInplace(live)
	var sum float32
	for _, x := range live {
		sum += x
	}
	inv := 1 / sum
	for j := range live {
		live[j] *= inv
	}
	clear(row[i+1:])
}

// attentionBackward sets dq, dk, dv [M,d] from dout given the forward's
// inputs and probabilities.
func attentionBackward(dq, dk, dv, dout, q, k, v []float32, lay attnLayout, d int, probs []float32) {
	H := lay.heads
	hd := d / H
	scale := float32(1 / math.Sqrt(float64(hd)))
	parallelFor(len(lay.spans)*H, 1, func(lo, hi int) {
		var sc attnScratch
		for task := lo; task < hi; task++ {
			b, h := task/H, task%H
			s := lay.spans[b]
			L := s.n
			P := probs[lay.off[task] : lay.off[task]+L*L]
			dO := sc.get(0, L*hd)
			T1 := sc.get(1, hd*L) // Vᵀ, then Qᵀ, then Kᵀ
			T2 := sc.get(2, hd*L) // dOᵀ, then results
			dP := sc.get(3, L*L)
			dST := sc.get(4, L*L)
			gather(dO, dout, s, h, hd, d)
			gatherT(T2, dout, s, h, hd, d, 1)
			// dVᵀ = dOᵀ·P
			R := sc.get(5, hd*L)
			matmul(R, T2, P, hd, L, L)
			scatterT(dv, R, s, h, hd, d, 1)
			// dP = dO·Vᵀ; dS = P ⊙ (dP − rowsum(P ⊙ dP))
			gatherT(T1, v, s, h, hd, d, 1)
			matmul(dP, dO, T1, L, hd, L)
			for i := 0; i < L; i++ {
				pr := P[i*L : i*L+i+1]
				gr := dP[i*L : i*L+L]
				var sum float32
				for j, p := range pr {
					sum += p * gr[j]
				}
				for j, p := range pr {
					gr[j] = p * (gr[j] - sum)
				}
				clear(gr[i+1:])
			}
			// dKᵀ = scale·Qᵀ·dS
			gatherT(T1, q, s, h, hd, d, scale)
			matmul(R, T1, dP, hd, L, L)
			scatterT(dk, R, s, h, hd, d, 1)
			// dQᵀ = scale·Kᵀ·dSᵀ
			transpose(dST, dP, L, L)
			gatherT(T1, k, s, h, hd, d, scale)
			matmul(R, T1, dST, hd, L, L)
			scatterT(dq, R, s, h, hd, d, 1)
		}
	})
}
