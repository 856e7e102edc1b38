package tinylm

import "math"

// attention.go: causal multi-head self-attention over packed sequences,
// forward and backward. Each (sequence, head) pair is one task; tasks are
// spread over the CPUs. Within a task the head's rows are gathered into
// contiguous blocks so the products run on the kernel, and the [L,L]
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

// attnScratch is per-worker scratch, grown to the largest sequence.
type attnScratch struct{ a, b, c, d, e []float32 }

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
			if L == 0 {
				continue
			}
			Q := grow(sc.a, L*hd)
			KT := grow(sc.b, hd*L)
			V := grow(sc.c, L*hd)
			O := grow(sc.d, L*hd)
			sc.a, sc.b, sc.c, sc.d = Q, KT, V, O
			for i := 0; i < L; i++ {
				row := (s.start+i)*d + h*hd
				qr := q[row : row+hd]
				for c := 0; c < hd; c++ {
					Q[i*hd+c] = qr[c] * scale
					KT[c*L+i] = k[row+c]
				}
				copy(V[i*hd:i*hd+hd], v[row:row+hd])
			}
			P := probs[lay.off[task] : lay.off[task]+L*L]
			matmul(P, Q, KT, L, hd, L)
			for i := 0; i < L; i++ {
				softmaxCausalRow(P[i*L:i*L+L], i)
			}
			matmul(O, P, V, L, L, hd)
			for i := 0; i < L; i++ {
				row := (s.start+i)*d + h*hd
				copy(out[row:row+hd], O[i*hd:i*hd+hd])
			}
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
		var tmp []float32
		for task := lo; task < hi; task++ {
			b, h := task/H, task%H
			s := lay.spans[b]
			L := s.n
			if L == 0 {
				continue
			}
			P := probs[lay.off[task] : lay.off[task]+L*L]
			dO := grow(sc.a, L*hd)
			VT := grow(sc.b, hd*L)
			dP := grow(sc.c, L*L)
			PT := grow(sc.d, L*L)
			blk := grow(sc.e, L*hd)
			sc.a, sc.b, sc.c, sc.d, sc.e = dO, VT, dP, PT, blk
			for i := 0; i < L; i++ {
				row := (s.start+i)*d + h*hd
				copy(dO[i*hd:i*hd+hd], dout[row:row+hd])
				for c := 0; c < hd; c++ {
					VT[c*L+i] = v[row+c]
				}
			}
			// dV = Pᵀ·dO
			transpose(PT, P, L, L)
			tmp = grow(tmp, L*hd)
			matmul(tmp, PT, dO, L, L, hd)
			scatterHead(dv, tmp, s, h, hd, d, 1)
			// dP = dO·Vᵀ; dS = P ⊙ (dP − rowsum(P ⊙ dP))
			matmul(dP, dO, VT, L, hd, L)
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
			// dQ = scale·dS·K; dK = scale·dSᵀ·Q
			for i := 0; i < L; i++ {
				row := (s.start+i)*d + h*hd
				copy(blk[i*hd:i*hd+hd], k[row:row+hd])
			}
			matmul(tmp, dP, blk, L, L, hd)
			scatterHead(dq, tmp, s, h, hd, d, scale)
			for i := 0; i < L; i++ {
				row := (s.start+i)*d + h*hd
				copy(blk[i*hd:i*hd+hd], q[row:row+hd])
			}
			transpose(PT, dP, L, L)
			matmul(tmp, PT, blk, L, L, hd)
			scatterHead(dk, tmp, s, h, hd, d, scale)
		}
	})
}

// scatterHead writes alpha·src[L,hd] into head h's columns of the rows of s.
func scatterHead(dst, src []float32, s span, h, hd, d int, alpha float32) {
	for i := 0; i < s.n; i++ {
		row := dst[(s.start+i)*d+h*hd : (s.start+i)*d+h*hd+hd]
		sr := src[i*hd : i*hd+hd]
		if alpha == 1 {
			copy(row, sr)
			continue
		}
		for c, x := range sr {
			row[c] = alpha * x
		}
	}
}
