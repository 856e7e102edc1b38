package tinylm

import (
	"sync"

	"github.com/viterin/vek/vek32"
)

// linear.go: y = x·Wᵀ + b with an optional LoRA term, forward and backward.

// linear is a dense layer. w is [out,in] (PyTorch's layout, used by the
// backward pass dx = dy·W); wT is its transpose [in,out], used by the
// forward pass y = x·wT. wT is derived: refresh rebuilds it after w changes.
type linear struct {
	in, out int
	w       *tensor // [out,in]
	b       *tensor // [out]
	wT      []float32
}

func newLinear(name string, in, out int) *linear {
	return &linear{
		in: in, out: out,
		w:  newTensor(name+".weight", out, in),
		b:  newTensor(name+".bias", out),
		wT: make([]float32, in*out),
	}
}

func (l *linear) refresh() { transpose(l.wT, l.w.w, l.out, l.in) }

// linearScratch is reusable scratch for one linear call.
type linearScratch struct{ buf, buf2, buf3 []float32 }

var linearScratchPool = sync.Pool{New: func() any { return new(linearScratch) }}

func getLinearScratch() *linearScratch { return linearScratchPool.Get().(*linearScratch) }

func putLinearScratch(sc *linearScratch) { linearScratchPool.Put(sc) }

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// linearForward sets y[M,out] = x[M,in]·Wᵀ + b (+ LoRA). With a LoRA pair,
// u[M,r] receives x·Aᵀ for the backward pass. The LoRA down-projection is
// fused into the base product ([Wᵀ | Aᵀ] is one [in,out+r] matrix, padded to
// the kernel width), because a product with only r output columns runs far
// below the kernel's peak.
func linearForward(l *linear, lp *loraPair, x, y, u []float32, M int, sc *linearScratch) {
	if lp == nil {
		matmul(y, x, l.wT, M, l.in, l.out)
		addRowVector(y, l.b.w, M, l.out)
		return
	}
	n := lp.fwdCols()
	sc.buf = grow(sc.buf, M*n)
	matmul(sc.buf, x, lp.fwd, M, l.in, n)
	for i := 0; i < M; i++ {
		row := sc.buf[i*n : i*n+n]
		copy(y[i*l.out:(i+1)*l.out], row[:l.out])
		copy(u[i*lp.r:(i+1)*lp.r], row[l.out:l.out+lp.r])
	}
	addRowVector(y, l.b.w, M, l.out)
	matmulAcc(y, u, lp.bTs, M, lp.r, l.out)
}

// linearBackward adds dL/dx to dx (when dx is not nil) given dy, adds the
// LoRA gradients to lp, and adds dL/dW, dL/db when the base is trainable.
func linearBackward(l *linear, lp *loraPair, x, u, dy, dx []float32, M int, sc *linearScratch) {
	if lp == nil {
		if dx != nil {
			matmulAcc(dx, dy, l.w.w, M, l.out, l.in)
		}
	} else if dx == nil {
		// Only du = dy·(s·B) is needed (the first layer's input).
		rp := padCols(lp.r)
		sc.buf = grow(sc.buf, M*rp)
		matmul(sc.buf, dy, lp.sB, M, l.out, rp)
		du := grow(sc.buf2, M*lp.r)
		sc.buf2 = du
		for i := 0; i < M; i++ {
			copy(du[i*lp.r:(i+1)*lp.r], sc.buf[i*rp:i*rp+lp.r])
		}
		lp.backward(x, u, dy, du, M, sc)
	} else {
		// [dx | du] = dy · [W | s·B] in one product.
		n := lp.bwdCols()
		sc.buf = grow(sc.buf, M*n)
		matmul(sc.buf, dy, lp.bwd, M, l.out, n)
		du := grow(sc.buf2, M*lp.r)
		sc.buf2 = du
		for i := 0; i < M; i++ {
			row := sc.buf[i*n : i*n+n]
			addTo(dx[i*l.in:(i+1)*l.in], row[:l.in])
			copy(du[i*lp.r:(i+1)*lp.r], row[l.in:l.in+lp.r])
		}
		// dx += du·A (u = x·Aᵀ)
		matmulAcc(dx, du, lp.a.w, M, lp.r, l.in)
		lp.backward(x, u, dy, du, M, sc)
	}
	if l.w.g != nil {
		// dW[out,in] += dyᵀ·x, db += Σ dy.
		matmulTA(l.w.g, dy, x, l.out, M, l.in)
		colSumAcc(l.b.g, dy, M, l.out)
	}
}

// addTo sets dst += src.
func addTo(dst, src []float32) {
	if len(src) > 0 {
		vek32.Add_Inplace(dst[:len(src)], src)
	}
}
