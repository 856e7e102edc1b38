package ml

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

func TestTFIDFValues(t *testing.T) {
	docs := []string{"a b", "a c", "a a d"}
	v, err := FitTFIDF(t.Context(), docs, TFIDFConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v.Vocabulary(), []string{"a", "b", "c", "d"}; !slices.Equal(got, want) {
		t.Fatalf("vocabulary %q, want %q", got, want)
	}
	// idf = ln((1+n)/(1+df)) + 1 with n=3.
	idfA, idfB := math.Log(4.0/4)+1, math.Log(4.0/2)+1
	if math.Abs(v.IDF("a")-idfA) > 1e-12 || math.Abs(v.IDF("b")-idfB) > 1e-12 {
		t.Errorf("idf a=%g b=%g, want %g %g", v.IDF("a"), v.IDF("b"), idfA, idfB)
	}
	x := v.Vector("a b zzz")
	norm := math.Hypot(idfA, idfB)
	if !slices.Equal(x.Idx, []int32{0, 1}) || math.Abs(x.Val[0]-idfA/norm) > 1e-12 || math.Abs(x.Val[1]-idfB/norm) > 1e-12 {
		t.Errorf("vector %+v, want idx [0 1] vals [%g %g]", x, idfA/norm, idfB/norm)
	}
	if n := x.Norm(); math.Abs(n-1) > 1e-12 {
		t.Errorf("norm %g, want 1", n)
	}
}

func TestTFIDFConfigErrors(t *testing.T) {
	tests := []struct {
		cfg  TFIDFConfig
		docs []string
	}{
		{TFIDFConfig{Analyzer: "bytes"}, []string{"a"}},
		{TFIDFConfig{NGramLo: 3, NGramHi: 2}, []string{"a"}},
		{TFIDFConfig{MaxDF: 2}, []string{"a"}},
		{TFIDFConfig{MinDF: 5}, []string{"a", "b"}},
		{TFIDFConfig{}, nil},
	}
	for _, tc := range tests {
		if _, err := FitTFIDF(t.Context(), tc.docs, tc.cfg); err == nil {
			t.Errorf("FitTFIDF(%+v, %d docs): no error", tc.cfg, len(tc.docs))
		}
	}
}

func TestTFIDFMaxFeatures(t *testing.T) {
	v, err := FitTFIDF(t.Context(), []string{"x x x y y z", "x y w"}, TFIDFConfig{MaxFeatures: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Vocabulary(); !slices.Equal(got, []string{"x", "y"}) {
		t.Errorf("vocabulary %q, want the two most frequent [x y]", got)
	}
}

// topicDocs makes a synthetic text problem: each class has its own
// vocabulary, and every document mixes class words with shared noise.
func topicDocs(n, classes int, seed uint64) (docs, labels []string) {
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range n {
		c := i % classes
		var words []string
		for range 12 {
			if rng.Float64() < 0.5 {
				words = append(words, fmt.Sprintf("c%dw%d", c, rng.IntN(8)))
			} else {
				words = append(words, fmt.Sprintf("noise%d", rng.IntN(40)))
			}
		}
		docs = append(docs, fmt.Sprint(words))
		labels = append(labels, fmt.Sprintf("class%d", c))
	}
	return docs, labels
}

func TestTextClassifiers(t *testing.T) {
	ctx := t.Context()
	trainDocs, trainY := topicDocs(300, 5, 1)
	testDocs, testY := topicDocs(100, 5, 2)
	v, err := FitTFIDF(ctx, trainDocs, TFIDFConfig{SublinearTF: true})
	if err != nil {
		t.Fatal(err)
	}
	xtr, _ := v.Transform(ctx, trainDocs)
	xte, _ := v.Transform(ctx, testDocs)
	fits := map[string]func() (interface{ Predict(*Matrix) []string }, error){
		"svm": func() (interface{ Predict(*Matrix) []string }, error) {
			return FitSVM(ctx, xtr, trainY, SVMConfig{Seed: 1})
		},
		"logreg": func() (interface{ Predict(*Matrix) []string }, error) {
			return FitLogReg(ctx, xtr, trainY, LogRegConfig{C: 100, Seed: 1})
		},
		"knn": func() (interface{ Predict(*Matrix) []string }, error) {
			return FitKNN(xtr, trainY, KNNConfig{K: 7})
		},
	}
	for name, fit := range fits {
		t.Run(name, func(t *testing.T) {
			m, err := fit()
			if err != nil {
				t.Fatal(err)
			}
			acc, _ := Accuracy(m.Predict(xte), testY)
			if acc < 0.9 {
				t.Errorf("%s accuracy %.3f on separable topics, want >= 0.9", name, acc)
			}
		})
	}
}

func TestSVMDeterministicAndConcurrent(t *testing.T) {
	ctx := t.Context()
	docs, y := topicDocs(200, 4, 3)
	v, _ := FitTFIDF(ctx, docs, TFIDFConfig{})
	x, _ := v.Transform(ctx, docs)
	a, err := FitSVM(ctx, x, y, SVMConfig{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := FitSVM(ctx, x, y, SVMConfig{Seed: 7})
	if !slices.Equal(a.w, b.w) || !slices.Equal(a.bias, b.bias) {
		t.Fatal("two fits with one seed differ")
	}
	want := a.Predict(x)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if got := a.Predict(x); !slices.Equal(got, want) {
				t.Error("concurrent predictions differ")
			}
		})
	}
	wg.Wait()
}

func TestFitsStopOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	docs, y := topicDocs(50, 2, 4)
	v, _ := FitTFIDF(t.Context(), docs, TFIDFConfig{})
	x, _ := v.Transform(t.Context(), docs)
	tab := &Table{Names: []string{"a"}, Rows: [][]any{{1.0}, {2.0}, {3.0}, {4.0}}}
	fits := map[string]func() error{
		"svm":    func() error { _, err := FitSVM(ctx, x, y, SVMConfig{}); return err },
		"logreg": func() error { _, err := FitLogReg(ctx, x, y, LogRegConfig{}); return err },
		"gbt": func() error {
			_, err := FitGBTClassifier(ctx, tab, []string{"a", "b", "a", "b"}, GBTConfig{})
			return err
		},
		"tfidf": func() error { _, err := FitTFIDF(ctx, docs, TFIDFConfig{}); return err },
	}
	for name, fit := range fits {
		if err := fit(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: err %v, want context.Canceled", name, err)
		}
	}
}

func TestTrainErrors(t *testing.T) {
	ctx := t.Context()
	x := &Matrix{Dense: [][]float64{{1}, {2}}, Dim: 1}
	tests := map[string]func() error{
		"svm label count":   func() error { _, err := FitSVM(ctx, x, []string{"a"}, SVMConfig{}); return err },
		"svm negative C":    func() error { _, err := FitSVM(ctx, x, []string{"a", "b"}, SVMConfig{C: -1}); return err },
		"logreg no rows":    func() error { _, err := FitLogReg(ctx, &Matrix{}, nil, LogRegConfig{}); return err },
		"knn bad metric":    func() error { _, err := FitKNN(x, []string{"a", "b"}, KNNConfig{Metric: "manhattan"}); return err },
		"accuracy mismatch": func() error { _, err := Accuracy([]string{"a"}, []string{"a", "b"}); return err },
		"split fraction":    func() error { _, _, err := TrainValSplit(10, 1.5, 0); return err },
		"kfold too many":    func() error { _, err := KFold(3, 5, 0); return err },
		"index bad method":  func() error { _, err := NewIndex(ctx, []string{"a"}, IndexConfig{Method: "lsi"}); return err },
		"gbt one class": func() error {
			_, err := FitGBTClassifier(ctx, &Table{Names: []string{"a"}, Rows: [][]any{{1.0}}}, []string{"x"}, GBTConfig{})
			return err
		},
		"gbt ragged row": func() error {
			_, err := FitGBTClassifier(ctx, &Table{Names: []string{"a", "b"}, Rows: [][]any{{1.0}}}, []string{"x"}, GBTConfig{})
			return err
		},
		"gbt bad categorical": func() error {
			_, err := FitGBTClassifier(ctx, &Table{Names: []string{"a"}, Rows: [][]any{{1.0}, {2.0}}}, []string{"x", "y"}, GBTConfig{Categorical: []string{"b"}})
			return err
		},
	}
	for name, fn := range tests {
		if err := fn(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestKNNNeighbors(t *testing.T) {
	x := &Matrix{Dense: [][]float64{{0, 0}, {1, 0}, {5, 5}, {6, 5}}, Dim: 2}
	m, err := FitKNN(x, []string{"a", "a", "b", "b"}, KNNConfig{K: 2})
	if err != nil {
		t.Fatal(err)
	}
	q := &Matrix{Dense: [][]float64{{5.2, 5}, {0.1, math.NaN()}}, Dim: 2}
	nb := m.Neighbors(q, 0, 2)
	if nb[0].Index != 2 || nb[1].Index != 3 {
		t.Errorf("neighbors of (5.2,5) = %+v, want rows 2 then 3", nb)
	}
	if got := m.Predict(q); !slices.Equal(got, []string{"b", "a"}) {
		t.Errorf("predict = %q, want [b a]", got)
	}
}

func TestSplitsAndFolds(t *testing.T) {
	tr, va, err := TrainValSplit(10, 0.3, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr) != 7 || len(va) != 3 {
		t.Fatalf("split sizes %d/%d, want 7/3", len(tr), len(va))
	}
	all := append(slices.Clone(tr), va...)
	slices.Sort(all)
	for i, v := range all {
		if v != i {
			t.Fatalf("split is not a partition: %v", all)
		}
	}
	tr2, _, _ := TrainValSplit(10, 0.3, 5)
	if !slices.Equal(tr, tr2) {
		t.Error("split not deterministic for one seed")
	}
	folds, err := KFold(10, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	seen := make([]int, 10)
	for _, f := range folds {
		if len(f.Train)+len(f.Val) != 10 {
			t.Errorf("fold sizes %d+%d != 10", len(f.Train), len(f.Val))
		}
		for _, i := range f.Val {
			seen[i]++
		}
	}
	for i, c := range seen {
		if c != 1 {
			t.Errorf("row %d validated %d times, want once", i, c)
		}
	}
}

func TestIndexSearch(t *testing.T) {
	docs := []string{"the cat sat on the mat", "dogs chase cats", "stock markets fell sharply", "the dog sat"}
	for _, method := range []string{"bm25", "tfidf"} {
		ix, err := NewIndex(t.Context(), docs, IndexConfig{Method: method})
		if err != nil {
			t.Fatal(err)
		}
		hits := ix.Search("markets fell", 2)
		if len(hits) != 1 || hits[0].Doc != 2 {
			t.Errorf("%s: search markets fell = %+v, want only doc 2", method, hits)
		}
		hits = ix.Search("dog sat", 3)
		if len(hits) < 2 || hits[0].Doc != 3 {
			t.Errorf("%s: search dog sat = %+v, want doc 3 first", method, hits)
		}
		if h := ix.Search("zebra", 3); len(h) != 0 {
			t.Errorf("%s: unknown term found %+v", method, h)
		}
	}
}
