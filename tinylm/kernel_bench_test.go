package tinylm

import (
	"fmt"
	"testing"
)

func BenchmarkMatmul(b *testing.B) {
	for _, s := range [][3]int{{2048, 128, 384}, {2048, 128, 432}, {2048, 16, 128}, {2048, 48, 384}, {2048, 384, 176}, {2048, 384, 128}, {48, 2048, 128}, {32, 128, 128}, {1, 128, 512}, {4, 128, 512}} {
		m, k, n := s[0], s[1], s[2]
		a := make([]float32, m*k)
		w := make([]float32, k*n)
		for i := range a {
			a[i] = float32(i%7) * 0.1
		}
		for i := range w {
			w[i] = float32(i%5) * 0.1
		}
		dst := make([]float32, m*n)
		b.Run(fmt.Sprintf("%dx%dx%d", m, k, n), func(b *testing.B) {
			for b.Loop() {
				matmul(dst, a, w, m, k, n)
			}
			b.ReportMetric(float64(2*m*k*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
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
