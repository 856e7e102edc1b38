package ml

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// GBTConfig configures gradient-boosted trees. Zero values take defaults.
type GBTConfig struct {
	NEstimators  int     // boosting rounds (default 100)
	LearningRate float64 // shrinkage (default 0.1)
	MaxDepth     int     // tree depth (default 4)
	// Subsample is the fraction of rows drawn (without replacement) for
	// each round (default 1).
	Subsample float64
	// ColSample is the fraction of columns tried per tree (default 1).
	ColSample float64
	// MinChildWeight is the least hessian sum in a child (default 1).
	MinChildWeight float64
	// MinSamplesLeaf is the least number of rows in a child (default 1).
	MinSamplesLeaf int
	// L2 is the leaf-weight penalty λ (default 1).
	L2 float64
	// MaxBins caps histogram bins per numeric column (default 255, max 255).
	MaxBins int
	// Categorical forces these columns to be categorical; the others are
	// categorical only when they hold non-numbers.
	Categorical []string
	Seed        int64
}

func (c *GBTConfig) applyDefaults() {
	if c.NEstimators <= 0 {
		c.NEstimators = 100
	}
	if c.LearningRate <= 0 {
		c.LearningRate = 0.1
	}
	if c.MaxDepth <= 0 {
		c.MaxDepth = 4
	}
	if c.Subsample <= 0 {
		c.Subsample = 1
	}
	if c.ColSample <= 0 {
		c.ColSample = 1
	}
	if c.MinChildWeight <= 0 {
		c.MinChildWeight = 1
	}
	if c.MinSamplesLeaf <= 0 {
		c.MinSamplesLeaf = 1
	}
	if c.L2 <= 0 {
		c.L2 = 1
	}
	if c.MaxBins <= 0 || c.MaxBins > 255 {
		c.MaxBins = 255
	}
}

func (c *GBTConfig) validate() error {
	if c.Subsample > 1 || c.ColSample > 1 {
		return fmt.Errorf("subsample %g and colsample %g must be in (0, 1]", c.Subsample, c.ColSample)
	}
	if c.MaxDepth > 16 {
		return fmt.Errorf("max_depth %d: at most 16", c.MaxDepth)
	}
	if c.NEstimators > 100000 {
		return fmt.Errorf("n_estimators %d: at most 100000", c.NEstimators)
	}
	return nil
}

// binner maps raw cells of one column to bins 0..255; bin 0 is missing (and
// unseen categories).
type binner struct {
	categorical bool
	edges       []float64      // numeric: value v goes to bin 1+#(edges < v)
	cats        map[string]int // categorical: category → bin
	nbins       int
}

func (b *binner) bin(v any) uint8 {
	if isMissing(v) {
		return 0
	}
	if b.categorical {
		return uint8(b.cats[category(v)]) // unseen → 0
	}
	f, ok := numeric(v)
	if !ok {
		return 0
	}
	return uint8(1 + sort.SearchFloat64s(b.edges, f))
}

func fitBinner(rows [][]any, j int, categorical bool, maxBins int) *binner {
	if categorical {
		counts := map[string]int{}
		for _, r := range rows {
			if !isMissing(r[j]) {
				counts[category(r[j])]++
			}
		}
		names := make([]string, 0, len(counts))
		for c := range counts {
			names = append(names, c)
		}
		slices.SortFunc(names, func(a, b string) int {
			if counts[a] != counts[b] {
				return counts[b] - counts[a]
			}
			return strings.Compare(a, b)
		})
		if len(names) > maxBins-1 { // rare categories share the missing bin
			names = names[:maxBins-1]
		}
		b := &binner{categorical: true, cats: make(map[string]int, len(names)), nbins: len(names) + 1}
		for i, c := range names {
			b.cats[c] = i + 1
		}
		return b
	}
	var vals []float64
	for _, r := range rows {
		if isMissing(r[j]) {
			continue
		}
		if f, ok := numeric(r[j]); ok {
			vals = append(vals, f)
		}
	}
	slices.Sort(vals)
	uniq := slices.Compact(slices.Clone(vals))
	var edges []float64
	if len(uniq) <= maxBins-1 {
		for i := 0; i+1 < len(uniq); i++ {
			edges = append(edges, (uniq[i]+uniq[i+1])/2)
		}
	} else {
		// Quantile edges; equal quantiles collapse.
		nb := maxBins - 1
		for q := 1; q < nb; q++ {
			e := vals[q*len(vals)/nb]
			if len(edges) == 0 || e > edges[len(edges)-1] {
				edges = append(edges, e)
			}
		}
	}
	// Strictly-below search means v == edge goes to the lower bin, matching
	// midpoints and quantile edges alike.
	return &binner{edges: edges, nbins: len(edges) + 2}
}

// treeNode is one node of a fitted tree. Leaves have feature -1.
type treeNode struct {
	feature     int32
	left, right int32
	threshold   uint8     // numeric: bins 1..threshold go left
	missLeft    bool      // numeric: where missing goes
	cats        [4]uint64 // categorical: bins in the set go left
	value       float64
}

func (n *treeNode) goLeft(b uint8, categorical bool) bool {
	if categorical {
		return n.cats[b>>6]&(1<<(b&63)) != 0
	}
	if b == 0 {
		return n.missLeft
	}
	return b <= n.threshold
}

type tree []treeNode

func (t tree) predict(row []uint8, categorical []bool) float64 {
	i := int32(0)
	for t[i].feature >= 0 {
		n := &t[i]
		if n.goLeft(row[n.feature], categorical[n.feature]) {
			i = n.left
		} else {
			i = n.right
		}
	}
	return t[i].value
}

// GBT is a fitted gradient-boosted tree ensemble. Immutable; safe for
// concurrent use.
type GBT struct {
	names       []string
	categorical []bool
	binners     []*binner
	// classes is nil for regression; one tree per round for regression and
	// binary classification, one per class per round otherwise.
	classes    []string
	base       []float64
	trees      [][]tree // trees[round][output]
	importance []float64
}

// Names returns the feature columns the model was trained on.
func (m *GBT) Names() []string { return slices.Clone(m.names) }

// Classes returns the class labels (sorted), nil for a regressor.
func (m *GBT) Classes() []string { return slices.Clone(m.classes) }

// Importance returns each column's total split gain, normalised to sum 1.
func (m *GBT) Importance() map[string]float64 {
	var total float64
	for _, g := range m.importance {
		total += g
	}
	out := make(map[string]float64, len(m.names))
	for j, n := range m.names {
		if total > 0 {
			out[n] = m.importance[j] / total
		} else {
			out[n] = 0
		}
	}
	return out
}

// binRows bins a table whose columns match the model's by name.
func (m *GBT) binRows(t *Table) ([][]uint8, error) {
	pos := make([]int, len(m.names))
	for j, n := range m.names {
		pos[j] = slices.Index(t.Names, n)
		if pos[j] < 0 {
			return nil, fmt.Errorf("column %q is missing (model columns: %v)", n, m.names)
		}
	}
	out := make([][]uint8, len(t.Rows))
	for i, r := range t.Rows {
		if len(r) != len(t.Names) {
			return nil, fmt.Errorf("row %d has %d cells, want %d", i, len(r), len(t.Names))
		}
		b := make([]uint8, len(m.names))
		for j, p := range pos {
			b[j] = m.binners[j].bin(r[p])
		}
		out[i] = b
	}
	return out, nil
}

// raw returns the summed scores (one per output) of a binned row.
func (m *GBT) raw(row []uint8) []float64 {
	out := slices.Clone(m.base)
	for _, round := range m.trees {
		for k, t := range round {
			out[k] += t.predict(row, m.categorical)
		}
	}
	return out
}

// Proba returns class probabilities of every row (classifiers only).
func (m *GBT) Proba(t *Table) ([][]float64, error) {
	if m.classes == nil {
		return nil, fmt.Errorf("gbt: a regressor has no class probabilities")
	}
	rows, err := m.binRows(t)
	if err != nil {
		return nil, fmt.Errorf("gbt: %w", err)
	}
	out := make([][]float64, len(rows))
	for i, r := range rows {
		s := m.raw(r)
		if len(m.classes) == 2 {
			p := sigmoid(s[0])
			out[i] = []float64{1 - p, p}
		} else {
			out[i] = softmax(s)
		}
	}
	return out, nil
}

// Predict returns the best class of every row (classifiers).
func (m *GBT) Predict(t *Table) ([]string, error) {
	p, err := m.Proba(t)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(p))
	for i, pr := range p {
		out[i] = m.classes[argmax(pr)]
	}
	return out, nil
}

// PredictValue returns the regression output of every row (regressors).
func (m *GBT) PredictValue(t *Table) ([]float64, error) {
	if m.classes != nil {
		return nil, fmt.Errorf("gbt: a classifier predicts classes, not values")
	}
	rows, err := m.binRows(t)
	if err != nil {
		return nil, fmt.Errorf("gbt: %w", err)
	}
	out := make([]float64, len(rows))
	for i, r := range rows {
		out[i] = m.raw(r)[0]
	}
	return out, nil
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// FitGBTClassifier trains a classifier: logistic loss for two classes
// (the class sorting last is positive), softmax loss with one tree per
// class per round for more.
func FitGBTClassifier(ctx context.Context, t *Table, y []string, cfg GBTConfig) (*GBT, error) {
	if err := t.check(); err != nil {
		return nil, fmt.Errorf("gbt: %w", err)
	}
	if len(y) != len(t.Rows) {
		return nil, fmt.Errorf("gbt: %d rows but %d labels", len(t.Rows), len(y))
	}
	classes, codes, err := encodeLabels(y)
	if err != nil {
		return nil, fmt.Errorf("gbt: %w", err)
	}
	if len(classes) < 2 {
		return nil, fmt.Errorf("gbt: labels hold one class (%q); need at least two", classes[0])
	}
	m, err := fitGBT(ctx, t, cfg, classes, codes, nil)
	if err != nil {
		return nil, fmt.Errorf("gbt: %w", err)
	}
	return m, nil
}

// FitGBTRegressor trains a regressor with squared loss.
func FitGBTRegressor(ctx context.Context, t *Table, y []float64, cfg GBTConfig) (*GBT, error) {
	if err := t.check(); err != nil {
		return nil, fmt.Errorf("gbt: %w", err)
	}
	if len(y) != len(t.Rows) {
		return nil, fmt.Errorf("gbt: %d rows but %d targets", len(t.Rows), len(y))
	}
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("gbt: target %d is %g", i, v)
		}
	}
	m, err := fitGBT(ctx, t, cfg, nil, nil, y)
	if err != nil {
		return nil, fmt.Errorf("gbt: %w", err)
	}
	return m, nil
}
