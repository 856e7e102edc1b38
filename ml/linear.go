package ml

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"

	"golang.org/x/sync/errgroup"
)

// Linear is a fitted multiclass linear model: score_k(x) = w_k·x + b_k.
// It is immutable and safe for concurrent use.
type Linear struct {
	classes []string
	dim     int
	// w is feature-major: w[f*K+k] is class k's weight on feature f, so a
	// sparse row touches contiguous memory.
	w    []float32
	bias []float64
	// softmax is true for logistic regression (scores are log-odds).
	softmax bool
}

// Classes returns the class labels in index order (sorted).
func (m *Linear) Classes() []string { return slices.Clone(m.classes) }

// Scores returns the per-class decision values of one row.
func (m *Linear) Scores(x Sparse) []float64 {
	k := len(m.classes)
	s := slices.Clone(m.bias)
	for j, f := range x.Idx {
		if int(f) >= m.dim {
			continue
		}
		v := x.Val[j]
		row := m.w[int(f)*k : int(f)*k+k]
		for c, w := range row {
			s[c] += float64(w) * v
		}
	}
	return s
}

// Proba returns class probabilities: a softmax of the scores for logistic
// regression; for the SVM, a softmax of the margins (a ranking aid, not
// calibrated).
func (m *Linear) Proba(x Sparse) []float64 { return softmax(m.Scores(x)) }

// Predict returns the best class of each row.
func (m *Linear) Predict(x *Matrix) []string {
	out := make([]string, x.Rows())
	for i := range out {
		out[i] = m.classes[argmax(m.Scores(x.row(i)))]
	}
	return out
}

func softmax(s []float64) []float64 {
	out := make([]float64, len(s))
	mx := s[argmax(s)]
	var z float64
	for i, v := range s {
		out[i] = math.Exp(v - mx)
		z += out[i]
	}
	for i := range out {
		out[i] /= z
	}
	return out
}

// SVMConfig configures a linear SVM. Zero values take the defaults.
type SVMConfig struct {
	// C is the inverse regularisation strength (default 1).
	C float64
	// MaxIter caps passes over the data per class (default 1000).
	MaxIter int
	// Tol is the stopping tolerance on the projected gradient (default 0.1,
	// liblinear's).
	Tol  float64
	Seed int64
}

// FitSVM trains a one-vs-rest linear SVM with squared hinge loss and an L2
// penalty by dual coordinate descent with shrinking (Hsieh et al. 2008; the
// solver behind liblinear and scikit-learn's LinearSVC). The intercept is a
// constant feature of value 1, penalised like the weights, as in LinearSVC.
// Classes train in parallel, each with its own seeded shuffle, so the result
// does not depend on scheduling.
func FitSVM(ctx context.Context, x *Matrix, y []string, cfg SVMConfig) (*Linear, error) {
	if err := checkRows(x, len(y)); err != nil {
		return nil, fmt.Errorf("svm: %w", err)
	}
	if cfg.C == 0 {
		cfg.C = 1
	}
	if cfg.C < 0 {
		return nil, fmt.Errorf("svm: C %g must be positive", cfg.C)
	}
	if cfg.MaxIter <= 0 {
		cfg.MaxIter = 1000
	}
	if cfg.Tol <= 0 {
		cfg.Tol = 0.1
	}
	classes, codes, err := encodeLabels(y)
	if err != nil {
		return nil, fmt.Errorf("svm: %w", err)
	}
	rows := x.sparseRows()
	k := len(classes)
	m := &Linear{classes: classes, dim: x.Dim, w: make([]float32, x.Dim*k), bias: make([]float64, k)}
	qd := make([]float64, len(rows))
	diag := 1 / (2 * cfg.C)
	for i, r := range rows {
		n := r.Norm()
		qd[i] = n*n + 1 + diag // +1 for the bias feature
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for c := range k {
		g.Go(func() error {
			w, b, err := svmDualCD(gctx, rows, codes, c, x.Dim, qd, diag, cfg, cfg.Seed+int64(c)*7919)
			if err != nil {
				return err
			}
			for f, v := range w {
				m.w[f*k+c] = float32(v)
			}
			m.bias[c] = b
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("svm: %w", err)
	}
	return m, nil
}

// svmDualCD solves one binary problem (class c against the rest).
func svmDualCD(ctx context.Context, rows []Sparse, codes []int, c, dim int, qd []float64, diag float64, cfg SVMConfig, seed int64) ([]float64, float64, error) {
	n := len(rows)
	w := make([]float64, dim)
	var b float64
	alpha := make([]float64, n)
	ys := make([]float64, n)
	for i, code := range codes {
		ys[i] = -1
		if code == c {
			ys[i] = 1
		}
	}
	index := make([]int, n)
	for i := range index {
		index[i] = i
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	active := n
	pgMaxOld, pgMinOld := math.Inf(1), math.Inf(-1)
	for iter := 0; iter < cfg.MaxIter; iter++ {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		rng.Shuffle(active, func(i, j int) { index[i], index[j] = index[j], index[i] })
		pgMax, pgMin := math.Inf(-1), math.Inf(1)
		for s := 0; s < active; s++ {
			i := index[s]
			r := rows[i]
			dot := b
			for j, f := range r.Idx {
				dot += w[f] * r.Val[j]
			}
			grad := ys[i]*dot - 1 + diag*alpha[i]
			pg := grad
			if alpha[i] == 0 {
				if grad > pgMaxOld { // shrink: this bound is very likely final
					active--
					index[s], index[active] = index[active], index[s]
					s--
					continue
				}
				if grad > 0 {
					pg = 0
				}
			}
			pgMax, pgMin = max(pgMax, pg), min(pgMin, pg)
			if math.Abs(pg) > 1e-12 {
				old := alpha[i]
				alpha[i] = max(old-grad/qd[i], 0)
				d := (alpha[i] - old) * ys[i]
				for j, f := range r.Idx {
					w[f] += d * r.Val[j]
				}
				b += d
			}
		}
		if pgMax-pgMin <= cfg.Tol {
			if active == n {
				break
			}
			active = n // check the shrunk rows once more before stopping
			pgMaxOld, pgMinOld = math.Inf(1), math.Inf(-1)
			continue
		}
		pgMaxOld, pgMinOld = pgMax, pgMin
		if pgMaxOld <= 0 {
			pgMaxOld = math.Inf(1)
		}
		if pgMinOld >= 0 {
			pgMinOld = math.Inf(-1)
		}
	}
	return w, b, nil
}

// LogRegConfig configures multinomial logistic regression.
type LogRegConfig struct {
	// C is the inverse regularisation strength (default 1); the L2 penalty
	// per sample is 1/(C·n).
	C float64
	// Epochs is the number of SGD passes (default 15).
	Epochs int
	// LearningRate is the initial step (default 0.5); it decays as
	// lr/(1+lr·λ·t) toward the regularised optimum.
	LearningRate float64
	Seed         int64
}

// FitLogReg trains multinomial (softmax) logistic regression with L2
// penalty by seeded stochastic gradient descent. The weight decay uses a
// global scale factor so each step costs only the row's non-zeros.
func FitLogReg(ctx context.Context, x *Matrix, y []string, cfg LogRegConfig) (*Linear, error) {
	if err := checkRows(x, len(y)); err != nil {
		return nil, fmt.Errorf("logistic regression: %w", err)
	}
	if cfg.C == 0 {
		cfg.C = 1
	}
	if cfg.C < 0 {
		return nil, fmt.Errorf("logistic regression: C %g must be positive", cfg.C)
	}
	if cfg.Epochs <= 0 {
		cfg.Epochs = 15
	}
	if cfg.LearningRate <= 0 {
		cfg.LearningRate = 0.5
	}
	classes, codes, err := encodeLabels(y)
	if err != nil {
		return nil, fmt.Errorf("logistic regression: %w", err)
	}
	rows := x.sparseRows()
	k, n := len(classes), len(rows)
	lambda := 1 / (cfg.C * float64(n))
	v := make([]float64, x.Dim*k) // true weights are scale*v
	scale := 1.0
	bias := make([]float64, k)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x2545f4914f6cdd1d))
	scores := make([]float64, k)
	t := 0.0
	for ep := 0; ep < cfg.Epochs; ep++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("logistic regression: %w", err)
		}
		rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			lr := cfg.LearningRate / (1 + cfg.LearningRate*lambda*t)
			t++
			r := rows[i]
			copy(scores, bias)
			for j, f := range r.Idx {
				xv := r.Val[j] * scale
				row := v[int(f)*k : int(f)*k+k]
				for c, w := range row {
					scores[c] += w * xv
				}
			}
			p := softmax(scores)
			p[codes[i]] -= 1 // gradient of the loss w.r.t. the scores
			scale *= 1 - lr*lambda
			step := lr / scale
			for j, f := range r.Idx {
				xv := r.Val[j] * step
				row := v[int(f)*k : int(f)*k+k]
				for c := range row {
					row[c] -= p[c] * xv
				}
			}
			for c := range bias {
				bias[c] -= lr * p[c]
			}
			if scale < 1e-6 { // fold the scale in before it underflows
				for j := range v {
					v[j] *= scale
				}
				scale = 1
			}
		}
	}
	m := &Linear{classes: classes, dim: x.Dim, w: make([]float32, len(v)), bias: bias, softmax: true}
	for j, w := range v {
		m.w[j] = float32(w * scale)
	}
	return m, nil
}
