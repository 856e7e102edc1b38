//go:build !purego

package tinylm

import "golang.org/x/sys/cpu"

// sgemm_amd64.go: the assembly micro-kernels (sgemm_amd64.s) and the choice
// between them by CPU feature.

//go:generate sh -c "cd _asm && go run . -out ../sgemm_amd64.s -stubs ../sgemm_stub_amd64.go -pkg tinylm"

// asmTile adapts an assembly kernel to a tileFunc.
func asmTile(f func(k int, a *float32, ars, aks int, b *float32, bks int, c *float32, ldc int, acc bool)) tileFunc {
	return func(k int, a []float32, ars, aks int, b []float32, bks int, c []float32, ldc int, acc bool) {
		f(k, &a[0], ars, aks, &b[0], bks, &c[0], ldc, acc)
	}
}

// avx2Kernels: 6×16 tiles in ymm registers (AVX2 + FMA).
var avx2Kernels = kernelSet{name: "avx2", mr: 6, nr: 16, tiles: []tileFunc{
	asmTile(sgemmAVX2_1), asmTile(sgemmAVX2_2), asmTile(sgemmAVX2_3),
	asmTile(sgemmAVX2_4), asmTile(sgemmAVX2_5), asmTile(sgemmAVX2_6),
}}

// avx512Kernels: 12×32 tiles in zmm registers (AVX-512F).
var avx512Kernels = kernelSet{name: "avx512", mr: 12, nr: 32, tiles: []tileFunc{
	asmTile(sgemmAVX512_1), asmTile(sgemmAVX512_2), asmTile(sgemmAVX512_3),
	asmTile(sgemmAVX512_4), asmTile(sgemmAVX512_5), asmTile(sgemmAVX512_6),
	asmTile(sgemmAVX512_7), asmTile(sgemmAVX512_8), asmTile(sgemmAVX512_9),
	asmTile(sgemmAVX512_10), asmTile(sgemmAVX512_11), asmTile(sgemmAVX512_12),
}}

// avx512NarrowKernels: 12×16 tiles, one zmm per row (AVX-512F), for
// products at most 16 columns wide.
var avx512NarrowKernels = kernelSet{name: "avx512n", mr: 12, nr: 16, tiles: []tileFunc{
	asmTile(sgemmAVX512N_1), asmTile(sgemmAVX512N_2), asmTile(sgemmAVX512N_3),
	asmTile(sgemmAVX512N_4), asmTile(sgemmAVX512N_5), asmTile(sgemmAVX512N_6),
	asmTile(sgemmAVX512N_7), asmTile(sgemmAVX512N_8), asmTile(sgemmAVX512N_9),
	asmTile(sgemmAVX512N_10), asmTile(sgemmAVX512N_11), asmTile(sgemmAVX512N_12),
}}

// availableKernels lists the kernel sets this CPU runs, fastest first; the
// pure-Go set is always last.
func availableKernels() []*kernelSet {
	var ks []*kernelSet
	if cpu.X86.HasAVX512F {
		ks = append(ks, &avx512Kernels, &avx512NarrowKernels)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, &avx2Kernels)
	}
	return append(ks, &goKernels)
}
