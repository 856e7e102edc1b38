package ml

import "math"

// Sparse is a sparse vector: Idx holds feature indices in ascending order,
// Val the matching values.
type Sparse struct {
	Idx []int32
	Val []float64
}

// Dot is the inner product of two sparse vectors.
func (a Sparse) Dot(b Sparse) float64 {
	var s float64
	i, j := 0, 0
	for i < len(a.Idx) && j < len(b.Idx) {
		switch {
		case a.Idx[i] == b.Idx[j]:
			s += a.Val[i] * b.Val[j]
			i++
			j++
		case a.Idx[i] < b.Idx[j]:
			i++
		default:
			j++
		}
	}
	return s
}

// Norm is the Euclidean norm.
func (a Sparse) Norm() float64 {
	var s float64
	for _, v := range a.Val {
		s += v * v
	}
	return math.Sqrt(s)
}

// Matrix is a batch of feature rows, sparse (from a vectorizer) or dense
// (numeric tables). Exactly one of Sparse and Dense is set. NaN in a dense
// row means missing.
type Matrix struct {
	Sparse []Sparse
	Dense  [][]float64
	// Dim is the number of columns.
	Dim int
}

// Rows is the number of rows.
func (m *Matrix) Rows() int {
	if m.Sparse != nil {
		return len(m.Sparse)
	}
	return len(m.Dense)
}

// Subset returns the rows at idx (sharing row storage).
func (m *Matrix) Subset(idx []int) *Matrix {
	out := &Matrix{Dim: m.Dim}
	if m.Sparse != nil {
		out.Sparse = make([]Sparse, len(idx))
		for i, j := range idx {
			out.Sparse[i] = m.Sparse[j]
		}
		return out
	}
	out.Dense = make([][]float64, len(idx))
	for i, j := range idx {
		out.Dense[i] = m.Dense[j]
	}
	return out
}

// row returns row i as a sparse vector (dense rows are converted, missing
// values count as 0) so linear models handle both kinds alike.
func (m *Matrix) row(i int) Sparse {
	if m.Sparse != nil {
		return m.Sparse[i]
	}
	d := m.Dense[i]
	s := Sparse{Idx: make([]int32, 0, len(d)), Val: make([]float64, 0, len(d))}
	for j, v := range d {
		if v != 0 && !math.IsNaN(v) {
			s.Idx = append(s.Idx, int32(j))
			s.Val = append(s.Val, v)
		}
	}
	return s
}

// sparseRows returns every row as a sparse vector.
func (m *Matrix) sparseRows() []Sparse {
	if m.Sparse != nil {
		return m.Sparse
	}
	out := make([]Sparse, len(m.Dense))
	for i := range m.Dense {
		out[i] = m.row(i)
	}
	return out
}

// SparseRow returns row i as a sparse vector; dense rows are converted
// (missing values count as 0).
func (m *Matrix) SparseRow(i int) Sparse { return m.row(i) }
