package ml

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// tabular makes rows whose label depends on a numeric column (with
// missing values), a categorical column and an interaction; noise columns
// carry nothing.
func tabular(n int, seed uint64) (*Table, []string, []float64) {
	rng := rand.New(rand.NewPCG(seed, 2))
	t := &Table{Names: []string{"x", "color", "noise", "flag"}}
	var y []string
	var target []float64
	colors := []string{"red", "green", "blue", "black"}
	for range n {
		x := rng.Float64()*10 - 5
		var xc any = x
		if rng.Float64() < 0.1 {
			xc = nil // missing
		}
		color := colors[rng.IntN(len(colors))]
		flag := rng.IntN(2) == 1
		score := x
		if color == "red" || color == "black" {
			score += 3
		}
		if flag && x > 0 {
			score -= 4
		}
		if xc == nil {
			score = 2 // missing x behaves like a high score
		}
		label := "no"
		if score+rng.NormFloat64()*0.3 > 1 {
			label = "yes"
		}
		t.Rows = append(t.Rows, []any{xc, color, rng.Float64(), flag})
		y = append(y, label)
		target = append(target, score)
	}
	return t, y, target
}

func TestGBTClassifierLearnsStructure(t *testing.T) {
	ctx := t.Context()
	tr, ytr, _ := tabular(2000, 1)
	te, yte, _ := tabular(500, 2)
	m, err := FitGBTClassifier(ctx, tr, ytr, GBTConfig{NEstimators: 150, MaxDepth: 4, Subsample: 0.8, ColSample: 0.75, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	pred, err := m.Predict(te)
	if err != nil {
		t.Fatal(err)
	}
	acc, _ := Accuracy(pred, yte)
	if acc < 0.9 {
		t.Errorf("accuracy %.3f on a learnable synthetic table, want >= 0.9", acc)
	}
	imp := m.Importance()
	if imp["noise"] >= imp["x"] || imp["noise"] >= imp["color"] {
		t.Errorf("importance %v: noise should rank below x and color", imp)
	}
	// Same seed, same model; predictions are concurrent-safe (checked by -race).
	m2, _ := FitGBTClassifier(ctx, tr, ytr, GBTConfig{NEstimators: 150, MaxDepth: 4, Subsample: 0.8, ColSample: 0.75, Seed: 3})
	p2, _ := m2.Proba(te)
	p1, _ := m.Proba(te)
	for i := range p1 {
		if !slices.Equal(p1[i], p2[i]) {
			t.Fatal("two fits with one seed differ")
		}
	}
	done := make(chan []string, 4)
	for range 4 {
		go func() { p, _ := m.Predict(te); done <- p }()
	}
	for range 4 {
		if p := <-done; !slices.Equal(p, pred) {
			t.Error("concurrent predictions differ")
		}
	}
}

func TestGBTMulticlassAndUnseen(t *testing.T) {
	tab := &Table{Names: []string{"c", "v"}}
	var y []string
	for i := range 300 {
		c := []string{"a", "b", "c"}[i%3]
		tab.Rows = append(tab.Rows, []any{c, float64(i % 7)})
		y = append(y, "L"+c)
	}
	m, err := FitGBTClassifier(t.Context(), tab, y, GBTConfig{NEstimators: 30})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Classes(); !slices.Equal(got, []string{"La", "Lb", "Lc"}) {
		t.Errorf("classes %q", got)
	}
	q := &Table{Names: []string{"v", "c"}, Rows: [][]any{{1.0, "b"}, {2.0, "c"}, {3.0, "zzz"}}}
	pred, err := m.Predict(q)
	if err != nil {
		t.Fatal(err)
	}
	if pred[0] != "Lb" || pred[1] != "Lc" {
		t.Errorf("predict %q, want Lb Lc first (columns matched by name)", pred)
	}
	p, _ := m.Proba(q)
	for i, row := range p {
		var s float64
		for _, v := range row {
			s += v
		}
		if math.Abs(s-1) > 1e-9 {
			t.Errorf("row %d probabilities sum to %g", i, s)
		}
	}
	if _, err := m.Predict(&Table{Names: []string{"v"}, Rows: [][]any{{1.0}}}); err == nil {
		t.Error("predict without column c: no error")
	}
}

func TestGBTRegressor(t *testing.T) {
	tr, _, ytr := tabular(1500, 5)
	te, _, yte := tabular(300, 6)
	m, err := FitGBTRegressor(t.Context(), tr, ytr, GBTConfig{NEstimators: 200, MaxDepth: 4})
	if err != nil {
		t.Fatal(err)
	}
	pred, err := m.PredictValue(te)
	if err != nil {
		t.Fatal(err)
	}
	var mse, variance, mean float64
	for _, v := range yte {
		mean += v / float64(len(yte))
	}
	for i := range yte {
		mse += (pred[i] - yte[i]) * (pred[i] - yte[i])
		variance += (yte[i] - mean) * (yte[i] - mean)
	}
	if r2 := 1 - mse/variance; r2 < 0.9 {
		t.Errorf("R² %.3f, want >= 0.9", r2)
	}
	if _, err := m.Predict(te); err == nil {
		t.Error("Predict on a regressor: no error")
	}
}

func TestBinner(t *testing.T) {
	rows := [][]any{{1.0}, {2.0}, {"3"}, {nil}, {"n/a"}, {2.0}}
	b := fitBinner(rows, 0, false, 255)
	tests := []struct {
		v    any
		want uint8
	}{
		{nil, 0}, {"", 0}, {math.NaN(), 0}, {0.5, 1}, {1.0, 1}, {1.4, 1}, {2.0, 2}, {3.0, 3}, {99.0, 3}, {"2", 2}, {"abc", 0},
	}
	for _, tc := range tests {
		if got := b.bin(tc.v); got != tc.want {
			t.Errorf("bin(%v) = %d, want %d (edges %v)", tc.v, got, tc.want, b.edges)
		}
	}
}
