package tinylm

import (
	"math"
	"slices"
	"testing"
)

func TestSplitBatch(t *testing.T) {
	for _, tc := range []struct {
		lens []int
		w    int
		want []int
	}{
		{[]int{5}, 2, []int{0, 1}},
		{[]int{5, 5}, 2, []int{0, 1, 2}},
		{[]int{1, 1, 1, 7}, 2, []int{0, 3, 4}},
		{[]int{4, 4, 4, 4}, 2, []int{0, 2, 4}},
		{[]int{4, 4, 4, 4}, 4, []int{0, 1, 2, 3, 4}},
		{[]int{9, 1, 1, 1}, 2, []int{0, 1, 4}},
		{[]int{3, 3, 3}, 1, []int{0, 3}},
	} {
		var spans []span
		for _, n := range tc.lens {
			spans = append(spans, span{n: n})
		}
		if got := splitBatch(spans, tc.w); !slices.Equal(got, tc.want) {
			t.Errorf("splitBatch(%v, %d) = %v, want %v", tc.lens, tc.w, got, tc.want)
		}
	}
}

// TestParallelGroupsMatchOneGroup checks that running the batch in parallel
// groups gives the same logprobs (exactly: every row's arithmetic is the
// same) and the same gradients (up to summation order) as one group.
func TestParallelGroupsMatchOneGroup(t *testing.T) {
	m := smallModel(t)
	a := perturbedAdapter(t, m, LoRAConfig{Rank: 4, Targets: []string{"q", "v", "up"}, ValueHead: true})
	seqs := [][]int{{1, 2, 3, 4, 5}, {9, 8, 7}, {TokBOS, 50, 60, 70, 80, 90, 100}, {3, 3}}
	spans, err := m.packSpans(seqs)
	if err != nil {
		t.Fatal(err)
	}
	one := m.forwardPart(a, seqs, spans)
	par := m.forward(a, seqs, spans)
	if len(par.parts) < 2 && workers() >= 2 {
		t.Fatalf("batch was not split (%d parts)", len(par.parts))
	}
	for b := range seqs {
		if !slices.Equal(one.Logprobs[b], par.Logprobs[b]) || !slices.Equal(one.Values[b], par.Values[b]) || !slices.Equal(one.Entropy[b], par.Entropy[b]) {
			t.Fatalf("sequence %d differs between one group and parallel groups", b)
		}
	}
	dl := make([][]float32, len(seqs))
	for b := range dl {
		dl[b] = make([]float32, len(seqs[b])-1)
		for i := range dl[b] {
			dl[b][i] = float32(i%3) - 1
		}
	}
	grads := func(tp *Tape) [][]float32 {
		a.ZeroGrad()
		if err := m.BackwardEntropy(tp, dl, dl, dl); err != nil {
			t.Fatal(err)
		}
		var g [][]float32
		for _, p := range a.params() {
			g = append(g, slices.Clone(p.g))
		}
		return g
	}
	g1, g2 := grads(one), grads(par)
	for i := range g1 {
		for j := range g1[i] {
			if d := math.Abs(float64(g1[i][j] - g2[i][j])); d > 1e-5*math.Max(1, math.Abs(float64(g1[i][j]))) {
				t.Fatalf("param %s[%d]: %v vs %v", a.params()[i].name, j, g1[i][j], g2[i][j])
			}
		}
	}
	if gradNorm(a.params()) == 0 {
		t.Fatal("zero gradients: the test checks nothing")
	}
}
