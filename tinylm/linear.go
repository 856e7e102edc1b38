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

// linearForward sets y[M,out] = x[M,in]·Wᵀ + b, on the merged weight
// W + s·B·A when a LoRA pair is given.
func linearForward(l *linear, lp *loraPair, x, y []float32, M int) {
	wT := l.wT
	if lp != nil {
		wT = lp.wT
	}
	matmul(y, x, wT, M, l.in, l.out)
	addRowVector(y, l.b.w, M, l.out)
}

// linearBackward adds dL/dx to dx (when dx is not nil) given dy, adds the
// LoRA gradients to lp, and adds dL/dW, dL/db when the base is trainable.
func linearBackward(l *linear, lp *loraPair, x, dy, dx []float32, M int, sc *linearScratch) {
	if dx != nil {
		w := l.w.w
		if lp != nil {
			w = lp.w
		}
		matmulAcc(dx, dy, w, M, l.out, l.in)
	}
	if lp != nil {
		u := grow(sc.buf, M*lp.r)
		sc.buf = u
		matmul(u, x, lp.aT, M, l.in, lp.r)
		du := grow(sc.buf2, M*lp.r)
		sc.buf2 = du
		matmul(du, dy, lp.sB, M, l.out, lp.r)
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
