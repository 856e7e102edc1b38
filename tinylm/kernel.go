package tinylm

import (
	"runtime"
	"sync"

	"github.com/viterin/vek/vek32"
)

// kernel.go is the one place where matrix products and the few vectorised
// element-wise helpers live. All matrices are row-major float32 slices.
//
// Products run on the register-blocked kernel in gemm.go (AVX-512 or
// AVX2/FMA assembly, pure Go elsewhere), which takes transposed operands
// as they are, and splits large products over the CPUs itself. Matrix-vector
// products (one output column) stay on vek32, whose dot-product kernel is
// faster there than a tile padded to 32 columns (docs/benchmarks.md). Products
// are issued as large as possible — over the whole batch's rows — and only
// the row-wise work around them (norms, softmax, GELU, attention per head) is
// split by parallelFor.

// kernelsFor returns the kernel set for a product n columns wide: the
// fastest this CPU runs, or for n ≤ 16 the fastest 16 wide (a 32-wide tile
// would compute half its columns for nothing).
func kernelsFor(n int) *kernelSet {
	ks := availableKernels()
	if n <= 16 {
		for _, k := range ks {
			if k.nr == 16 {
				return k
			}
		}
	}
	return ks[0]
}

// matmul sets dst[m,n] = a[m,k] · b[k,n].
func matmul(dst, a, b []float32, m, k, n int) {
	if n == 1 && k > 0 {
		vek32.MatMul_Into(dst[:m], a[:m*k], b[:k], k)
		return
	}
	gemm(kernelsFor(n), false, m, n, k, operand{data: a, stride: k}, operand{data: b, stride: n}, dst, n)
}

// matmulAcc adds a[m,k] · b[k,n] to dst[m,n].
func matmulAcc(dst, a, b []float32, m, k, n int) {
	gemm(kernelsFor(n), true, m, n, k, operand{data: a, stride: k}, operand{data: b, stride: n}, dst, n)
}

// matmulTA adds aᵀ · b to dst[m,n], where a is [k,m] and b is [k,n] (a
// weight gradient: a sum over the batch rows k).
func matmulTA(dst, a, b []float32, m, k, n int) {
	gemm(kernelsFor(n), true, m, n, k, operand{data: a, stride: m, trans: true}, operand{data: b, stride: n}, dst, n)
}

// matmulTB sets dst[m,n] = a · bᵀ, where a is [m,k] and b is [n,k].
func matmulTB(dst, a, b []float32, m, k, n int) {
	gemm(kernelsFor(n), false, m, n, k, operand{data: a, stride: k}, operand{data: b, stride: k, trans: true}, dst, n)
}

// product sets C[m,n] = op(A)·op(B) (acc: adds it to C) for strided and
// transposed operands; C has row stride ldc.
func product(acc bool, m, n, k int, a, b operand, c []float32, ldc int) {
	gemm(kernelsFor(n), acc, m, n, k, a, b, c, ldc)
}

// transpose sets dst[cols,rows] = src[rows,cols]ᵀ, in cache-sized tiles.
func transpose(dst, src []float32, rows, cols int) {
	const tile = 32
	_ = dst[rows*cols-1]
	_ = src[rows*cols-1]
	for i0 := 0; i0 < rows; i0 += tile {
		i1 := min(i0+tile, rows)
		for j0 := 0; j0 < cols; j0 += tile {
			j1 := min(j0+tile, cols)
			for i := i0; i < i1; i++ {
				row := src[i*cols : i*cols+cols]
				for j := j0; j < j1; j++ {
					dst[j*rows+i] = row[j]
				}
			}
		}
	}
}

// addRowVector adds v[n] to every row of x[m,n].
func addRowVector(x, v []float32, m, n int) {
	for i := 0; i < m; i++ {
		vek32.Add_Inplace(x[i*n:i*n+n], v[:n])
	}
}

// colSumAcc adds the column sums of x[m,n] to dst[n].
func colSumAcc(dst, x []float32, m, n int) {
	for i := 0; i < m; i++ {
		vek32.Add_Inplace(dst[:n], x[i*n:i*n+n])
	}
}

// axpy sets y += alpha·x.
func axpy(y []float32, alpha float32, x []float32) {
	for i, v := range x {
		y[i] += alpha * v
	}
}

// dot returns Σ x·y.
func dot(x, y []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	return vek32.Dot(x, y)
}

// workers is how many goroutines parallelFor uses: the CPUs the runtime may
// use, bounded so that a large machine does not fan out on small work.
func workers() int { return min(runtime.GOMAXPROCS(0), 8) }

// parallelFor calls fn over [0,n) split into contiguous chunks, one per
// worker, and waits for all of them. Small ranges (n < minChunk·2) run
// inline. A panic in a worker is re-raised in the caller, where the API edge
// turns it into an error.
func parallelFor(n, minChunk int, fn func(lo, hi int)) {
	w := workers()
	if minChunk < 1 {
		minChunk = 1
	}
	w = min(w, n/minChunk)
	if w <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	panics := make([]any, w)
	chunk := (n + w - 1) / w
	for g := 0; g < w; g++ {
		lo, hi := g*chunk, min((g+1)*chunk, n)
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[g] = recover() }()
			fn(lo, hi)
		}()
	}
	wg.Wait()
	for _, p := range panics {
		if p != nil {
			panic(p)
		}
	}
}

// expInplace sets x[i] = e^x[i]. vek32's AVX2 exponential returns garbage
// (large negative numbers) for inputs below about -88, so inputs are clamped
// to [-87, 88] first; e^-87 ≈ 1.6e-38 is zero for every use here.
func expInplace(x []float32) {
	if len(x) == 0 {
		return
	}
	vek32.MaximumNumber_Inplace(x, -87)
	vek32.MinimumNumber_Inplace(x, 88)
	vek32.Exp_Inplace(x)
}
