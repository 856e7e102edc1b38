package starlark

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	sl "go.starlark.net/starlark"
)

// toStarlark converts a JSON-compatible Go value (as task items hold) to a
// Starlark value. Maps become dicts with sorted keys, so iteration order is
// deterministic.
func toStarlark(v any) (sl.Value, error) {
	switch x := v.(type) {
	case nil:
		return sl.None, nil
	case sl.Value:
		return x, nil
	case string:
		return sl.String(x), nil
	case bool:
		return sl.Bool(x), nil
	case int:
		return sl.MakeInt(x), nil
	case int64:
		return sl.MakeInt64(x), nil
	case float64:
		return sl.Float(x), nil
	case float32:
		return sl.Float(x), nil
	case []string:
		out := make([]sl.Value, len(x))
		for i, s := range x {
			out[i] = sl.String(s)
		}
		return sl.NewList(out), nil
	case []any:
		out := make([]sl.Value, len(x))
		for i, e := range x {
			ev, err := toStarlark(e)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return sl.NewList(out), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		d := sl.NewDict(len(x))
		for _, k := range keys {
			ev, err := toStarlark(x[k])
			if err != nil {
				return nil, err
			}
			if err := d.SetKey(sl.String(k), ev); err != nil {
				return nil, err
			}
		}
		return d, nil
	}
	return nil, fmt.Errorf("cannot convert %T to a Starlark value", v)
}

// fromStarlark converts a Starlark value to plain Go: string, int64,
// float64, bool, nil, []any, map[string]any.
func fromStarlark(v sl.Value) (any, error) {
	switch x := v.(type) {
	case sl.NoneType:
		return nil, nil
	case sl.String:
		return string(x), nil
	case sl.Bool:
		return bool(x), nil
	case sl.Int:
		if i, ok := x.Int64(); ok {
			return i, nil
		}
		return nil, fmt.Errorf("int %s is too large", x)
	case sl.Float:
		return float64(x), nil
	case *sl.List:
		return iterToGo(x)
	case sl.Tuple:
		return iterToGo(x)
	case *sl.Dict:
		out := make(map[string]any, x.Len())
		for _, kv := range x.Items() {
			k, ok := sl.AsString(kv[0])
			if !ok {
				return nil, fmt.Errorf("dict key %s is not a string", kv[0])
			}
			ev, err := fromStarlark(kv[1])
			if err != nil {
				return nil, err
			}
			out[k] = ev
		}
		return out, nil
	}
	return nil, fmt.Errorf("cannot convert %s to a plain value", v.Type())
}

func iterToGo(x sl.Iterable) ([]any, error) {
	out := []any{}
	it := x.Iterate()
	defer it.Done()
	var e sl.Value
	for it.Next(&e) {
		ev, err := fromStarlark(e)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

// answerString turns solve's return value into the answer text.
func answerString(v sl.Value) (string, error) {
	switch x := v.(type) {
	case sl.String:
		return string(x), nil
	case sl.Bool:
		if x {
			return "True", nil
		}
		return "False", nil
	case sl.Int:
		return x.String(), nil
	case sl.Float:
		f := float64(x)
		if f == math.Trunc(f) && math.Abs(f) < 1e15 {
			return strconv.FormatFloat(f, 'f', 1, 64), nil // 3.0, as Python prints it
		}
		return strconv.FormatFloat(f, 'g', -1, 64), nil
	case sl.NoneType:
		return "", fmt.Errorf("solve returned None; return the answer as a string")
	}
	return "", fmt.Errorf("solve returned a %s; return a string, bool, int or float", v.Type())
}

// knobsEqual compares a knob setting from knobs.json (numbers as float64)
// with a declared candidate.
func knobsEqual(a, b any) bool {
	af, aNum := asFloat(a)
	bf, bNum := asFloat(b)
	if aNum || bNum {
		return aNum && bNum && af == bf
	}
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !knobsEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || !knobsEqual(v, w) {
				return false
			}
		}
		return true
	}
	return a == b
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	}
	return 0, false
}

// stringList reads a list or tuple of strings.
func stringList(name string, v sl.Value) ([]string, error) {
	it, ok := v.(sl.Iterable)
	if !ok || isStringValue(v) {
		return nil, fmt.Errorf("%s: want a list of strings, got %s", name, v.Type())
	}
	var out []string
	iter := it.Iterate()
	defer iter.Done()
	var e sl.Value
	for i := 0; iter.Next(&e); i++ {
		s, ok := sl.AsString(e)
		if !ok {
			return nil, fmt.Errorf("%s[%d]: want a string, got %s", name, i, e.Type())
		}
		out = append(out, s)
	}
	return out, nil
}

func isStringValue(v sl.Value) bool {
	_, ok := v.(sl.String)
	return ok
}

// labelList reads class labels: strings, or bools/ints converted as
// answers are (True/False, 3).
func labelList(name string, v sl.Value) ([]string, error) {
	it, ok := v.(sl.Iterable)
	if !ok || isStringValue(v) {
		return nil, fmt.Errorf("%s: want a list of labels, got %s", name, v.Type())
	}
	var out []string
	iter := it.Iterate()
	defer iter.Done()
	var e sl.Value
	for i := 0; iter.Next(&e); i++ {
		s, err := answerString(e)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: want a string, bool or number label, got %s", name, i, e.Type())
		}
		out = append(out, s)
	}
	return out, nil
}

// floatList reads a list of numbers.
func floatList(name string, v sl.Value) ([]float64, error) {
	it, ok := v.(sl.Iterable)
	if !ok {
		return nil, fmt.Errorf("%s: want a list of numbers, got %s", name, v.Type())
	}
	var out []float64
	iter := it.Iterate()
	defer iter.Done()
	var e sl.Value
	for i := 0; iter.Next(&e); i++ {
		f, ok := sl.AsFloat(e)
		if !ok {
			return nil, fmt.Errorf("%s[%d]: want a number, got %s", name, i, e.Type())
		}
		out = append(out, f)
	}
	return out, nil
}

func stringsToList(xs []string) *sl.List {
	out := make([]sl.Value, len(xs))
	for i, s := range xs {
		out[i] = sl.String(s)
	}
	return sl.NewList(out)
}

func floatsToList(xs []float64) *sl.List {
	out := make([]sl.Value, len(xs))
	for i, f := range xs {
		out[i] = sl.Float(f)
	}
	return sl.NewList(out)
}

// floatNum unpacks a keyword argument that takes any number, so harness
// authors may write C=1 as well as C=1.0.
type floatNum float64

func (f *floatNum) Unpack(v sl.Value) error {
	x, ok := sl.AsFloat(v)
	if !ok {
		return fmt.Errorf("got %s, want a number", v.Type())
	}
	*f = floatNum(x)
	return nil
}
