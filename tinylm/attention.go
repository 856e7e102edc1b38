package tinylm

import "math"

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

// headCols returns head h's columns of the rows of span s in x[M,d] as a
// kernel operand ([L,hd] with row stride d; trans: its transpose).
func headCols(x []float32, s span, h, hd, d int, trans bool) operand {
	return operand{data: x[s.start*d+h*hd:], stride: d, trans: trans}
}

// attentionForward sets out[M,d] = softmax(q·kᵀ/√hd + causal mask)·v per
// sequence and head, and stores the probabilities in probs.
func attentionForward(out, q, k, v []float32, lay attnLayout, d int, probs []float32) {
	H := lay.heads
	hd := d / H
	scale := float32(1 / math.Sqrt(float64(hd)))
	parallelFor(len(lay.spans)*H, 1, func(lo, hi int) {
		for task := lo; task < hi; task++ {
			b, h := task/H, task%H
			s := lay.spans[b]
			L := s.n
			P := probs[lay.off[task] : lay.off[task]+L*L]
			// P = softmax(scale · Q·Kᵀ), then O = P·V into head h's columns.
			product(false, L, L, hd, headCols(q, s, h, hd, d, false), headCols(k, s, h, hd, d, true), P, L)
			for i := 0; i < L; i++ {
				softmaxCausalRow(P[i*L:i*L+L], i, scale)
			}
			product(false, L, hd, L, operand{data: P, stride: L}, headCols(v, s, h, hd, d, false), out[s.start*d+h*hd:], d)
		}
	})
}

// softmaxCausalRow turns row (scores of query i against every key) into
// probabilities softmax(scale·row) over keys 0..i and zeroes the masked keys
// after i.
func softmaxCausalRow(row []float32, i int, scale float32) {
	live := row[:i+1]
	mx := live[0]
	for _, x := range live[1:] {
		mx = max(mx, x)
	}
	// scale > 0, so max(scale·x) = scale·max(x).
	for j, x := range live {
		live[j] = scale * (x - mx)
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
		var dS []float32
		for task := lo; task < hi; task++ {
			b, h := task/H, task%H
			s := lay.spans[b]
			L := s.n
			P := probs[lay.off[task] : lay.off[task]+L*L]
			dS = grow(dS, L*L)
			dO := headCols(dout, s, h, hd, d, false)
			at := func(x []float32) []float32 { return x[s.start*d+h*hd:] }
			// dV = Pᵀ·dO
			product(false, L, hd, L, operand{data: P, stride: L, trans: true}, dO, at(dv), d)
			// dP = dO·Vᵀ; dS = scale · P ⊙ (dP − rowsum(P ⊙ dP))
			product(false, L, L, hd, dO, headCols(v, s, h, hd, d, true), dS, L)
			for i := 0; i < L; i++ {
				pr := P[i*L : i*L+i+1]
				gr := dS[i*L : i*L+L]
				var sum float32
				for j, p := range pr {
					sum += p * gr[j]
				}
				for j, p := range pr {
					gr[j] = scale * p * (gr[j] - sum)
				}
				clear(gr[i+1:])
			}
			// dK = dSᵀ·Q, dQ = dS·K (scale is in dS)
			product(false, L, hd, L, operand{data: dS, stride: L, trans: true}, headCols(q, s, h, hd, d, false), at(dk), d)
			product(false, L, hd, L, operand{data: dS, stride: L}, headCols(k, s, h, hd, d, false), at(dq), d)
		}
	})
}
