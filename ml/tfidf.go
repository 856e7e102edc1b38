package ml

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/sia-agent/sia/text"
)

// TFIDFConfig configures a TF-IDF vectorizer. The zero value is usable:
// word unigrams, lowercased, sublinear tf off, every term kept.
type TFIDFConfig struct {
	// Analyzer is "word" (text.Words tokens), "char" (character n-grams over the
	// whole text) or "char_wb" (character n-grams inside words padded with
	// a space, as scikit-learn does). Default "word".
	Analyzer string
	// NGramLo and NGramHi bound the n-gram sizes (default 1 and 1).
	NGramLo, NGramHi int
	// MinDF drops terms found in fewer documents (default 1).
	MinDF int
	// MaxDF drops terms found in more than this fraction of documents
	// (default 1: keep all).
	MaxDF float64
	// MaxFeatures keeps only the most frequent terms (0 = all).
	MaxFeatures int
	// SublinearTF uses 1+log(tf) instead of raw counts.
	SublinearTF bool
	// KeepCase turns off lowercasing.
	KeepCase bool
}

func (c *TFIDFConfig) applyDefaults() {
	if c.Analyzer == "" {
		c.Analyzer = "word"
	}
	if c.NGramLo <= 0 {
		c.NGramLo = 1
	}
	if c.NGramHi <= 0 {
		c.NGramHi = c.NGramLo
	}
	if c.MinDF <= 0 {
		c.MinDF = 1
	}
	if c.MaxDF <= 0 {
		c.MaxDF = 1
	}
}

func (c *TFIDFConfig) validate() error {
	switch c.Analyzer {
	case "word", "char", "char_wb":
	default:
		return fmt.Errorf("analyzer %q: want word, char or char_wb", c.Analyzer)
	}
	if c.NGramHi < c.NGramLo {
		return fmt.Errorf("ngram range (%d, %d): high end below low end", c.NGramLo, c.NGramHi)
	}
	if c.NGramHi > 10 {
		return fmt.Errorf("ngram range (%d, %d): n above 10 is not supported", c.NGramLo, c.NGramHi)
	}
	if c.MaxDF > 1 {
		return fmt.Errorf("max_df %g: want a fraction in (0, 1]", c.MaxDF)
	}
	return nil
}

// Terms calls emit for every term of doc under the config's analyzer.
func (c *TFIDFConfig) Terms(doc string, emit func(string)) {
	if !c.KeepCase {
		doc = strings.ToLower(doc)
	}
	switch c.Analyzer {
	case "char":
		text.CharNGrams(doc, c.NGramLo, c.NGramHi, emit)
	case "char_wb":
		for _, w := range text.Words(doc) {
			text.CharNGrams(" "+w+" ", c.NGramLo, c.NGramHi, emit)
		}
	default:
		for _, t := range text.NGrams(text.Words(doc), c.NGramLo, c.NGramHi, " ") {
			emit(t)
		}
	}
}

// Vectorizer is a fitted TF-IDF vectorizer. It is immutable.
type Vectorizer struct {
	cfg   TFIDFConfig
	vocab map[string]int32
	terms []string
	idf   []float64
}

// FitTFIDF learns the vocabulary and inverse document frequencies of docs.
// idf = ln((1+n)/(1+df)) + 1, rows are L2-normalised (scikit-learn's
// defaults), and the vocabulary is sorted so indices are deterministic.
func FitTFIDF(ctx context.Context, docs []string, cfg TFIDFConfig) (*Vectorizer, error) {
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("tfidf: no documents")
	}
	df := map[string]int{}
	tf := map[string]int{}
	seen := map[string]bool{}
	for i, d := range docs {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		clear(seen)
		cfg.Terms(d, func(t string) {
			tf[t]++
			if !seen[t] {
				seen[t] = true
				df[t]++
			}
		})
	}
	maxDF := int(math.Floor(cfg.MaxDF * float64(len(docs))))
	terms := make([]string, 0, len(df))
	for t, n := range df {
		if n >= cfg.MinDF && n <= maxDF {
			terms = append(terms, t)
		}
	}
	if len(terms) == 0 {
		return nil, fmt.Errorf("tfidf: no term survives min_df=%d max_df=%g", cfg.MinDF, cfg.MaxDF)
	}
	if cfg.MaxFeatures > 0 && len(terms) > cfg.MaxFeatures {
		slices.SortFunc(terms, func(a, b string) int {
			if tf[a] != tf[b] {
				return tf[b] - tf[a]
			}
			return strings.Compare(a, b)
		})
		terms = terms[:cfg.MaxFeatures]
	}
	slices.Sort(terms)
	v := &Vectorizer{cfg: cfg, vocab: make(map[string]int32, len(terms)), terms: terms, idf: make([]float64, len(terms))}
	n := float64(len(docs))
	for i, t := range terms {
		v.vocab[t] = int32(i)
		v.idf[i] = math.Log((1+n)/(1+float64(df[t]))) + 1
	}
	return v, nil
}

// Dim is the vocabulary size.
func (v *Vectorizer) Dim() int { return len(v.terms) }

// Terms returns the vocabulary in index order.
func (v *Vectorizer) Vocabulary() []string { return slices.Clone(v.terms) }

// Config returns the settings the vectorizer was fitted with.
func (v *Vectorizer) Config() TFIDFConfig { return v.cfg }

// IDF returns the inverse document frequency of a term, 0 if unknown.
func (v *Vectorizer) IDF(term string) float64 {
	if i, ok := v.vocab[term]; ok {
		return v.idf[i]
	}
	return 0
}

// Vector maps one document to its L2-normalised TF-IDF vector; terms outside
// the vocabulary are ignored.
func (v *Vectorizer) Vector(doc string) Sparse {
	counts := map[int32]float64{}
	v.cfg.Terms(doc, func(t string) {
		if i, ok := v.vocab[t]; ok {
			counts[i]++
		}
	})
	s := Sparse{Idx: make([]int32, 0, len(counts)), Val: make([]float64, 0, len(counts))}
	for i := range counts {
		s.Idx = append(s.Idx, i)
	}
	slices.Sort(s.Idx)
	var norm float64
	for _, i := range s.Idx {
		tf := counts[i]
		if v.cfg.SublinearTF {
			tf = 1 + math.Log(tf)
		}
		w := tf * v.idf[i]
		s.Val = append(s.Val, w)
		norm += w * w
	}
	if norm > 0 {
		norm = 1 / math.Sqrt(norm)
		for k := range s.Val {
			s.Val[k] *= norm
		}
	}
	return s
}

// Transform maps texts to a sparse matrix.
func (v *Vectorizer) Transform(ctx context.Context, texts []string) (*Matrix, error) {
	m := &Matrix{Sparse: make([]Sparse, len(texts)), Dim: v.Dim()}
	for i, t := range texts {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		m.Sparse[i] = v.Vector(t)
	}
	return m, nil
}
