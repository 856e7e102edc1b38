package tinylm

import (
	"math"

	"github.com/viterin/vek/vek32"
)

// norm.go: LayerNorm over the last dimension, forward and backward.

const lnEps = 1e-5 // PyTorch's default

// layerNorm is one LayerNorm's parameters: gain g and bias b, both [d].
type layerNorm struct {
	g, b *tensor
}

// lnCache keeps what the backward pass needs.
type lnCache struct {
	xhat []float32 // [M,d] normalised input
	rstd []float32 // [M] 1/sqrt(var+eps)
}

// layerNormForward sets y = LN(x)·g + b for the M rows of x[M,d] and fills c.
func layerNormForward(y, x []float32, g, b []float32, M, d int, c lnCache) {
	parallelFor(M, 64, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			layerNormRow(y[i*d:i*d+d], x[i*d:i*d+d], g, b, c.xhat[i*d:i*d+d], &c.rstd[i])
		}
	})
}

// layerNormRow normalises one row; xhat may be nil when no backward pass
// will follow (sampling). The passes run on vek32 (float32 sums in vector
// lanes).
func layerNormRow(y, x, g, b, xhat []float32, rstd *float32) {
	d := float32(len(x))
	h := xhat
	if h == nil {
		h = y
	}
	vek32.SubNumber_Into(h, x, vek32.Sum(x)/d)
	r := float32(1 / math.Sqrt(float64(vek32.Dot(h, h)/d)+lnEps))
	if rstd != nil {
		*rstd = r
	}
	vek32.MulNumber_Inplace(h, r)
	if xhat != nil {
		copy(y, xhat)
	}
	vek32.Mul_Inplace(y, g)
	vek32.Add_Inplace(y, b)
}

// layerNormBackward adds dL/dx to dx given dy; it adds dL/dg and dL/db to
// the parameters' gradients when they have any (full training).
func layerNormBackward(dx, dy []float32, ln layerNorm, M, d int, c lnCache) {
	g := ln.g.w
	parallelFor(M, 64, func(lo, hi int) {
		dxh := make([]float32, d)
		t := make([]float32, d)
		for i := lo; i < hi; i++ {
			xh := c.xhat[i*d : i*d+d]
			r := c.rstd[i]
			// dx += r·(dxh − mean(dxh) − xh·mean(dxh⊙xh)), dxh = dy⊙g
			vek32.Mul_Into(dxh, dy[i*d:i*d+d], g)
			s1 := vek32.Sum(dxh) / float32(d)
			s2 := vek32.Dot(dxh, xh) / float32(d)
			vek32.MulNumber_Inplace(dxh, r)
			vek32.AddNumber_Inplace(dxh, -r*s1)
			vek32.MulNumber_Into(t, xh, -r*s2)
			vek32.Add_Inplace(dxh, t)
			vek32.Add_Inplace(dx[i*d:i*d+d], dxh)
		}
	})
	if ln.g.g != nil {
		t := make([]float32, d)
		for i := 0; i < M; i++ {
			dyr := dy[i*d : i*d+d]
			vek32.Mul_Into(t, dyr, c.xhat[i*d:i*d+d])
			vek32.Add_Inplace(ln.g.g, t)
			vek32.Add_Inplace(ln.b.g, dyr)
		}
	}
}
