package tinylm

import (
	"errors"
	"math"
	"slices"
	"testing"
)

// poisonArenas puts arenas full of NaN into the pool, so a pass that read
// memory it had not written would show it.
func poisonArenas(n, size int) {
	for range n {
		a := &arena{slab: make([]float32, size)}
		for i := range a.slab {
			a.slab[i] = float32(math.NaN())
		}
		tapeArenas.p.Put(a)
		b := &arena{slab: slices.Clone(a.slab)}
		scratchArenas.p.Put(b)
	}
}

// TestReusedArenasChangeNothing: a training pass on recycled (NaN-filled)
// activation memory gives bit-identical logprobs and gradients to the same
// pass on fresh memory, so nothing reads memory it did not write.
func TestReusedArenasChangeNothing(t *testing.T) {
	m := smallModel(t)
	a := perturbedAdapter(t, m, LoRAConfig{Rank: 4, Targets: []string{"q", "k", "v", "o", "up", "down"}, ValueHead: true})
	seqs := [][]int{{1, 2, 3, 4, 5}, {9, 8, 7}, {TokBOS, 50, 60, 70, 80, 90, 100}, {3, 3}}
	dl := make([][]float32, len(seqs))
	for b := range dl {
		dl[b] = make([]float32, len(seqs[b])-1)
		for i := range dl[b] {
			dl[b][i] = float32(i%3) - 1
		}
	}
	dl[1] = nil // a sequence without gradient leaves its dlogits rows untouched
	pass := func() ([][]float32, [][]float32) {
		a.ZeroGrad()
		tp, err := m.Forward(a, seqs)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.BackwardEntropy(tp, dl, dl, dl); err != nil {
			t.Fatal(err)
		}
		tp.Release()
		var g [][]float32
		for _, p := range a.params() {
			g = append(g, slices.Clone(p.g))
		}
		return tp.Logprobs, g
	}
	lp1, g1 := pass()
	poisonArenas(8, 1<<20)
	lp2, g2 := pass()
	poisonArenas(8, 1<<20)
	lp3, g3 := pass()
	for b := range lp1 {
		if !slices.Equal(lp1[b], lp2[b]) || !slices.Equal(lp1[b], lp3[b]) {
			t.Fatalf("sequence %d: logprobs changed on reused memory: %v / %v / %v", b, lp1[b], lp2[b], lp3[b])
		}
	}
	for i := range g1 {
		if !slices.Equal(g1[i], g2[i]) || !slices.Equal(g1[i], g3[i]) {
			t.Fatalf("param %s: gradient changed on reused memory", a.params()[i].name)
		}
	}
	if gradNorm(a.params()) == 0 {
		t.Fatal("zero gradients: the test checks nothing")
	}
}

// TestReleasedTape: Backward refuses a released tape; what the caller was
// given stays valid.
func TestReleasedTape(t *testing.T) {
	m := smallModel(t)
	a := perturbedAdapter(t, m, LoRAConfig{Rank: 4})
	seqs := [][]int{{1, 2, 3, 4, 5}, {9, 8, 7}}
	tp, err := m.Forward(a, seqs)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(tp.Logprobs[0])
	tp.Release()
	tp.Release() // twice is fine
	poisonArenas(4, 1<<20)
	if _, err := m.Forward(a, seqs); err != nil { // reuses the memory
		t.Fatal(err)
	}
	if !slices.Equal(tp.Logprobs[0], want) {
		t.Fatal("Logprobs changed after Release")
	}
	if err := m.Backward(tp, nil, nil); !errors.Is(err, errReleased) {
		t.Fatalf("Backward on a released tape: %v, want errReleased", err)
	}
	// An inference forward (no adapter, frozen base) releases its own
	// activations and is refused by Backward like any adapter-less tape.
	ref, err := m.Forward(nil, seqs)
	if err != nil {
		t.Fatal(err)
	}
	if len(ref.Logprobs) != 2 || len(ref.Logprobs[0]) != 4 {
		t.Fatalf("inference logprobs: %v", ref.Logprobs)
	}
	if err := m.Backward(ref, nil, nil); err == nil {
		t.Fatal("Backward on an inference tape succeeded")
	}
}
