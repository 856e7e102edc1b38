package tinylm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// refGemm is the plain triple loop in float64: C (+)= op(A)·op(B).
func refGemm(acc bool, m, n, k int, a, b operand, c []float64, ldc int) {
	at := func(o operand, i, j int) float64 {
		if o.trans {
			return float64(o.data[j*o.stride+i])
		}
		return float64(o.data[i*o.stride+j])
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for kk := 0; kk < k; kk++ {
				s += at(a, i, kk) * at(b, kk, j)
			}
			if acc {
				c[i*ldc+j] += s
			} else {
				c[i*ldc+j] = s
			}
		}
	}
}

// randOperand returns op(X) of rows×cols stored with a stride padded by
// pad columns, filled with uniform values in [-1, 1).
func randOperand(rng *rand.Rand, rows, cols, pad int, trans bool) operand {
	sr, sc := rows, cols
	if trans {
		sr, sc = cols, rows
	}
	o := operand{stride: sc + pad, trans: trans}
	o.data = make([]float32, max(0, (sr-1)*o.stride+sc))
	for i := range o.data {
		o.data[i] = rng.Float32()*2 - 1
	}
	return o
}

// TestGemmOddShapes checks every kernel set this CPU runs against the
// float64 triple loop on odd shapes, in every transposition, with padded
// strides, setting and accumulating. Every tile height and edge width of
// each kernel is hit (m and n up to 127 against mr ≤ 12, nr ≤ 32), and k
// crosses the kcBlock boundary.
func TestGemmOddShapes(t *testing.T) {
	dims := []int{1, 7, 31, 33, 65, 127}
	ks := []int{1, 7, 33, 127, kcBlock, kcBlock + 1, 2*kcBlock + 3}
	if testing.Short() {
		dims = []int{1, 7, 33, 65}
		ks = []int{1, 33, kcBlock + 1}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, set := range availableKernels() {
		t.Run(set.name, func(t *testing.T) {
			for _, m := range dims {
				for _, n := range dims {
					for _, k := range ks {
						for variant := 0; variant < 8; variant++ {
							ta, tb, acc := variant&1 != 0, variant&2 != 0, variant&4 != 0
							a := randOperand(rng, m, k, variant%3, ta)
							b := randOperand(rng, k, n, (variant+1)%3, tb)
							ldc := n + variant%2
							c := make([]float32, (m-1)*ldc+n)
							want := make([]float64, len(c))
							for i := range c {
								c[i] = rng.Float32()
								want[i] = float64(c[i])
							}
							gemm(set, acc, m, n, k, a, b, c, ldc)
							refGemm(acc, m, n, k, a, b, want, ldc)
							// Each term is below 1 in magnitude; float32 rounding
							// of a k-term sum stays well inside k·2⁻²⁰.
							tol := float64(k+1) * 0x1p-20
							for i := 0; i < m; i++ {
								for j := 0; j < n; j++ {
									got, w := float64(c[i*ldc+j]), want[i*ldc+j]
									if math.Abs(got-w) > tol {
										t.Fatalf("m=%d n=%d k=%d ta=%v tb=%v acc=%v: C[%d,%d] = %v, want %v", m, n, k, ta, tb, acc, i, j, got, w)
									}
								}
							}
							if ldc > n && m > 1 && c[ldc-1] != float32(want[ldc-1]) {
								t.Fatalf("m=%d n=%d k=%d: the padding column of C was written", m, n, k)
							}
						}
					}
				}
			}
		})
	}
}

// TestGemmZeroSizes: empty products leave C alone or clear it (k = 0).
func TestGemmZeroSizes(t *testing.T) {
	for _, set := range availableKernels() {
		c := []float32{1, 2, 3, 4, 5, 6}
		gemm(set, true, 2, 3, 0, operand{stride: 1}, operand{stride: 3}, c, 3)
		if !slices.Equal(c, []float32{1, 2, 3, 4, 5, 6}) {
			t.Errorf("%s: k=0 accumulate changed C: %v", set.name, c)
		}
		gemm(set, false, 2, 3, 0, operand{stride: 1}, operand{stride: 3}, c, 3)
		if !slices.Equal(c, make([]float32, 6)) {
			t.Errorf("%s: k=0 set left C = %v", set.name, c)
		}
		gemm(set, false, 0, 3, 4, operand{stride: 4}, operand{data: make([]float32, 12), stride: 3}, nil, 3)
	}
}

// TestGemmShortOperandPanics: an operand smaller than its shape is caught
// before any assembly reads past it.
func TestGemmShortOperandPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b operand
		c    []float32
	}{
		{"A", operand{data: make([]float32, 5), stride: 3}, operand{data: make([]float32, 6), stride: 2}, make([]float32, 4)},
		{"B", operand{data: make([]float32, 6), stride: 3}, operand{data: make([]float32, 5), stride: 2}, make([]float32, 4)},
		{"C", operand{data: make([]float32, 6), stride: 3}, operand{data: make([]float32, 6), stride: 2}, make([]float32, 3)},
		{"stride", operand{data: make([]float32, 6), stride: 2}, operand{data: make([]float32, 6), stride: 2}, make([]float32, 4)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			gemm(availableKernels()[0], false, 2, 2, 3, tc.a, tc.b, tc.c, 2)
		})
	}
}

// TestGemmSplitDeterministic: how the row panels are split over goroutines
// never changes a bit of the result, and the assembly kernel sets agree
// bit for bit with each other (one FMA chain per element in k order).
func TestGemmSplitDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, s := range [][3]int{{2048 / 4, 160, 128}, {127, 65, 2*kcBlock + 3}, {33, 127, 31}} {
		m, n, k := s[0], s[1], s[2]
		a := randOperand(rng, m, k, 0, false)
		b := randOperand(rng, k, n, 1, true)
		var first []float32
		var firstName string
		for _, set := range availableKernels() {
			var ref []float32
			for _, w := range []int{1, 2, 3, 7} {
				c := make([]float32, m*n)
				gemmSplit(set, w, false, m, n, k, a, b, c, n)
				if ref == nil {
					ref = c
				} else if !slices.Equal(c, ref) {
					t.Fatalf("%s %dx%dx%d: %d workers differ from 1", set.name, m, n, k, w)
				}
			}
			if set == &goKernels {
				continue
			}
			if first == nil {
				first, firstName = ref, set.name
			} else if !slices.Equal(ref, first) {
				t.Errorf("%dx%dx%d: %s and %s differ", m, n, k, set.name, firstName)
			}
		}
	}
}

// TestMatmulMatchesPlainKernel checks kernel.go's matmul, matmulAcc and the
// transposed forms against vek32-free reference products on the model's
// shapes and odd ones.
func TestMatmulMatchesPlainKernel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, s := range [][3]int{{1, 128, 1}, {16, 128, 1}, {1, 16, 128}, {1, 37, 32}, {37, 32, 37}, {128, 16, 160}, {65, 127, 33}, {300, 128, 160}} {
		m, k, n := s[0], s[1], s[2]
		t.Run(fmt.Sprintf("%dx%dx%d", m, k, n), func(t *testing.T) {
			a := randOperand(rng, m, k, 0, false)
			b := randOperand(rng, k, n, 0, false)
			aT := randOperand(rng, m, k, 0, true)
			bT := randOperand(rng, k, n, 0, true)
			tol := float64(k+1) * 0x1p-20
			check := func(name string, got []float32, want []float64) {
				t.Helper()
				for i := range want {
					if math.Abs(float64(got[i])-want[i]) > tol {
						t.Fatalf("%s: element %d = %v, want %v", name, i, got[i], want[i])
					}
				}
			}
			got := make([]float32, m*n)
			want := make([]float64, m*n)
			matmul(got, a.data, b.data, m, k, n)
			refGemm(false, m, n, k, a, b, want, n)
			check("matmul", got, want)
			matmulAcc(got, a.data, b.data, m, k, n)
			refGemm(true, m, n, k, a, b, want, n)
			check("matmulAcc", got, want)
			matmulTA(got, aT.data, b.data, m, k, n)
			refGemm(true, m, n, k, aT, b, want, n)
			check("matmulTA", got, want)
			matmulTB(got, a.data, bT.data, m, k, n)
			refGemm(false, m, n, k, a, bT, want, n)
			check("matmulTB", got, want)
		})
	}
}
