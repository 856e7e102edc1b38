package ml

import (
	"context"
	"fmt"
	"math"
	"slices"
)

// IndexConfig configures a search index.
type IndexConfig struct {
	// Method is "bm25" (default) or "tfidf" (cosine over TF-IDF vectors).
	Method string
	// Terms are produced as by a TF-IDF vectorizer with this analyzer and
	// n-gram range (default word unigrams).
	Analyzer         string
	NGramLo, NGramHi int
	// K1 and B are the BM25 parameters (defaults 1.5 and 0.75).
	K1, B float64
}

type posting struct {
	doc int32
	w   float64
}

// Index is an immutable inverted index over documents.
type Index struct {
	cfg      IndexConfig
	terms    TFIDFConfig
	postings map[string][]posting
	vec      *Vectorizer // tfidf only
	n        int
}

// Hit is one search result.
type Hit struct {
	Doc   int
	Score float64
}

// NewIndex builds an index over docs.
func NewIndex(ctx context.Context, docs []string, cfg IndexConfig) (*Index, error) {
	if cfg.Method == "" {
		cfg.Method = "bm25"
	}
	if cfg.K1 <= 0 {
		cfg.K1 = 1.5
	}
	if cfg.B < 0 || cfg.B > 1 {
		return nil, fmt.Errorf("index: b %g must be in [0, 1]", cfg.B)
	}
	if cfg.B == 0 {
		cfg.B = 0.75
	}
	tc := TFIDFConfig{Analyzer: cfg.Analyzer, NGramLo: cfg.NGramLo, NGramHi: cfg.NGramHi}
	tc.applyDefaults()
	if err := tc.validate(); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("index: no documents")
	}
	ix := &Index{cfg: cfg, terms: tc, postings: map[string][]posting{}, n: len(docs)}
	switch cfg.Method {
	case "tfidf":
		v, err := FitTFIDF(ctx, docs, tc)
		if err != nil {
			return nil, fmt.Errorf("index: %w", err)
		}
		ix.vec = v
		for d, text := range docs {
			s := v.Vector(text)
			for j, f := range s.Idx {
				t := v.terms[f]
				ix.postings[t] = append(ix.postings[t], posting{doc: int32(d), w: s.Val[j]})
			}
		}
	case "bm25":
		tfs := make([]map[string]int, len(docs))
		lens := make([]float64, len(docs))
		var total float64
		for d, text := range docs {
			if d%256 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			tf := map[string]int{}
			tc.Terms(text, func(t string) { tf[t]++; lens[d]++ })
			tfs[d] = tf
			total += lens[d]
		}
		avg := max(total/float64(len(docs)), 1e-9)
		df := map[string]int{}
		for _, tf := range tfs {
			for t := range tf {
				df[t]++
			}
		}
		n := float64(len(docs))
		for d, tf := range tfs {
			for t, c := range tf {
				idf := math.Log(1 + (n-float64(df[t])+0.5)/(float64(df[t])+0.5))
				fc := float64(c)
				w := idf * fc * (cfg.K1 + 1) / (fc + cfg.K1*(1-cfg.B+cfg.B*lens[d]/avg))
				ix.postings[t] = append(ix.postings[t], posting{doc: int32(d), w: w})
			}
		}
	default:
		return nil, fmt.Errorf("index: method %q: want bm25 or tfidf", cfg.Method)
	}
	return ix, nil
}

// Len is the number of indexed documents.
func (ix *Index) Len() int { return ix.n }

// Search returns the k best documents for query, best first; documents
// sharing no term with the query are not returned. Ties go to the lower
// document index.
func (ix *Index) Search(query string, k int) []Hit {
	scores := map[int32]float64{}
	if ix.vec != nil {
		q := ix.vec.Vector(query)
		for j, f := range q.Idx {
			for _, p := range ix.postings[ix.vec.terms[f]] {
				scores[p.doc] += p.w * q.Val[j]
			}
		}
	} else {
		seen := map[string]bool{}
		ix.terms.Terms(query, func(t string) {
			if seen[t] {
				return
			}
			seen[t] = true
			for _, p := range ix.postings[t] {
				scores[p.doc] += p.w
			}
		})
	}
	hits := make([]Hit, 0, len(scores))
	for d, s := range scores {
		hits = append(hits, Hit{Doc: int(d), Score: s})
	}
	slices.SortFunc(hits, func(a, b Hit) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return a.Doc - b.Doc
	})
	if k > 0 && len(hits) > k {
		hits = hits[:k]
	}
	return hits
}
