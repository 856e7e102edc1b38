package tinylm

import "math"

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
// will follow (sampling).
func layerNormRow(y, x, g, b, xhat []float32, rstd *float32) {
	d := len(x)
	var sum float64
	for _, v := range x {
		sum += float64(v)
	}
	mean := float32(sum / float64(d))
	var ss float64
	for _, v := range x {
		dv := float64(v - mean)
		ss += dv * dv
	}
	r := float32(1 / math.Sqrt(ss/float64(d)+lnEps))
	if rstd != nil {
		*rstd = r
	}
	for j, v := range x {
		h := (v - mean) * r
		if xhat != nil {
			xhat[j] = h
		}
		y[j] = h*g[j] + b[j]
	}
}

// layerNormBackward adds dL/dx to dx given dy; it adds dL/dg and dL/db to
// the parameters' gradients when they have any (full training).
func layerNormBackward(dx, dy []float32, ln layerNorm, M, d int, c lnCache) {
	g := ln.g.w
	parallelFor(M, 64, func(lo, hi int) {
		dxh := make([]float32, d)
		for i := lo; i < hi; i++ {
			dyr := dy[i*d : i*d+d]
			xh := c.xhat[i*d : i*d+d]
			var s1, s2 float32
			for j := range dxh {
				v := dyr[j] * g[j]
				dxh[j] = v
				s1 += v
				s2 += v * xh[j]
			}
			s1 /= float32(d)
			s2 /= float32(d)
			r := c.rstd[i]
			dxr := dx[i*d : i*d+d]
			for j := range dxh {
				dxr[j] += r * (dxh[j] - s1 - xh[j]*s2)
			}
		}
	})
	if ln.g.g != nil {
		for i := 0; i < M; i++ {
			dyr := dy[i*d : i*d+d]
			xh := c.xhat[i*d : i*d+d]
			for j := range dyr {
				ln.g.g[j] += dyr[j] * xh[j]
				ln.b.g[j] += dyr[j]
			}
		}
	}
}
