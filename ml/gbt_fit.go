package ml

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Fitting a GBT: the boosting loop, the loss it boosts and the tree
// builder.

// fitGBT runs the boosting loop. Exactly one of codes (classification) and
// target (regression) is set.
func fitGBT(ctx context.Context, t *Table, cfg GBTConfig, classes []string, codes []int, target []float64) (*GBT, error) {
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	m, rows, cols, err := newGBT(t, cfg, classes)
	if err != nil {
		return nil, err
	}
	obj := newObjective(classes, codes, target)
	n, nf := len(rows), len(t.Names)
	m.base = obj.base(n)
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
		sample := subsample(rng, all, cfg.Subsample)
		features := colsample(rng, nf, cfg.ColSample)
		var probs [][]float64
		if obj.nout > 1 {
			probs = make([][]float64, n)
			for i := range f {
				probs[i] = softmax(f[i])
			}
		}
		trees := make([]tree, obj.nout)
		for k := range obj.nout {
			for _, i := range sample {
				var p []float64
				if probs != nil {
					p = probs[i]
				}
				g[i], h[i] = obj.gradient(int(i), k, f[i], p)
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

// newGBT is an untrained model of t's columns: which are categorical, their
// bins, and t's rows binned (row-major, and column-major for histogram
// passes, which are then cache friendly).
func newGBT(t *Table, cfg GBTConfig, classes []string) (m *GBT, rows, cols [][]uint8, err error) {
	forced := map[string]bool{}
	for _, c := range cfg.Categorical {
		if !slices.Contains(t.Names, c) {
			return nil, nil, nil, fmt.Errorf("categorical column %q is not a column (columns: %v)", c, t.Names)
		}
		forced[c] = true
	}
	nf := len(t.Names)
	m = &GBT{names: slices.Clone(t.Names), categorical: t.InferCategorical(forced), classes: classes, importance: make([]float64, nf)}
	m.binners = make([]*binner, nf)
	for j := range nf {
		m.binners[j] = fitBinner(t.Rows, j, m.categorical[j], cfg.MaxBins)
	}
	if rows, err = m.binRows(t); err != nil {
		return nil, nil, nil, err
	}
	cols = make([][]uint8, nf)
	for j := range cols {
		cols[j] = make([]uint8, len(rows))
		for i, r := range rows {
			cols[j][i] = r[j]
		}
	}
	return m, rows, cols, nil
}

// subsample draws a round's rows (sorted) when frac < 1, else all of them.
func subsample(rng *rand.Rand, all []int32, frac float64) []int32 {
	if frac >= 1 {
		return all
	}
	n := len(all)
	perm := rng.Perm(n)
	k := max(1, int(frac*float64(n)))
	sample := make([]int32, k)
	for i := range k {
		sample[i] = int32(perm[i])
	}
	slices.Sort(sample)
	return sample
}

// colsample draws a round's features (sorted) when frac < 1, else all nf.
func colsample(rng *rand.Rand, nf int, frac float64) []int {
	features := make([]int, 0, nf)
	for j := range nf {
		features = append(features, j)
	}
	if frac < 1 {
		rng.Shuffle(nf, func(a, c int) { features[a], features[c] = features[c], features[a] })
		features = features[:max(1, int(math.Round(frac*float64(nf))))]
		slices.Sort(features)
	}
	return features
}

// objective is the loss a GBT boosts: squared loss on target (regression),
// log loss on codes (two classes), or softmax loss (more).
type objective struct {
	classes []string
	codes   []int
	target  []float64
	nout    int // raw scores per row: 1, or one per class beyond two
}

func newObjective(classes []string, codes []int, target []float64) objective {
	o := objective{classes: classes, codes: codes, target: target, nout: 1}
	if classes != nil && len(classes) > 2 {
		o.nout = len(classes)
	}
	return o
}

// base is the constant raw score boosting starts from: the target's mean,
// class 1's log odds, or each class's log share, over n rows.
func (o objective) base(n int) []float64 {
	base := make([]float64, o.nout)
	switch {
	case o.classes == nil:
		var s float64
		for _, v := range o.target {
			s += v
		}
		base[0] = s / float64(n)
	case o.nout == 1:
		var pos float64
		for _, c := range o.codes {
			if c == 1 {
				pos++
			}
		}
		p := min(max(pos/float64(n), 1e-6), 1-1e-6)
		base[0] = math.Log(p / (1 - p))
	default:
		cnt := make([]float64, o.nout)
		for _, c := range o.codes {
			cnt[c]++
		}
		for k := range cnt {
			base[k] = math.Log(max(cnt[k], 1) / float64(n))
		}
	}
	return base
}

// gradient is the loss's first and second derivative for output k at row
// i's raw scores f (probs: their softmax, for more than two classes).
func (o objective) gradient(i, k int, f, probs []float64) (g, h float64) {
	var p float64
	switch {
	case o.classes == nil:
		return f[0] - o.target[i], 1
	case o.nout == 1:
		p = sigmoid(f[0])
		k = 1
	default:
		p = probs[k]
	}
	y := 0.0
	if o.codes[i] == k {
		y = 1
	}
	return p - y, max(p*(1-p), 1e-12)
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
