package starlark

import (
	"fmt"
	"math"
	"strconv"

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

func probaList(p []float64) *sl.List { return floatsToList(p) }

func classifierObject(typ string, c rowClassifier, proba func(x *ml.Matrix, i int) []float64) *object {
	attrs := sl.StringDict{
		"classes": stringsToList(c.Classes()),
		"predict": method(typ, "predict", func(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
			var xv sl.Value
			if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &xv); err != nil {
				return nil, err
			}
			x, err := matrixArg("X", xv)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
			return stringsToList(c.Predict(x)), nil
		}),
		"predict_proba": method(typ, "predict_proba", func(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
			var xv sl.Value
			if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &xv); err != nil {
				return nil, err
			}
			x, err := matrixArg("X", xv)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
			out := make([]sl.Value, x.Rows())
			for i := range out {
				out[i] = probaList(proba(x, i))
			}
			return sl.NewList(out), nil
		}),
	}
	o := &object{typ: typ, inner: c, attrs: attrs}
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
	return o
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
	var clf rowClassifier
	var proba func(*ml.Matrix, int) []float64
	switch model {
	case "svm":
		m, err := ml.FitSVM(ctx, x, labels, ml.SVMConfig{C: c, Seed: int64(seed)})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		clf, proba = m, func(x *ml.Matrix, i int) []float64 { return m.Proba(rowOf(x, i)) }
	case "logistic_regression":
		m, err := ml.FitLogReg(ctx, x, labels, ml.LogRegConfig{C: c, Seed: int64(seed)})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		clf, proba = m, func(x *ml.Matrix, i int) []float64 { return m.Proba(rowOf(x, i)) }
	case "knn":
		m, err := ml.FitKNN(x, labels, ml.KNNConfig{K: k})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		clf, proba = m, m.Proba
	default:
		return nil, fmt.Errorf("%s: model %q: want svm, logistic_regression or knn", b.Name(), model)
	}
	classes := clf.Classes()
	vecOf := func(thread *sl.Thread, fn string, v sl.Value) (*ml.Matrix, bool, error) {
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
	const typ = "text_classifier"
	return &object{typ: typ, inner: clf, attrs: sl.StringDict{
		"classes":    stringsToList(classes),
		"vocab_size": sl.MakeInt(vec.Dim()),
		"predict": method(typ, "predict", func(thread *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
			var tv sl.Value
			if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &tv); err != nil {
				return nil, err
			}
			m, single, err := vecOf(thread, b.Name(), tv)
			if err != nil {
				return nil, err
			}
			pred := clf.Predict(m)
			if single {
				return sl.String(pred[0]), nil
			}
			return stringsToList(pred), nil
		}),
		"predict_proba": method(typ, "predict_proba", func(thread *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
			var tv sl.Value
			if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &tv); err != nil {
				return nil, err
			}
			m, single, err := vecOf(thread, b.Name(), tv)
			if err != nil {
				return nil, err
			}
			out := make([]sl.Value, m.Rows())
			for i := range out {
				d := sl.NewDict(len(classes))
				for j, p := range proba(m, i) {
					_ = d.SetKey(sl.String(classes[j]), sl.Float(p))
				}
				out[i] = d
			}
			if single {
				return out[0], nil
			}
			return sl.NewList(out), nil
		}),
	}}, nil
}

// --- gradient-boosted trees over tables ---

// cellValue converts one table cell.
func cellValue(v sl.Value) (any, error) {
	switch x := v.(type) {
	case sl.NoneType:
		return nil, nil
	case sl.String:
		return string(x), nil
	case sl.Bool:
		return bool(x), nil
	case sl.Int:
		i, ok := x.Int64()
		if !ok {
			return float64(x.Float()), nil
		}
		return i, nil
	case sl.Float:
		return float64(x), nil
	}
	return nil, fmt.Errorf("cell must be a string, number, bool or None, got %s", v.Type())
}

// tableArg reads rows: a list of dicts (columns default to the first row's
// keys except "id" and "label") or a list of lists (columns "0", "1", ...).
// One dict alone is one row (single is then true).
func tableArg(name string, v sl.Value, columns []string) (t *ml.Table, single bool, err error) {
	var rows []sl.Value
	switch x := v.(type) {
	case *sl.Dict:
		rows, single = []sl.Value{x}, true
	case sl.Indexable:
		if isStringValue(v) {
			return nil, false, fmt.Errorf("%s: want a list of rows, got string", name)
		}
		if x.Len() > 0 {
			switch x.Index(0).(type) {
			case *sl.Dict, *sl.List, sl.Tuple:
			default: // a list of cells is one row
				rows, single = []sl.Value{x}, true
			}
		}
		if !single {
			for i := range x.Len() {
				rows = append(rows, x.Index(i))
			}
		}
	default:
		return nil, false, fmt.Errorf("%s: want a list of rows (dicts or lists), got %s", name, v.Type())
	}
	if len(rows) == 0 {
		return nil, false, fmt.Errorf("%s: no rows", name)
	}
	if columns == nil {
		switch r := rows[0].(type) {
		case *sl.Dict:
			for _, k := range r.Keys() {
				s, ok := sl.AsString(k)
				if !ok {
					return nil, false, fmt.Errorf("%s[0]: column names must be strings, got %s", name, k.Type())
				}
				if s != "id" && s != "label" {
					columns = append(columns, s)
				}
			}
		case sl.Indexable:
			for j := range r.Len() {
				columns = append(columns, strconv.Itoa(j))
			}
		}
	}
	t = &ml.Table{Names: columns, Rows: make([][]any, len(rows))}
	for i, r := range rows {
		cells := make([]any, len(columns))
		switch row := r.(type) {
		case *sl.Dict:
			for j, c := range columns {
				cv, found, err := row.Get(sl.String(c))
				if err != nil {
					return nil, false, err
				}
				if !found {
					continue // a missing key is a missing value
				}
				if cells[j], err = cellValue(cv); err != nil {
					return nil, false, fmt.Errorf("%s[%d][%q]: %w", name, i, c, err)
				}
			}
		case sl.Indexable:
			if isStringValue(r) || row.Len() != len(columns) {
				return nil, false, fmt.Errorf("%s[%d]: want %d cells (columns %v)", name, i, len(columns), columns)
			}
			for j := range row.Len() {
				var err error
				if cells[j], err = cellValue(row.Index(j)); err != nil {
					return nil, false, fmt.Errorf("%s[%d][%d]: %w", name, i, j, err)
				}
			}
		default:
			return nil, false, fmt.Errorf("%s[%d]: want a dict or a list, got %s", name, i, r.Type())
		}
		t.Rows[i] = cells
	}
	return t, single, nil
}

// mlGBT fits ml.gbt (classification) and ml.gbt_regressor.
func mlGBT(thread *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var rowsV, yv sl.Value
	var columnsV, categoricalV sl.Value = sl.None, sl.None
	cfg := ml.GBTConfig{NEstimators: 100, LearningRate: 0.1, MaxDepth: 4, Subsample: 1, ColSample: 1, MinChildWeight: 1, MinSamplesLeaf: 1, L2: 1, MaxBins: 255}
	seed := 0
	if err := sl.UnpackArgs(b.Name(), args, kwargs, "rows", &rowsV, "y", &yv, "columns?", &columnsV, "categorical?", &categoricalV,
		"n_estimators?", &cfg.NEstimators, "learning_rate?", (*floatNum)(&cfg.LearningRate), "max_depth?", &cfg.MaxDepth,
		"subsample?", (*floatNum)(&cfg.Subsample), "colsample?", (*floatNum)(&cfg.ColSample), "min_child_weight?", (*floatNum)(&cfg.MinChildWeight),
		"min_samples_leaf?", &cfg.MinSamplesLeaf, "l2?", (*floatNum)(&cfg.L2), "max_bins?", &cfg.MaxBins, "seed?", &seed); err != nil {
		return nil, err
	}
	cfg.Seed = int64(seed)
	if cfg.NEstimators < 1 || cfg.LearningRate <= 0 || cfg.MaxDepth < 1 || cfg.Subsample <= 0 || cfg.ColSample <= 0 || cfg.L2 < 0 || cfg.MaxBins < 2 {
		return nil, fmt.Errorf("%s: n_estimators, max_depth >= 1; learning_rate, subsample, colsample > 0; l2 >= 0; max_bins >= 2", b.Name())
	}
	var columns []string
	if columnsV != sl.None {
		var err error
		if columns, err = stringList("columns", columnsV); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
	}
	if categoricalV != sl.None {
		var err error
		if cfg.Categorical, err = stringList("categorical", categoricalV); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
	}
	t, _, err := tableArg("rows", rowsV, columns)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	ctx := stateOf(thread).ctx
	var m *ml.GBT
	if b.Name() == "ml.gbt_regressor" {
		y, err := floatList("y", yv)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		m, err = ml.FitGBTRegressor(ctx, t, y, cfg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
	} else {
		y, err := labelList("y", yv)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		m, err = ml.FitGBTClassifier(ctx, t, y, cfg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
	}
	return gbtObject(m), nil
}

func gbtObject(m *ml.GBT) *object {
	typ := "gbt"
	if m.Classes() == nil {
		typ = "gbt_regressor"
	}
	names := m.Names()
	imp := sl.NewDict(len(names))
	for _, n := range names {
		_ = imp.SetKey(sl.String(n), sl.Float(m.Importance()[n]))
	}
	imp.Freeze()
	attrs := sl.StringDict{
		"columns":    stringsToList(names),
		"importance": imp,
		"predict": method(typ, "predict", func(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
			var rv sl.Value
			if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &rv); err != nil {
				return nil, err
			}
			t, single, err := tableArg("rows", rv, names)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
			if m.Classes() == nil {
				vals, err := m.PredictValue(t)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", b.Name(), err)
				}
				if single {
					return sl.Float(vals[0]), nil
				}
				return floatsToList(vals), nil
			}
			pred, err := m.Predict(t)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
			if single {
				return sl.String(pred[0]), nil
			}
			return stringsToList(pred), nil
		}),
	}
	if m.Classes() != nil {
		attrs["classes"] = stringsToList(m.Classes())
		attrs["predict_proba"] = method(typ, "predict_proba", func(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
			var rv sl.Value
			if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &rv); err != nil {
				return nil, err
			}
			t, single, err := tableArg("rows", rv, names)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
			p, err := m.Proba(t)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
			if single {
				return probaList(p[0]), nil
			}
			out := make([]sl.Value, len(p))
			for i, pr := range p {
				out[i] = probaList(pr)
			}
			return sl.NewList(out), nil
		})
	}
	return &object{typ: typ, inner: m, attrs: attrs}
}

// --- evaluation helpers ---

func listValues(fn, name string, v sl.Value) ([]sl.Value, error) {
	x, ok := v.(sl.Indexable)
	if !ok || isStringValue(v) {
		return nil, fmt.Errorf("%s: %s must be a list, got %s", fn, name, v.Type())
	}
	out := make([]sl.Value, x.Len())
	for i := range out {
		out[i] = x.Index(i)
	}
	return out, nil
}

func takeValues(xs []sl.Value, idx []int) *sl.List {
	out := make([]sl.Value, len(idx))
	for i, j := range idx {
		out[i] = xs[j]
	}
	return sl.NewList(out)
}

func intsToList(xs []int) *sl.List {
	out := make([]sl.Value, len(xs))
	for i, x := range xs {
		out[i] = sl.MakeInt(x)
	}
	return sl.NewList(out)
}

func mlTrainValSplit(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var xsV sl.Value
	valFrac := 0.2
	seed := 0
	if err := sl.UnpackArgs(b.Name(), args, kwargs, "xs", &xsV, "val_frac?", (*floatNum)(&valFrac), "seed?", &seed); err != nil {
		return nil, err
	}
	xs, err := listValues(b.Name(), "xs", xsV)
	if err != nil {
		return nil, err
	}
	tr, va, err := ml.TrainValSplit(len(xs), valFrac, int64(seed))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return sl.Tuple{takeValues(xs, tr), takeValues(xs, va)}, nil
}

func mlKFold(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var n int
	k, seed := 5, 0
	if err := sl.UnpackArgs(b.Name(), args, kwargs, "n", &n, "k?", &k, "seed?", &seed); err != nil {
		return nil, err
	}
	folds, err := ml.KFold(n, k, int64(seed))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	out := make([]sl.Value, len(folds))
	for i, f := range folds {
		out[i] = sl.Tuple{intsToList(f.Train), intsToList(f.Val)}
	}
	return sl.NewList(out), nil
}

func mlAccuracy(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var predV, goldV sl.Value
	if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &predV, &goldV); err != nil {
		return nil, err
	}
	pred, err := labelList("pred", predV)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	gold, err := labelList("gold", goldV)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	acc, err := ml.Accuracy(pred, gold)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return sl.Float(acc), nil
}

// mlCrossValScore is cross_val_score(fit, xs, ys, k=5, seed=0): the mean
// accuracy of fit(train_xs, train_ys).predict(val_xs) over k folds.
func mlCrossValScore(thread *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var fit sl.Callable
	var xsV, ysV sl.Value
	k, seed := 5, 0
	if err := sl.UnpackArgs(b.Name(), args, kwargs, "fit", &fit, "xs", &xsV, "ys", &ysV, "k?", &k, "seed?", &seed); err != nil {
		return nil, err
	}
	var xm *ml.Matrix
	var xs []sl.Value
	if o, ok := xsV.(*object); ok {
		m, ok := o.inner.(*ml.Matrix)
		if !ok {
			return nil, fmt.Errorf("%s: xs must be a list or a matrix, got %s", b.Name(), o.typ)
		}
		xm = m
	} else {
		var err error
		if xs, err = listValues(b.Name(), "xs", xsV); err != nil {
			return nil, err
		}
	}
	ys, err := listValues(b.Name(), "ys", ysV)
	if err != nil {
		return nil, err
	}
	n := len(xs)
	if xm != nil {
		n = xm.Rows()
	}
	if n != len(ys) {
		return nil, fmt.Errorf("%s: %d xs but %d ys", b.Name(), n, len(ys))
	}
	folds, err := ml.KFold(n, k, int64(seed))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	var total float64
	for fi, f := range folds {
		if err := stateOf(thread).ctx.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		var trX, vaX sl.Value
		if xm != nil {
			trX, vaX = matrixObject(xm.Subset(f.Train)), matrixObject(xm.Subset(f.Val))
		} else {
			trX, vaX = takeValues(xs, f.Train), takeValues(xs, f.Val)
		}
		model, err := sl.Call(thread, fit, sl.Tuple{trX, takeValues(ys, f.Train)}, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: fold %d: fit: %w", b.Name(), fi, err)
		}
		predict, err := getAttr(model, "predict")
		if err != nil {
			return nil, fmt.Errorf("%s: fold %d: fit returned %s, which has no predict method", b.Name(), fi, model.Type())
		}
		predV, err := sl.Call(thread, predict, sl.Tuple{vaX}, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: fold %d: predict: %w", b.Name(), fi, err)
		}
		pred, err := labelList("predictions", predV)
		if err != nil {
			return nil, fmt.Errorf("%s: fold %d: %w", b.Name(), fi, err)
		}
		gold, err := labelList("ys", takeValues(ys, f.Val))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		acc, err := ml.Accuracy(pred, gold)
		if err != nil {
			return nil, fmt.Errorf("%s: fold %d: %w", b.Name(), fi, err)
		}
		total += acc
	}
	return sl.Float(total / float64(len(folds))), nil
}

func getAttr(v sl.Value, name string) (sl.Value, error) {
	ha, ok := v.(sl.HasAttrs)
	if !ok {
		return nil, fmt.Errorf("no attribute %s", name)
	}
	a, err := ha.Attr(name)
	if err != nil || a == nil {
		return nil, fmt.Errorf("no attribute %s", name)
	}
	return a, nil
}
