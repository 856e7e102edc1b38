package starlark

import (
	"context"
	"fmt"
	"math"

	sl "go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/sia-agent/sia/ml"
)

func mlModule(*moduleEnv) (sl.Value, error) {
	return &starlarkstruct.Module{Name: "ml", Members: sl.StringDict{
		"tfidf":               sl.NewBuiltin("ml.tfidf", mlTFIDF),
		"matrix":              sl.NewBuiltin("ml.matrix", mlMatrix),
		"linear_svm":          sl.NewBuiltin("ml.linear_svm", mlLinearSVM),
		"logistic_regression": sl.NewBuiltin("ml.logistic_regression", mlLogReg),
		"knn":                 sl.NewBuiltin("ml.knn", mlKNN),
		"text_classifier":     sl.NewBuiltin("ml.text_classifier", mlTextClassifier),
		"gbt":                 sl.NewBuiltin("ml.gbt", mlGBT),
		"gbt_regressor":       sl.NewBuiltin("ml.gbt_regressor", mlGBT),
		"train_val_split":     sl.NewBuiltin("ml.train_val_split", mlTrainValSplit),
		"kfold":               sl.NewBuiltin("ml.kfold", mlKFold),
		"accuracy":            sl.NewBuiltin("ml.accuracy", mlAccuracy),
		"cross_val_score":     sl.NewBuiltin("ml.cross_val_score", mlCrossValScore),
	}}, nil
}

// --- vectors and matrices ---

// textsOrOne reads a list of strings, or one string (single reports which).
func textsOrOne(name string, v sl.Value) (texts []string, single bool, err error) {
	if s, ok := v.(sl.String); ok {
		return []string{string(s)}, true, nil
	}
	texts, err = stringList(name, v)
	return texts, false, err
}

func mlTFIDF(thread *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var texts sl.Value
	analyzer := "word"
	var ngram sl.Value = sl.MakeInt(1)
	minDF, maxFeatures := 1, 0
	maxDF := 1.0
	sublinear, lowercase := false, true
	if err := sl.UnpackArgs(b.Name(), args, kwargs, "texts", &texts, "analyzer?", &analyzer, "ngram?", &ngram,
		"min_df?", &minDF, "max_df?", (*floatNum)(&maxDF), "max_features?", &maxFeatures, "sublinear_tf?", &sublinear,
		"lowercase?", &lowercase); err != nil {
		return nil, err
	}
	docs, err := stringList("texts", texts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	lo, hi, err := intRange(b.Name(), "ngram", ngram)
	if err != nil {
		return nil, err
	}
	v, err := ml.FitTFIDF(stateOf(thread).ctx, docs, ml.TFIDFConfig{Analyzer: analyzer, NGramLo: lo, NGramHi: hi,
		MinDF: minDF, MaxDF: maxDF, MaxFeatures: maxFeatures, SublinearTF: sublinear, KeepCase: !lowercase})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return vectorizerObject(v), nil
}

func vectorizerObject(v *ml.Vectorizer) *object {
	return &object{typ: "vectorizer", inner: v, attrs: sl.StringDict{
		"vocab_size": sl.MakeInt(v.Dim()),
		"transform": method("vectorizer", "transform", func(thread *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
			var texts sl.Value
			if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &texts); err != nil {
				return nil, err
			}
			docs, _, err := textsOrOne("texts", texts)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
			m, err := v.Transform(stateOf(thread).ctx, docs)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
			return matrixObject(m), nil
		}),
	}}
}

func matrixObject(m *ml.Matrix) *object {
	return &object{typ: "matrix", inner: m, attrs: sl.StringDict{
		"rows": sl.MakeInt(m.Rows()),
		"dim":  sl.MakeInt(m.Dim),
		"take": method("matrix", "take", func(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
			var idx sl.Value
			if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &idx); err != nil {
				return nil, err
			}
			ix, err := indexList(b.Name(), idx, m.Rows())
			if err != nil {
				return nil, err
			}
			return matrixObject(m.Subset(ix)), nil
		}),
	}}
}

func indexList(fn string, v sl.Value, n int) ([]int, error) {
	fs, err := floatList("indices", v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	out := make([]int, len(fs))
	for i, f := range fs {
		j := int(f)
		if float64(j) != f || j < 0 || j >= n {
			return nil, fmt.Errorf("%s: index %v out of range [0, %d)", fn, f, n)
		}
		out[i] = j
	}
	return out, nil
}

// denseMatrix reads a list of rows of numbers (None = missing).
func denseMatrix(name string, v sl.Value) (*ml.Matrix, error) {
	rows, ok := v.(sl.Indexable)
	if !ok || isStringValue(v) {
		return nil, fmt.Errorf("%s: want a matrix (from vectorizer.transform or ml.matrix) or a list of rows of numbers, got %s", name, v.Type())
	}
	m := &ml.Matrix{Dense: make([][]float64, rows.Len())}
	for i := range rows.Len() {
		r, ok := rows.Index(i).(sl.Indexable)
		if !ok || isStringValue(rows.Index(i)) {
			return nil, fmt.Errorf("%s[%d]: want a list of numbers, got %s", name, i, rows.Index(i).Type())
		}
		if i == 0 {
			m.Dim = r.Len()
		} else if r.Len() != m.Dim {
			return nil, fmt.Errorf("%s[%d] has %d values, row 0 has %d", name, i, r.Len(), m.Dim)
		}
		row := make([]float64, r.Len())
		for j := range r.Len() {
			e := r.Index(j)
			if e == sl.None {
				row[j] = math.NaN()
				continue
			}
			f, ok := sl.AsFloat(e)
			if !ok {
				return nil, fmt.Errorf("%s[%d][%d]: want a number or None, got %s", name, i, j, e.Type())
			}
			row[j] = f
		}
		m.Dense[i] = row
	}
	return m, nil
}

// matrixArg accepts a matrix object or a list of numeric rows.
func matrixArg(name string, v sl.Value) (*ml.Matrix, error) {
	if o, ok := v.(*object); ok {
		if m, ok := o.inner.(*ml.Matrix); ok {
			return m, nil
		}
		return nil, fmt.Errorf("%s: want a matrix, got %s", name, o.typ)
	}
	return denseMatrix(name, v)
}

func mlMatrix(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var rows sl.Value
	if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &rows); err != nil {
		return nil, err
	}
	m, err := denseMatrix("rows", rows)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return matrixObject(m), nil
}

// --- classifiers over matrices ---

// rowClassifier is what linear models and k-NN share.
type rowClassifier interface {
	Classes() []string
	Predict(x *ml.Matrix) []string
}

func probaList(p []float64) sl.Value { return floatsToList(p) }

// probaFunc is a fitted classifier's class probabilities for row i of x.
type probaFunc func(x *ml.Matrix, i int) []float64

// inputFunc reads what a classifier's predict methods are given as a
// matrix; single says a one-item input wants a one-item answer.
type inputFunc func(thread *sl.Thread, fn string, v sl.Value) (x *ml.Matrix, single bool, err error)

// matrixInput reads a matrix object or a list of rows.
func matrixInput(_ *sl.Thread, fn string, v sl.Value) (*ml.Matrix, bool, error) {
	x, err := matrixArg("X", v)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", fn, err)
	}
	return x, false, nil
}

// classifierMethods are the predict and predict_proba methods every
// classifier object has: input reads their argument, probaValue renders
// one row's probabilities.
func classifierMethods(typ string, c rowClassifier, proba probaFunc, input inputFunc, probaValue func([]float64) sl.Value) sl.StringDict {
	return sl.StringDict{
		"classes": stringsToList(c.Classes()),
		"predict": method(typ, "predict", func(thread *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
			var xv sl.Value
			if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &xv); err != nil {
				return nil, err
			}
			x, single, err := input(thread, b.Name(), xv)
			if err != nil {
				return nil, err
			}
			pred := c.Predict(x)
			if single {
				return sl.String(pred[0]), nil
			}
			return stringsToList(pred), nil
		}),
		"predict_proba": method(typ, "predict_proba", func(thread *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
			var xv sl.Value
			if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &xv); err != nil {
				return nil, err
			}
			x, single, err := input(thread, b.Name(), xv)
			if err != nil {
				return nil, err
			}
			out := make([]sl.Value, x.Rows())
			for i := range out {
				out[i] = probaValue(proba(x, i))
			}
			if single {
				return out[0], nil
			}
			return sl.NewList(out), nil
		}),
	}
}

// classifierObject is a classifier over matrices (linear_svm,
// logistic_regression, knn): predict and predict_proba take a matrix, and
// k-NN adds neighbors.
func classifierObject(typ string, c rowClassifier, proba probaFunc) *object {
	attrs := classifierMethods(typ, c, proba, matrixInput, probaList)
	if k, ok := c.(*ml.KNN); ok {
		attrs["neighbors"] = method(typ, "neighbors", func(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
			var xv sl.Value
			n := 5
			if err := sl.UnpackArgs(b.Name(), args, kwargs, "X", &xv, "k?", &n); err != nil {
				return nil, err
			}
			x, err := matrixArg("X", xv)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
			out := make([]sl.Value, x.Rows())
			for i := range out {
				nbs := k.Neighbors(x, i, n)
				row := make([]sl.Value, len(nbs))
				for j, nb := range nbs {
					row[j] = sl.Tuple{sl.MakeInt(nb.Index), sl.Float(nb.Score)}
				}
				out[i] = sl.NewList(row)
			}
			return sl.NewList(out), nil
		})
	}
	return &object{typ: typ, inner: c, attrs: attrs}
}

func trainXY(fn string, xv, yv sl.Value) (*ml.Matrix, []string, error) {
	x, err := matrixArg("X", xv)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", fn, err)
	}
	y, err := labelList("y", yv)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", fn, err)
	}
	return x, y, nil
}

func mlLinearSVM(thread *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var xv, yv sl.Value
	c, tol := 1.0, 0.1
	maxIter, seed := 1000, 0
	if err := sl.UnpackArgs(b.Name(), args, kwargs, "X", &xv, "y", &yv, "C?", (*floatNum)(&c), "max_iter?", &maxIter, "tol?", (*floatNum)(&tol), "seed?", &seed); err != nil {
		return nil, err
	}
	x, y, err := trainXY(b.Name(), xv, yv)
	if err != nil {
		return nil, err
	}
	m, err := ml.FitSVM(stateOf(thread).ctx, x, y, ml.SVMConfig{C: c, MaxIter: maxIter, Tol: tol, Seed: int64(seed)})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return classifierObject("linear_svm", m, func(x *ml.Matrix, i int) []float64 { return m.Proba(rowOf(x, i)) }), nil
}

func rowOf(x *ml.Matrix, i int) ml.Sparse { return x.SparseRow(i) }

func mlLogReg(thread *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var xv, yv sl.Value
	c, lr := 1.0, 0.5
	epochs, seed := 15, 0
	if err := sl.UnpackArgs(b.Name(), args, kwargs, "X", &xv, "y", &yv, "C?", (*floatNum)(&c), "epochs?", &epochs, "learning_rate?", (*floatNum)(&lr), "seed?", &seed); err != nil {
		return nil, err
	}
	x, y, err := trainXY(b.Name(), xv, yv)
	if err != nil {
		return nil, err
	}
	m, err := ml.FitLogReg(stateOf(thread).ctx, x, y, ml.LogRegConfig{C: c, Epochs: epochs, LearningRate: lr, Seed: int64(seed)})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return classifierObject("logistic_regression", m, func(x *ml.Matrix, i int) []float64 { return m.Proba(rowOf(x, i)) }), nil
}

func mlKNN(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var xv, yv sl.Value
	k := 5
	metric := ""
	weighted := false
	if err := sl.UnpackArgs(b.Name(), args, kwargs, "X", &xv, "y", &yv, "k?", &k, "metric?", &metric, "weighted?", &weighted); err != nil {
		return nil, err
	}
	x, y, err := trainXY(b.Name(), xv, yv)
	if err != nil {
		return nil, err
	}
	m, err := ml.FitKNN(x, y, ml.KNNConfig{K: k, Metric: metric, Distance: weighted})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return classifierObject("knn", m, m.Proba), nil
}

// --- the text pipeline ---

// mlTextClassifier fits a TF-IDF vectorizer and a classifier on texts: a
// classifier object whose predict methods take texts (or one text) and
// whose predict_proba gives {class: p}.
func mlTextClassifier(thread *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var textsV, labelsV sl.Value
	model, analyzer := "svm", "char"
	var ngram sl.Value = sl.Tuple{sl.MakeInt(1), sl.MakeInt(2)}
	minDF, maxFeatures, k, seed := 1, 0, 5, 0
	sublinear := true
	c := 1.0
	if err := sl.UnpackArgs(b.Name(), args, kwargs, "texts", &textsV, "labels", &labelsV, "model?", &model,
		"analyzer?", &analyzer, "ngram?", &ngram, "min_df?", &minDF, "max_features?", &maxFeatures,
		"sublinear_tf?", &sublinear, "C?", (*floatNum)(&c), "k?", &k, "seed?", &seed); err != nil {
		return nil, err
	}
	texts, err := stringList("texts", textsV)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	labels, err := labelList("labels", labelsV)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	lo, hi, err := intRange(b.Name(), "ngram", ngram)
	if err != nil {
		return nil, err
	}
	ctx := stateOf(thread).ctx
	vec, err := ml.FitTFIDF(ctx, texts, ml.TFIDFConfig{Analyzer: analyzer, NGramLo: lo, NGramHi: hi, MinDF: minDF, MaxFeatures: maxFeatures, SublinearTF: sublinear})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	x, err := vec.Transform(ctx, texts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	clf, proba, err := fitTextModel(ctx, model, x, labels, c, k, seed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	textsInput := func(thread *sl.Thread, fn string, v sl.Value) (*ml.Matrix, bool, error) {
		docs, single, err := textsOrOne("texts", v)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", fn, err)
		}
		m, err := vec.Transform(stateOf(thread).ctx, docs)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", fn, err)
		}
		return m, single, nil
	}
	classes := clf.Classes()
	byClass := func(p []float64) sl.Value {
		d := sl.NewDict(len(classes))
		for j, pj := range p {
			_ = d.SetKey(sl.String(classes[j]), sl.Float(pj))
		}
		return d
	}
	const typ = "text_classifier"
	attrs := classifierMethods(typ, clf, proba, textsInput, byClass)
	attrs["vocab_size"] = sl.MakeInt(vec.Dim())
	return &object{typ: typ, inner: clf, attrs: attrs}, nil
}

// fitTextModel fits text_classifier's model (svm, logistic_regression or
// knn) on TF-IDF rows.
func fitTextModel(ctx context.Context, model string, x *ml.Matrix, labels []string, c float64, k, seed int) (rowClassifier, probaFunc, error) {
	switch model {
	case "svm":
		m, err := ml.FitSVM(ctx, x, labels, ml.SVMConfig{C: c, Seed: int64(seed)})
		if err != nil {
			return nil, nil, err
		}
		return m, func(x *ml.Matrix, i int) []float64 { return m.Proba(rowOf(x, i)) }, nil
	case "logistic_regression":
		m, err := ml.FitLogReg(ctx, x, labels, ml.LogRegConfig{C: c, Seed: int64(seed)})
		if err != nil {
			return nil, nil, err
		}
		return m, func(x *ml.Matrix, i int) []float64 { return m.Proba(rowOf(x, i)) }, nil
	case "knn":
		m, err := ml.FitKNN(x, labels, ml.KNNConfig{K: k})
		if err != nil {
			return nil, nil, err
		}
		return m, m.Proba, nil
	}
	return nil, nil, fmt.Errorf("model %q: want svm, logistic_regression or knn", model)
}
