package ml

import (
	"fmt"
	"math"
	"slices"
)

// KNNConfig configures k-nearest neighbours.
type KNNConfig struct {
	// K is the number of neighbours (default 5).
	K int
	// Metric is "cosine" (default for sparse rows) or "euclidean" (default
	// for dense rows). Missing (NaN) dense values are skipped.
	Metric string
	// Distance weights votes by similarity (cosine) or 1/distance
	// (euclidean) instead of one vote each.
	Distance bool
}

// KNN is a fitted nearest-neighbour classifier; it keeps the training rows.
type KNN struct {
	cfg     KNNConfig
	x       *Matrix
	norms   []float64
	classes []string
	codes   []int
}

// Neighbor is one training row near a query.
type Neighbor struct {
	Index int
	// Score is the cosine similarity, or the negated euclidean distance, so
	// higher is always nearer.
	Score float64
}

// FitKNN stores the training rows.
func FitKNN(x *Matrix, y []string, cfg KNNConfig) (*KNN, error) {
	if err := checkRows(x, len(y)); err != nil {
		return nil, fmt.Errorf("knn: %w", err)
	}
	if cfg.K <= 0 {
		cfg.K = 5
	}
	if cfg.Metric == "" {
		cfg.Metric = "euclidean"
		if x.Sparse != nil {
			cfg.Metric = "cosine"
		}
	}
	if cfg.Metric != "cosine" && cfg.Metric != "euclidean" {
		return nil, fmt.Errorf("knn: metric %q: want cosine or euclidean", cfg.Metric)
	}
	classes, codes, err := encodeLabels(y)
	if err != nil {
		return nil, fmt.Errorf("knn: %w", err)
	}
	m := &KNN{cfg: cfg, x: x, classes: classes, codes: codes}
	if cfg.Metric == "cosine" {
		m.norms = make([]float64, x.Rows())
		for i := range m.norms {
			m.norms[i] = x.row(i).Norm()
		}
	}
	return m, nil
}

// Classes returns the class labels in index order.
func (m *KNN) Classes() []string { return slices.Clone(m.classes) }

func (m *KNN) score(q *Matrix, qi int, i int) float64 {
	if m.cfg.Metric == "cosine" {
		a := q.row(qi)
		d := a.Dot(m.x.row(i))
		na := a.Norm()
		if na == 0 || m.norms[i] == 0 {
			return 0
		}
		return d / (na * m.norms[i])
	}
	var s float64
	a, b := denseRow(q, qi), denseRow(m.x, i)
	for j := range min(len(a), len(b)) {
		if math.IsNaN(a[j]) || math.IsNaN(b[j]) {
			continue
		}
		d := a[j] - b[j]
		s += d * d
	}
	return -math.Sqrt(s)
}

func denseRow(m *Matrix, i int) []float64 {
	if m.Dense != nil {
		return m.Dense[i]
	}
	out := make([]float64, m.Dim)
	r := m.Sparse[i]
	for j, f := range r.Idx {
		if int(f) < m.Dim {
			out[f] = r.Val[j]
		}
	}
	return out
}

// Neighbors returns the k nearest training rows to row qi of q, nearest
// first; ties go to the lower training index.
func (m *KNN) Neighbors(q *Matrix, qi, k int) []Neighbor {
	all := make([]Neighbor, m.x.Rows())
	for i := range all {
		all[i] = Neighbor{Index: i, Score: m.score(q, qi, i)}
	}
	slices.SortStableFunc(all, func(a, b Neighbor) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	return all[:min(k, len(all))]
}

// Proba returns the neighbours' vote share per class for row qi of q.
func (m *KNN) Proba(q *Matrix, qi int) []float64 {
	votes := make([]float64, len(m.classes))
	var total float64
	for _, nb := range m.Neighbors(q, qi, m.cfg.K) {
		w := 1.0
		if m.cfg.Distance {
			if m.cfg.Metric == "cosine" {
				w = max(nb.Score, 0)
			} else {
				w = 1 / (1e-9 - nb.Score)
			}
		}
		votes[m.codes[nb.Index]] += w
		total += w
	}
	if total > 0 {
		for i := range votes {
			votes[i] /= total
		}
	}
	return votes
}

// Predict returns the majority class of each row's neighbours (ties go to
// the class that sorts first).
func (m *KNN) Predict(q *Matrix) []string {
	out := make([]string, q.Rows())
	for i := range out {
		out[i] = m.classes[argmax(m.Proba(q, i))]
	}
	return out
}
