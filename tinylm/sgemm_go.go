package tinylm

// sgemm_go.go: the pure-Go micro-kernel, used on CPUs without AVX2/FMA, on
// other architectures and in purego builds. It keeps a 4×4 tile of C in
// sixteen scalar variables (Go does not vectorise, so wider tiles only
// spill), which is what a register-blocked kernel can do in plain Go.

// goKernels is the pure-Go kernel set.
var goKernels = kernelSet{
	name: "go", mr: 4, nr: 4,
	tiles: []tileFunc{goTile(1), goTile(2), goTile(3), goTile4},
}

// goTile returns the tile function for r < 4 rows: one row at a time.
func goTile(r int) tileFunc {
	return func(k int, a []float32, ars, aks int, b []float32, bks int, c []float32, ldc int, acc bool) {
		for i := 0; i < r; i++ {
			var c0, c1, c2, c3 float32
			for kk := 0; kk < k; kk++ {
				x := a[i*ars+kk*aks]
				bb := b[kk*bks : kk*bks+4 : kk*bks+4]
				c0 += x * bb[0]
				c1 += x * bb[1]
				c2 += x * bb[2]
				c3 += x * bb[3]
			}
			storeRow4(c[i*ldc:i*ldc+4:i*ldc+4], c0, c1, c2, c3, acc)
		}
	}
}

// goTile4 is the full 4×4 tile.
func goTile4(k int, a []float32, ars, aks int, b []float32, bks int, c []float32, ldc int, acc bool) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	for kk := 0; kk < k; kk++ {
		o := kk * aks
		a0, a1, a2, a3 := a[o], a[o+ars], a[o+2*ars], a[o+3*ars]
		bb := b[kk*bks : kk*bks+4 : kk*bks+4]
		b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	storeRow4(c[0:4:4], c00, c01, c02, c03, acc)
	storeRow4(c[ldc:ldc+4:ldc+4], c10, c11, c12, c13, acc)
	storeRow4(c[2*ldc:2*ldc+4:2*ldc+4], c20, c21, c22, c23, acc)
	storeRow4(c[3*ldc:3*ldc+4:3*ldc+4], c30, c31, c32, c33, acc)
}

func storeRow4(c []float32, c0, c1, c2, c3 float32, acc bool) {
	if acc {
		c[0] += c0
		c[1] += c1
		c[2] += c2
		c[3] += c3
		return
	}
	c[0], c[1], c[2], c[3] = c0, c1, c2, c3
}
