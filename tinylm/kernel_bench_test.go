package tinylm

import (
	"fmt"
	"testing"
	"time"

	"github.com/viterin/vek/vek32"
)

// matmulShapes are the products of a LoRA step and of sampling with
// benchConfig (m, k, n; ta: A is stored transposed, a weight gradient):
// the q/k/v/o projections on merged weights (128×128) over a batch of 2048
// rows and over one of two 1024-row groups, the MLP (512), the head (256),
// x·Aᵀ and dy·s·B (16 columns), the LoRA gradients (k = a group's rows),
// the weight gradient of pretraining, attention's causal blocks of 24 query
// rows (scores against up to 128 keys, then the output), the 8-row decode
// step of sampling with its per-head attention (one row, one column); then
// the demo base's (d_model 64, heads of 16) head, projections and attention.
var matmulShapes = []struct {
	m, k, n int
	ta      bool
}{
	{2048, 128, 128, false}, {1024, 128, 128, false}, {2048, 128, 512, false}, {2048, 512, 128, false},
	{2048, 128, 256, false}, {2048, 256, 128, false}, {2048, 128, 16, false}, {16, 1024, 128, true},
	{128, 1024, 128, true}, {24, 32, 128, false}, {24, 128, 32, false},
	{8, 128, 128, false}, {8, 128, 512, false}, {8, 512, 128, false}, {8, 128, 256, false},
	{1, 128, 32, false}, {128, 32, 1, false},
	{2048, 64, 264, false}, {2048, 64, 64, false}, {24, 128, 16, false},
}

// BenchmarkMatmul reports GFLOP/s on the model's shapes of what the model
// runs (impl "tinylm": kernel.go's choice of kernel set), of each kernel set
// this CPU runs, and of vek32.MatMul_Into, in one command:
//
//	GOMAXPROCS=1 go test ./tinylm -run '^$' -bench Matmul
func BenchmarkMatmul(b *testing.B) {
	for _, s := range matmulShapes {
		m, k, n := s.m, s.k, s.n
		a := make([]float32, m*k)
		w := make([]float32, k*n)
		for i := range a {
			a[i] = float32(i%7) * 0.1
		}
		for i := range w {
			w[i] = float32(i%5) * 0.1
		}
		dst := make([]float32, m*n)
		name := fmt.Sprintf("%dx%dx%d", m, k, n)
		if s.ta {
			name += "TA"
		}
		var cpu time.Duration
		report := func(b *testing.B) {
			flops := float64(2*m*k*n) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			if used := cpuTime() - cpu; cpu > 0 && used > 0 {
				b.ReportMetric(flops/used.Seconds()/1e9, "GFLOP/cpu-s")
			}
		}
		b.Run(name+"/tinylm", func(b *testing.B) {
			cpu = cpuTime()
			for b.Loop() {
				if s.ta {
					matmulTA(dst, a, w, m, k, n)
				} else {
					matmul(dst, a, w, m, k, n)
				}
			}
			report(b)
		})
		if !s.ta {
			b.Run(name+"/vek32", func(b *testing.B) {
				cpu = cpuTime()
				for b.Loop() {
					vek32.MatMul_Into(dst, a, w, k)
				}
				report(b)
			})
		}
		for _, ks := range availableKernels() {
			b.Run(name+"/"+ks.name, func(b *testing.B) {
				ao := operand{data: a, stride: k, trans: s.ta}
				if s.ta {
					ao.stride = m
				}
				cpu = cpuTime()
				for b.Loop() {
					gemm(ks, false, m, n, k, ao, operand{data: w, stride: n}, dst, n)
				}
				report(b)
			})
		}
	}
}

func BenchmarkTranspose(b *testing.B) {
	src := make([]float32, 2048*128)
	dst := make([]float32, 2048*128)
	for b.Loop() {
		transpose(dst, src, 2048, 128)
	}
}

func BenchmarkTranspose128(b *testing.B) {
	src := make([]float32, 128*128)
	dst := make([]float32, 128*128)
	for b.Loop() {
		transpose(dst, src, 128, 128)
	}
}

func BenchmarkGELU(b *testing.B) {
	x := make([]float32, 2048*512)
	for i := range x {
		x[i] = float32(i%13) - 6
	}
	y, cdf := make([]float32, len(x)), make([]float32, len(x))
	for b.Loop() {
		geluForward(y, cdf, x)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/elem")
}
