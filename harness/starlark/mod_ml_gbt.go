package starlark

import (
	"fmt"
	"strconv"

	sl "go.starlark.net/starlark"

	"github.com/sia-agent/sia/ml"
)

// The ml module's gradient-boosted trees over tables (ml.gbt,
// ml.gbt_regressor).

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
