package starlark

import (
	"fmt"

	sl "go.starlark.net/starlark"

	"github.com/sia-agent/sia/ml"
)

// The ml module's evaluation helpers: splits, folds, accuracy and
// cross-validation.

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
