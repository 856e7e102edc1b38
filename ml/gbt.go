package ml

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
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

// fitGBT runs the boosting loop. Exactly one of codes (classification) and
// target (regression) is set.
func fitGBT(ctx context.Context, t *Table, cfg GBTConfig, classes []string, codes []int, target []float64) (*GBT, error) {
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	forced := map[string]bool{}
	for _, c := range cfg.Categorical {
		if !slices.Contains(t.Names, c) {
			return nil, fmt.Errorf("categorical column %q is not a column (columns: %v)", c, t.Names)
		}
		forced[c] = true
	}
	nf := len(t.Names)
	m := &GBT{names: slices.Clone(t.Names), categorical: t.InferCategorical(forced), classes: classes, importance: make([]float64, nf)}
	m.binners = make([]*binner, nf)
	for j := range nf {
		m.binners[j] = fitBinner(t.Rows, j, m.categorical[j], cfg.MaxBins)
	}
	rows, err := m.binRows(t)
	if err != nil {
		return nil, err
	}
	n := len(rows)
	// Column-major bins make histogram passes cache friendly.
	cols := make([][]uint8, nf)
	for j := range cols {
		cols[j] = make([]uint8, n)
		for i, r := range rows {
			cols[j][i] = r[j]
		}
	}
	nout := 1
	if classes != nil && len(classes) > 2 {
		nout = len(classes)
	}
	m.base = make([]float64, nout)
	switch {
	case classes == nil:
		var s float64
		for _, v := range target {
			s += v
		}
		m.base[0] = s / float64(n)
	case nout == 1:
		var pos float64
		for _, c := range codes {
			if c == 1 {
				pos++
			}
		}
		p := min(max(pos/float64(n), 1e-6), 1-1e-6)
		m.base[0] = math.Log(p / (1 - p))
	default:
		cnt := make([]float64, nout)
		for _, c := range codes {
			cnt[c]++
		}
		for k := range cnt {
			m.base[k] = math.Log(max(cnt[k], 1) / float64(n))
		}
	}
	f := make([][]float64, n) // current raw scores
	for i := range f {
		f[i] = slices.Clone(m.base)
	}
	g := make([]float64, n)
	h := make([]float64, n)
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0xda942042e4dd58b5))
	b := &treeBuilder{cfg: &cfg, cols: cols, categorical: m.categorical, binners: m.binners, g: g, h: h, importance: m.importance}
	all := make([]int32, n)
	for i := range all {
		all[i] = int32(i)
	}
	for round := 0; round < cfg.NEstimators; round++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sample := all
		if cfg.Subsample < 1 {
			perm := rng.Perm(n)
			k := max(1, int(cfg.Subsample*float64(n)))
			sample = make([]int32, k)
			for i := range k {
				sample[i] = int32(perm[i])
			}
			slices.Sort(sample)
		}
		features := make([]int, 0, nf)
		for j := range nf {
			features = append(features, j)
		}
		if cfg.ColSample < 1 {
			rng.Shuffle(nf, func(a, c int) { features[a], features[c] = features[c], features[a] })
			features = features[:max(1, int(math.Round(cfg.ColSample*float64(nf))))]
			slices.Sort(features)
		}
		var probs [][]float64
		if nout > 1 {
			probs = make([][]float64, n)
			for i := range f {
				probs[i] = softmax(f[i])
			}
		}
		trees := make([]tree, nout)
		for k := range nout {
			for _, i := range sample {
				switch {
				case classes == nil:
					g[i], h[i] = f[i][0]-target[i], 1
				case nout == 1:
					p := sigmoid(f[i][0])
					y := 0.0
					if codes[i] == 1 {
						y = 1
					}
					g[i], h[i] = p-y, max(p*(1-p), 1e-12)
				default:
					p := probs[i][k]
					y := 0.0
					if codes[i] == k {
						y = 1
					}
					g[i], h[i] = p-y, max(p*(1-p), 1e-12)
				}
			}
			tr := b.build(slices.Clone(sample), features)
			for i := range n {
				f[i][k] += tr.predict(rows[i], m.categorical)
			}
			trees[k] = tr
		}
		m.trees = append(m.trees, trees)
	}
	return m, nil
}

// treeBuilder grows one tree at a time over shared gradient buffers.
type treeBuilder struct {
	cfg         *GBTConfig
	cols        [][]uint8
	categorical []bool
	binners     []*binner
	g, h        []float64
	importance  []float64
}

type split struct {
	gain      float64
	feature   int
	threshold uint8
	missLeft  bool
	cats      [4]uint64
}

func (b *treeBuilder) build(rows []int32, features []int) tree {
	var t tree
	b.grow(&t, rows, features, 0)
	return t
}

func (b *treeBuilder) grow(t *tree, rows []int32, features []int, depth int) int32 {
	var gs, hs float64
	for _, i := range rows {
		gs += b.g[i]
		hs += b.h[i]
	}
	id := int32(len(*t))
	*t = append(*t, treeNode{feature: -1, value: -gs / (hs + b.cfg.L2) * b.cfg.LearningRate})
	if depth >= b.cfg.MaxDepth || len(rows) < 2*b.cfg.MinSamplesLeaf || hs < 2*b.cfg.MinChildWeight {
		return id
	}
	best := split{feature: -1}
	for _, j := range features {
		if s, ok := b.bestSplit(rows, j, gs, hs); ok && s.gain > best.gain {
			best = s
		}
	}
	if best.feature < 0 {
		return id
	}
	b.importance[best.feature] += best.gain
	node := treeNode{feature: int32(best.feature), threshold: best.threshold, missLeft: best.missLeft, cats: best.cats}
	// Partition in place: left rows first, keeping order.
	left := make([]int32, 0, len(rows))
	right := make([]int32, 0, len(rows))
	col := b.cols[best.feature]
	cat := b.categorical[best.feature]
	for _, i := range rows {
		if node.goLeft(col[i], cat) {
			left = append(left, i)
		} else {
			right = append(right, i)
		}
	}
	node.left = b.grow(t, left, features, depth+1)
	node.right = b.grow(t, right, features, depth+1)
	node.value = (*t)[id].value
	(*t)[id] = node
	return id
}

// bestSplit finds feature j's best split of rows; ok is false when no split
// satisfies the child constraints with positive gain.
func (b *treeBuilder) bestSplit(rows []int32, j int, gs, hs float64) (split, bool) {
	nb := b.binners[j].nbins
	var hg, hh [256]float64
	var hn [256]int
	col := b.cols[j]
	for _, i := range rows {
		bin := col[i]
		hg[bin] += b.g[i]
		hh[bin] += b.h[i]
		hn[bin]++
	}
	lambda := b.cfg.L2
	parent := gs * gs / (hs + lambda)
	n := len(rows)
	ok := func(hl float64, nl int) bool {
		return hl >= b.cfg.MinChildWeight && hs-hl >= b.cfg.MinChildWeight &&
			nl >= b.cfg.MinSamplesLeaf && n-nl >= b.cfg.MinSamplesLeaf
	}
	gain := func(gl, hl float64) float64 {
		gr, hr := gs-gl, hs-hl
		return 0.5 * (gl*gl/(hl+lambda) + gr*gr/(hr+lambda) - parent)
	}
	best := split{feature: -1}
	if b.categorical[j] {
		// Order categories (missing is one of them) by mean gradient and
		// scan prefixes: optimal for a second-order binary partition. The
		// smoothing term keeps rare categories near the middle.
		order := make([]int, 0, nb)
		for c := range nb {
			if hn[c] > 0 {
				order = append(order, c)
			}
		}
		const smooth = 10
		slices.SortStableFunc(order, func(a, c int) int {
			ra, rc := hg[a]/(hh[a]+smooth), hg[c]/(hh[c]+smooth)
			switch {
			case ra < rc:
				return -1
			case ra > rc:
				return 1
			}
			return 0
		})
		var gl, hl float64
		var nl int
		var set [4]uint64
		for p := 0; p+1 < len(order); p++ {
			c := order[p]
			gl, hl, nl = gl+hg[c], hl+hh[c], nl+hn[c]
			set[c>>6] |= 1 << (c & 63)
			if !ok(hl, nl) {
				continue
			}
			if gn := gain(gl, hl); gn > best.gain {
				best = split{gain: gn, feature: j, cats: set}
			}
		}
		return best, best.feature >= 0 && best.gain > 1e-12
	}
	gm, hm, nm := hg[0], hh[0], hn[0]
	var gl, hl float64
	var nl int
	for th := 1; th < nb-1; th++ {
		gl, hl, nl = gl+hg[th], hl+hh[th], nl+hn[th]
		if nl == 0 {
			continue
		}
		// Missing values go right...
		if ok(hl, nl) {
			if gn := gain(gl, hl); gn > best.gain {
				best = split{gain: gn, feature: j, threshold: uint8(th)}
			}
		}
		// ...or left.
		if nm > 0 && ok(hl+hm, nl+nm) {
			if gn := gain(gl+gm, hl+hm); gn > best.gain {
				best = split{gain: gn, feature: j, threshold: uint8(th), missLeft: true}
			}
		}
	}
	return best, best.feature >= 0 && best.gain > 1e-12
}
