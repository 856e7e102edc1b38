// Command sgemm generates tinylm's SGEMM micro-kernels (../sgemm_amd64.s and
// the Go declarations in ../sgemm_stub_amd64.go) with avo. Run it through
// go generate in ../ (see ../sgemm_amd64.go); it lives in its own module so
// that sia itself does not depend on avo.
//
// A micro-kernel computes an r×nr tile of C = A·B for one block of k:
//
//	C[i,j] (+)= Σ_kk A[i,kk]·Bp[kk,j]   for i < r, j < nr
//
// A is read in place with two strides (element (i,kk) at a + i·ars + kk·aks,
// so a transposed A costs nothing); B is a panel of nr columns whose rows
// are bks apart (a packed panel, bks = nr, or B itself, bks = its row
// stride); C has row stride ldc. The r·nr/lanes accumulators stay in vector
// registers for the whole k loop; every step loads one row of the B panel
// (nr/lanes vectors), broadcasts each A element once and issues r·nr/lanes
// FMAs. Each output
// element is one chain of FMAs in kk order, whatever the tile or ISA, so the
// AVX2 and AVX-512 kernels give the same bits.
//
// Kernels are generated for every r from 1 to the register-blocking height,
// so the last rows of a matrix do not pay for padding.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// isa describes one vector instruction set's kernel family.
type isa struct {
	name  string
	lanes int // float32 lanes per vector register
	nvec  int // vectors per tile row: nr = lanes·nvec
	mr    int // tile height (rows kept in registers)
	vec   func() VecVirtual
	zero  func(ops ...Op) // register clear that needs no more than the ISA
}

func main() {
	ConstraintExpr("!purego")
	isas := []isa{
		// 16 ymm registers: 6×2 accumulators, 2 B vectors, 1 broadcast.
		{name: "AVX2", lanes: 8, nvec: 2, mr: 6, vec: YMM, zero: VXORPS},
		// 32 zmm registers: 12×2 accumulators, 2 B vectors, broadcasts.
		{name: "AVX512", lanes: 16, nvec: 2, mr: 12, vec: ZMM, zero: VPXORD},
		// One zmm per row, for products 16 columns wide (attention heads
		// of 16): 12 accumulators, 1 B vector.
		{name: "AVX512N", lanes: 16, nvec: 1, mr: 12, vec: ZMM, zero: VPXORD},
	}
	for _, s := range isas {
		for r := 1; r <= s.mr; r++ {
			kernel(s, r)
		}
	}
	Generate()
}

func kernel(s isa, r int) {
	nr := s.lanes * s.nvec
	vb := 4 * s.lanes // bytes per vector
	TEXT(fmt.Sprintf("sgemm%s_%d", s.name, r), NOSPLIT,
		"func(k int, a *float32, ars, aks int, b *float32, bks int, c *float32, ldc int, acc bool)")
	Pragma("noescape")
	Doc(fmt.Sprintf("sgemm%s_%d computes a %d×%d tile: C (+)= A·Bp over k steps (see the generator).", s.name, r, r, nr))

	k := Load(Param("k"), GP64())
	ars := Load(Param("ars"), GP64())
	SHLQ(U8(2), ars)
	aks := Load(Param("aks"), GP64())
	SHLQ(U8(2), aks)
	b := Load(Param("b"), GP64())
	bks := Load(Param("bks"), GP64())
	SHLQ(U8(2), bks)

	// Row i of A is addressed as (base[i/3])(ars·(i%3)): one base register
	// per three rows, all advanced by aks per step.
	bases := make([]Register, (r+2)/3)
	bases[0] = Load(Param("a"), GP64())
	for g := 1; g < len(bases); g++ {
		bases[g] = GP64()
		LEAQ(Mem{Base: bases[g-1], Index: ars, Scale: 2}, bases[g])
		ADDQ(ars, bases[g])
	}
	rowA := func(i int) Mem {
		m := Mem{Base: bases[i/3]}
		if i%3 > 0 {
			m.Index, m.Scale = ars, uint8(i%3)
		}
		return m
	}

	accs := make([][]VecVirtual, r)
	for i := range accs {
		accs[i] = make([]VecVirtual, s.nvec)
		for j := range accs[i] {
			accs[i][j] = s.vec()
			s.zero(accs[i][j], accs[i][j], accs[i][j])
		}
	}

	TESTQ(k, k)
	JZ(LabelRef("store"))
	Label("loop")
	bv := make([]VecVirtual, s.nvec)
	for j := range bv {
		bv[j] = s.vec()
		VMOVUPS(Mem{Base: b, Disp: j * vb}, bv[j])
	}
	for i := 0; i < r; i++ {
		t := s.vec()
		VBROADCASTSS(rowA(i), t)
		for j := range bv {
			VFMADD231PS(bv[j], t, accs[i][j])
		}
	}
	ADDQ(bks, b)
	for _, base := range bases {
		ADDQ(aks, base)
	}
	DECQ(k)
	JNZ(LabelRef("loop"))

	Label("store")
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	accFlag := Load(Param("acc"), GP8())
	TESTB(accFlag, accFlag)
	JZ(LabelRef("set"))
	for i := 0; i < r; i++ {
		for j := 0; j < s.nvec; j++ {
			VADDPS(Mem{Base: c, Disp: j * vb}, accs[i][j], accs[i][j])
			VMOVUPS(accs[i][j], Mem{Base: c, Disp: j * vb})
		}
		if i+1 < r {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
	Label("set")
	for i := 0; i < r; i++ {
		for j := 0; j < s.nvec; j++ {
			VMOVUPS(accs[i][j], Mem{Base: c, Disp: j * vb})
		}
		if i+1 < r {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}
