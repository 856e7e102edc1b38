package starlark

import (
	"fmt"

	sl "go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/sia-agent/sia/ml"
)

func retrievalModule(*moduleEnv) (sl.Value, error) {
	return &starlarkstruct.Module{Name: "retrieval", Members: sl.StringDict{
		"index": sl.NewBuiltin("retrieval.index", retrievalIndex),
	}}, nil
}

func retrievalIndex(thread *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var docs sl.Value
	method, analyzer := "bm25", "word"
	var ngram sl.Value = sl.MakeInt(1)
	k1, bb := 1.5, 0.75
	if err := sl.UnpackArgs(b.Name(), args, kwargs, "docs", &docs, "method?", &method, "analyzer?", &analyzer,
		"ngram?", &ngram, "k1?", (*floatNum)(&k1), "b?", (*floatNum)(&bb)); err != nil {
		return nil, err
	}
	texts, err := stringList("docs", docs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	lo, hi, err := intRange(b.Name(), "ngram", ngram)
	if err != nil {
		return nil, err
	}
	ix, err := ml.NewIndex(stateOf(thread).ctx, texts, ml.IndexConfig{Method: method, Analyzer: analyzer, NGramLo: lo, NGramHi: hi, K1: k1, B: bb})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return indexObject(ix), nil
}

func indexObject(ix *ml.Index) *object {
	return &object{typ: "index", inner: ix, attrs: sl.StringDict{
		"size": sl.MakeInt(ix.Len()),
		"search": method("index", "search", func(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
			var q string
			k := 5
			if err := sl.UnpackArgs(b.Name(), args, kwargs, "query", &q, "k?", &k); err != nil {
				return nil, err
			}
			hits := ix.Search(q, k)
			out := make([]sl.Value, len(hits))
			for i, h := range hits {
				out[i] = sl.Tuple{sl.MakeInt(h.Doc), sl.Float(h.Score)}
			}
			return sl.NewList(out), nil
		}),
	}}
}
