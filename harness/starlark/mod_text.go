package starlark

import (
	"fmt"
	"slices"
	"strings"

	sl "go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/sia-agent/sia/text"
)

func textModule(*moduleEnv) (sl.Value, error) {
	return &starlarkstruct.Module{Name: "text", Members: sl.StringDict{
		"normalize":     sl.NewBuiltin("text.normalize", textNormalize),
		"words":         sl.NewBuiltin("text.words", textWords),
		"chars":         sl.NewBuiltin("text.chars", textChars),
		"ngrams":        sl.NewBuiltin("text.ngrams", textNgrams),
		"edit_distance": sl.NewBuiltin("text.edit_distance", textEditDistance),
		"most_common":   sl.NewBuiltin("text.most_common", textMostCommon),
		"vote":          sl.NewBuiltin("text.vote", textVote),
	}}, nil
}

func textNormalize(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var s string
	lower, stripPunct := true, false
	if err := sl.UnpackArgs(b.Name(), args, kwargs, "s", &s, "lower?", &lower, "strip_punct?", &stripPunct); err != nil {
		return nil, err
	}
	return sl.String(text.Normalize(s, lower, stripPunct)), nil
}

func textWords(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var s string
	lower := false
	if err := sl.UnpackArgs(b.Name(), args, kwargs, "s", &s, "lower?", &lower); err != nil {
		return nil, err
	}
	if lower {
		s = strings.ToLower(s)
	}
	return stringsToList(text.Words(s)), nil
}

func textChars(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var s string
	if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &s); err != nil {
		return nil, err
	}
	return stringsToList(text.Chars(s)), nil
}

// textNgrams is ngrams(tokens, n, sep=" "): tokens is a list of strings,
// or a string (then its characters, joined with sep="" by default); n is an
// int or a (lo, hi) pair.
func textNgrams(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var tokens, n sl.Value
	var sep sl.Value = sl.None
	if err := sl.UnpackArgs(b.Name(), args, kwargs, "tokens", &tokens, "n", &n, "sep?", &sep); err != nil {
		return nil, err
	}
	var toks []string
	joiner := " "
	if s, ok := tokens.(sl.String); ok {
		toks, joiner = text.Chars(string(s)), ""
	} else {
		var err error
		if toks, err = stringList("tokens", tokens); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
	}
	if sep != sl.None {
		s, ok := sl.AsString(sep)
		if !ok {
			return nil, fmt.Errorf("%s: sep must be a string", b.Name())
		}
		joiner = s
	}
	lo, hi, err := intRange(b.Name(), "n", n)
	if err != nil {
		return nil, err
	}
	return stringsToList(text.NGrams(toks, lo, hi, joiner)), nil
}

// intRange reads an int n (meaning n..n) or a (lo, hi) pair.
func intRange(fn, name string, v sl.Value) (int, int, error) {
	var lo, hi int
	if t, ok := v.(sl.Tuple); ok && len(t) == 2 {
		if sl.AsInt(t[0], &lo) != nil || sl.AsInt(t[1], &hi) != nil {
			return 0, 0, fmt.Errorf("%s: %s must be an int or a (lo, hi) pair of ints", fn, name)
		}
	} else if l, ok := v.(*sl.List); ok && l.Len() == 2 {
		if sl.AsInt(l.Index(0), &lo) != nil || sl.AsInt(l.Index(1), &hi) != nil {
			return 0, 0, fmt.Errorf("%s: %s must be an int or a (lo, hi) pair of ints", fn, name)
		}
	} else if sl.AsInt(v, &lo) == nil {
		hi = lo
	} else {
		return 0, 0, fmt.Errorf("%s: %s must be an int or a (lo, hi) pair of ints, got %s", fn, name, v.Type())
	}
	if lo < 1 || hi < lo {
		return 0, 0, fmt.Errorf("%s: %s=(%d, %d): want 1 <= lo <= hi", fn, name, lo, hi)
	}
	return lo, hi, nil
}

func textEditDistance(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var a, c string
	if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &a, &c); err != nil {
		return nil, err
	}
	return sl.MakeInt(text.EditDistance(a, c)), nil
}

// counted returns distinct hashable values with their counts, by
// descending count, ties in order of first appearance.
func counted(fn string, v sl.Value) ([]sl.Tuple, error) {
	it, ok := v.(sl.Iterable)
	if !ok {
		return nil, fmt.Errorf("%s: want a list, got %s", fn, v.Type())
	}
	counts := sl.NewDict(0)
	iter := it.Iterate()
	defer iter.Done()
	var e sl.Value
	for iter.Next(&e) {
		c, found, err := counts.Get(e)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
		n := 0
		if found {
			_ = sl.AsInt(c, &n)
		}
		if err := counts.SetKey(e, sl.MakeInt(n+1)); err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
	}
	items := counts.Items()
	slices.SortStableFunc(items, func(a, b sl.Tuple) int {
		var x, y int
		_ = sl.AsInt(a[1], &x)
		_ = sl.AsInt(b[1], &y)
		return y - x
	})
	return items, nil
}

func textMostCommon(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var values sl.Value
	k := 0
	if err := sl.UnpackArgs(b.Name(), args, kwargs, "values", &values, "k?", &k); err != nil {
		return nil, err
	}
	items, err := counted(b.Name(), values)
	if err != nil {
		return nil, err
	}
	if k > 0 && k < len(items) {
		items = items[:k]
	}
	out := make([]sl.Value, len(items))
	for i, t := range items {
		out[i] = t
	}
	return sl.NewList(out), nil
}

func textVote(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var values sl.Value
	if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &values); err != nil {
		return nil, err
	}
	items, err := counted(b.Name(), values)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return sl.None, nil
	}
	return items[0][0], nil
}
