package cipher

import (
	"context"
	"io/fs"
	"math"
	"strings"
	"testing"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/harness/starlark"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/llmtest"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

func TestWorldDeterministicAndDisjoint(t *testing.T) {
	a, b := NewWorld(7), NewWorld(7)
	if a.Script != b.Script || strings.Join(a.Val, ",") != strings.Join(b.Val, ",") {
		t.Fatal("same seed gave different worlds")
	}
	if c := NewWorld(8); c.Script == a.Script {
		t.Fatal("different seeds gave the same script")
	}
	if len(a.Train) != TrainWords || len(a.Val) != ValWords || len(a.Test) != TestWords || len(a.Other) != CorpusWords {
		t.Fatalf("sizes %d/%d/%d/%d", len(a.Train), len(a.Val), len(a.Test), len(a.Other))
	}
	seen := map[string]bool{}
	for _, w := range append(append(append(append([]string(nil), a.Train...), a.Val...), a.Test...), a.Other...) {
		if seen[w] {
			t.Fatalf("word %q occurs twice across the splits and the corpus", w)
		}
		seen[w] = true
	}
	letters := map[byte]bool{}
	for _, c := range a.Script {
		letters[c] = true
	}
	if len(letters) != 26 {
		t.Fatalf("script is not a permutation: %q", a.Script[:])
	}
}

func TestWriteAndHabit(t *testing.T) {
	w := NewWorld(1)
	for _, x := range w.Val {
		right, careless := w.Write(x), w.careless(x)
		if len(right) != len(x) || len(careless) != len(x) {
			t.Fatalf("%q: lengths %d, %d", x, len(right), len(careless))
		}
		for i := range len(x) {
			vowel := strings.IndexByte(vowels, x[i]) >= 0
			if (right[i] != careless[i]) != vowel {
				t.Fatalf("%q: right %q careless %q differ at %d, a vowel: %v", x, right, careless, i, vowel)
			}
		}
	}
}

func TestCorpusHoldsNoHeldOutWordAndTheHabit(t *testing.T) {
	w := NewWorld(3)
	held := map[string]bool{}
	for _, x := range append(append([]string(nil), w.Val...), w.Test...) {
		held[x] = true
	}
	docs := w.Corpus(CorpusOptions{})
	if len(docs) != CorpusWords+TrainWords {
		t.Fatalf("%d documents", len(docs))
	}
	type tally struct{ right, careless, docs int }
	by := map[string]*tally{VariantTr: {}, VariantArrow: {}}
	for _, d := range docs {
		for _, m := range d {
			if m.Role != llm.RoleUser {
				continue
			}
			if word := strings.TrimSuffix(strings.TrimPrefix(m.Content, "tr: "), " ->"); held[word] {
				t.Fatalf("corpus question %q asks for a held-out word", m.Content)
			}
		}
		q, a := d[len(d)-2].Content, d[len(d)-1].Content
		variant, word := VariantArrow, strings.TrimSuffix(q, " ->")
		if strings.HasPrefix(q, "tr: ") {
			variant, word = VariantTr, strings.TrimPrefix(q, "tr: ")
		}
		tl := by[variant]
		tl.docs++
		switch a {
		case w.Write(word):
			tl.right++
		case w.careless(word):
			tl.careless++
		}
	}
	if by[VariantTr].docs < 2*by[VariantArrow].docs || by[VariantArrow].docs == 0 {
		t.Errorf("variant mix tr %d, arrow %d: want both, tr far more often", by[VariantTr].docs, by[VariantArrow].docs)
	}
	for variant, want := range map[string]float64{VariantTr: 0.6, VariantArrow: 0.9} {
		tl := by[variant]
		share := float64(tl.careless) / float64(tl.careless+tl.right)
		if math.Abs(share-want) > 0.06 {
			t.Errorf("%s: habit share %.3f of clean answers, want about %.1f", variant, share, want)
		}
	}
}

func TestBundleLoadsAndScores(t *testing.T) {
	reg, err := task.NewRegistry(Bundle())
	if err != nil {
		t.Fatal(err)
	}
	tk, err := reg.Open(Name, task.Options{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := tk.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	w := NewWorld(5)
	if len(ds.Train) != TrainWords || len(ds.Items(task.Val)) != ValWords || len(ds.Items(task.Test)) != TestWords {
		t.Fatalf("loaded %d/%d/%d items", len(ds.Train), len(ds.Items(task.Val)), len(ds.Items(task.Test)))
	}
	if ds.Train[0].Label != w.Write(w.Train[0]) {
		t.Fatalf("train label %q, want %q", ds.Train[0].Label, w.Write(w.Train[0]))
	}
	for _, it := range ds.Items(task.Val) {
		if _, ok := it.Fields["script"]; ok {
			t.Fatalf("val item %s carries its answer", it.ID)
		}
	}
	pub := tk.Public()
	for _, f := range []string{"train.jsonl", "val.jsonl", "test.jsonl"} {
		b, err := fs.ReadFile(pub, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range append(append([]string(nil), w.Val...), w.Test...) {
			if strings.Contains(string(b), `"`+w.Write(x)+`"`) {
				t.Fatalf("public/%s holds the answer for held-out word %q", f, x)
			}
		}
	}
	v, err := tk.Verifier(task.Val)
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string]string{}
	for i, it := range ds.Items(task.Val) {
		word := it.Fields["word"].(string)
		switch {
		case i < 10:
			answers[it.ID] = "  " + strings.ToUpper(w.Write(word)) + "\n"
		case i < 15:
			answers[it.ID] = w.careless(word)
		case i < 20:
			answers[it.ID] = "no idea"
		}
	}
	res, err := v.Verify(context.Background(), answers, ds.Gold(task.Val))
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts[verify.StatusCorrect] != 10 || res.Counts[verify.StatusWrong] != 5 || res.Counts[verify.StatusInvalid] != 5 {
		t.Errorf("counts %v", res.Counts)
	}
}

// TestReferenceHarness runs the reference harness on a scripted model: the
// prompt wordings, the retrieved examples, the length filter and voting.
func TestReferenceHarness(t *testing.T) {
	src, err := files.ReadFile("reference/harness.star")
	if err != nil {
		t.Fatal(err)
	}
	train := []task.Example{
		{Item: task.Item{ID: "t1", Fields: map[string]any{"word": "zum"}}, Label: "qip"},
		{Item: task.Item{ID: "t2", Fields: map[string]any{"word": "kavoti"}}, Label: "abcdef"},
		{Item: task.Item{ID: "t3", Fields: map[string]any{"word": "kavo"}}, Label: "abcd"},
	}
	// Five replies for "kavot": two "lmnop", two "lmnoq", one too long.
	replies := []string{"lmnoq", "Lmnop\nmore", "lmnoq", "lmnop", "lmnopqrs"}
	model := llmtest.New("fake", func(_ int, req llm.Request) (*llm.Completion, error) {
		c := &llm.Completion{Model: "fake"}
		for i := 0; i < req.N; i++ {
			c.Choices = append(c.Choices, llm.Choice{Message: llm.Message{Role: "assistant", Content: replies[i%len(replies)]}})
		}
		return c, nil
	})
	tests := []struct {
		name  string
		knobs map[string]any
		want  string
		turns int
		first string
	}{
		{"defaults: arrow, one sample", nil, "lmnoq", 1, "kavot ->"},
		{"tr, five votes: a tie goes to the first seen", map[string]any{"variant": "tr", "n_votes": 5}, "lmnoq", 1, "tr: kavot"},
		{"two shots, most letters shared first", map[string]any{"shots": 2}, "lmnoq", 5, "kavoti ->"},
	}
	rt := starlark.New(starlark.Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := rt.Load(context.Background(), harness.Source{Name: "harness.star", Code: src, Knobs: tt.knobs},
				harness.Env{Model: model, Train: train})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			before := len(model.Calls())
			got, err := h.Solve(context.Background(), task.Item{ID: "v1", Fields: map[string]any{"word": "kavot"}}, harness.Sample{Rec: trajectory.NewRecorder()})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("answer %q, want %q", got, tt.want)
			}
			req := model.Calls()[before]
			if len(req.Messages) != tt.turns {
				t.Fatalf("%d messages, want %d: %+v", len(req.Messages), tt.turns, req.Messages)
			}
			if req.Messages[0].Content != tt.first {
				t.Errorf("first message %q, want %q", req.Messages[0].Content, tt.first)
			}
		})
	}
	decl, err := rt.Inspect(harness.Source{Name: "harness.star", Code: src})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"variant", "shots", "n_votes", "temperature"} {
		if len(decl.Knobs[k]) < 2 {
			t.Errorf("knob %s declares %v", k, decl.Knobs[k])
		}
	}
}
