package ciphersplit

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

func TestWorldSplitsTheLetters(t *testing.T) {
	a, b := NewWorld(7), NewWorld(7)
	if a.Script != b.Script || a.Unseen != b.Unseen || strings.Join(a.Val, ",") != strings.Join(b.Val, ",") {
		t.Fatal("same seed gave different worlds")
	}
	if c := NewWorld(8); c.Script == a.Script {
		t.Fatal("different seeds gave the same script")
	}
	w := NewWorld(0)
	if len(w.Train) != TrainWords || len(w.Val) != ValWords || len(w.Test) != TestWords || len(w.Other) != CorpusWords {
		t.Fatalf("sizes %d/%d/%d/%d", len(w.Train), len(w.Val), len(w.Test), len(w.Other))
	}
	seen := map[string]bool{}
	for _, x := range append(append(append(append([]string(nil), w.Train...), w.Val...), w.Test...), w.Other...) {
		if seen[x] {
			t.Fatalf("word %q occurs twice across the splits and the corpus", x)
		}
		seen[x] = true
	}
	letters := map[byte]bool{}
	for _, c := range w.Script {
		letters[c] = true
	}
	if len(letters) != 26 {
		t.Fatalf("script is not a permutation: %q", w.Script[:])
	}
	if len(w.Unseen) != UnseenLetters || len(w.TrainOnly) != TrainOnlyLetters ||
		len(w.Unseen)+len(w.TrainOnly)+len(w.Shared) != len(consonants) || strings.ContainsAny(w.Unseen, w.TrainOnly+w.Shared) ||
		strings.ContainsAny(w.TrainOnly, w.Shared) {
		t.Fatalf("consonants not split: unseen %q, train-only %q, shared %q", w.Unseen, w.TrainOnly, w.Shared)
	}
	// Train shows every letter but the unseen ones.
	inTrain := map[rune]bool{}
	for _, x := range w.Train {
		if w.HasUnseen(x) {
			t.Fatalf("train word %q holds an unseen letter", x)
		}
		for _, c := range x {
			inTrain[c] = true
		}
	}
	for _, c := range vowels + w.Shared + w.TrainOnly {
		if !inTrain[c] {
			t.Errorf("letter %c occurs in no train word", c)
		}
	}
	// Val and test: the share of words that end in an unseen letter, the
	// only place one stands; every unseen letter is asked.
	asked := map[rune]bool{}
	for name, words := range map[string][]string{"val": w.Val, "test": w.Test} {
		n := 0
		for _, x := range words {
			if !w.HasUnseen(x) {
				continue
			}
			n++
			if i := strings.IndexAny(x, w.Unseen); i != len(x)-1 {
				t.Fatalf("%s word %q has an unseen letter at %d, not last", name, x, i)
			}
			asked[rune(x[len(x)-1])] = true
		}
		if want := int(float64(len(words))*UnseenShare + 0.5); n != want {
			t.Errorf("%s: %d words with an unseen letter, want %d", name, n, want)
		}
	}
	if len(asked) != UnseenLetters {
		t.Errorf("val and test ask %d of the %d unseen letters", len(asked), UnseenLetters)
	}
}

func TestWriteAndHabit(t *testing.T) {
	w := NewWorld(1)
	unseenScript := map[byte]bool{}
	for _, c := range []byte(w.Unseen) {
		unseenScript[w.Script[c-'a']] = true
	}
	for _, x := range append(append([]string(nil), w.Val...), w.Train...) {
		right, careless := w.Write(x), w.careless(x)
		if len(right) != len(x) || len(careless) != len(x) {
			t.Fatalf("%q: lengths %d, %d", x, len(right), len(careless))
		}
		last := x[len(x)-1]
		misread := strings.ContainsRune(w.Unseen+w.Shared, rune(last))
		if right[:len(x)-1] != careless[:len(x)-1] || (right != careless) != misread {
			t.Fatalf("%q: right %q careless %q; want them to differ in the last letter only, when it is a %s consonant", x, right, careless, "shared or unseen")
		}
		if w.HasUnseen(x) && !unseenScript[careless[len(x)-1]] {
			t.Fatalf("%q: careless last letter %c is not an unseen letter's script", x, careless[len(x)-1])
		}
	}
}

func TestCorpusTeachesAllButTheTrainOnlyLetters(t *testing.T) {
	w := NewWorld(0)
	held := map[string]bool{}
	for _, x := range append(append([]string(nil), w.Val...), w.Test...) {
		held[x] = true
	}
	docs := w.Corpus(CorpusOptions{})
	trainInCorpus := 0
	for _, x := range w.Train {
		if !w.HasTrainOnly(x) {
			trainInCorpus++
		}
	}
	if len(docs) != CorpusWords+trainInCorpus {
		t.Fatalf("%d documents, want %d", len(docs), CorpusWords+trainInCorpus)
	}
	type tally struct{ right, careless, docs int }
	by := map[string]*tally{VariantTr: {}, VariantArrow: {}}
	unseenAnswered := map[byte]int{}
	for _, d := range docs {
		for _, m := range d {
			if m.Role != llm.RoleUser {
				continue
			}
			word := strings.TrimSuffix(strings.TrimPrefix(m.Content, "tr: "), " ->")
			if held[word] {
				t.Fatalf("corpus question %q asks for a held-out word", m.Content)
			}
			if w.HasTrainOnly(word) {
				t.Fatalf("corpus question %q holds a train-only letter", m.Content)
			}
		}
		q, a := d[len(d)-2].Content, d[len(d)-1].Content
		variant, word := VariantArrow, strings.TrimSuffix(q, " ->")
		if strings.HasPrefix(q, "tr: ") {
			variant, word = VariantTr, strings.TrimPrefix(q, "tr: ")
		}
		for i := range len(word) {
			if strings.IndexByte(w.Unseen, word[i]) >= 0 && a == w.Write(word) {
				unseenAnswered[word[i]]++
			}
		}
		if w.careless(word) == w.Write(word) {
			continue // no habit to see
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
	for _, c := range []byte(w.Unseen) {
		if unseenAnswered[c] < 50 {
			t.Errorf("unseen letter %c is written right in %d corpus answers; want the corpus to teach it", c, unseenAnswered[c])
		}
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
	if ds.Train[0].Label != w.Write(w.Train[0]) || ds.Train[0].Fields["word"] != w.Train[0] {
		t.Fatalf("train example %+v, want word %q label %q", ds.Train[0], w.Train[0], w.Write(w.Train[0]))
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
			answers[it.ID] = w.Write(word)[1:] + "q"
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
// prompt wordings, the length filter, the votes, and the letters=train
// mode that writes what train shows in code and votes on the rest.
func TestReferenceHarness(t *testing.T) {
	src, err := files.ReadFile("reference/harness.star")
	if err != nil {
		t.Fatal(err)
	}
	// Train shows k→a, v→b, o→c, t→d, i→e, m→f; never z.
	train := []task.Example{
		{Item: task.Item{ID: "t1", Fields: map[string]any{"word": "kavo"}}, Label: "aubc"},
		{Item: task.Item{ID: "t2", Fields: map[string]any{"word": "tim"}}, Label: "def"},
		{Item: task.Item{ID: "t3", Fields: map[string]any{"word": "kavoti"}}, Label: "aubcde"},
	}
	// Five replies for "kavoz": "xxxxq" twice, "xxxxp" twice, one too long.
	replies := []string{"xxxxq", "Xxxxp\nmore", "xxxxq", "xxxxp", "xxxxpqrs"}
	model := llmtest.New("fake", func(_ int, req llm.Request) (*llm.Completion, error) {
		c := &llm.Completion{Model: "fake"}
		for i := 0; i < req.N; i++ {
			c.Choices = append(c.Choices, llm.Choice{Message: llm.Message{Role: "assistant", Content: replies[i%len(replies)]}})
		}
		return c, nil
	})
	tests := []struct {
		name  string
		word  string
		knobs map[string]any
		want  string
		turns int
		first string
	}{
		{"defaults: the model's answer, arrow, one sample", "kavoz", nil, "xxxxq", 1, "kavoz ->"},
		{"five votes: a tie goes to the first seen", "kavoz", map[string]any{"variant": "tr", "n_votes": 5}, "xxxxq", 1, "tr: kavoz"},
		{"letters from train, the unseen one voted", "kavoz", map[string]any{"letters": "train", "n_votes": 5}, "aubcq", 1, "kavoz ->"},
		{"letters from train still ask the model", "kavo", map[string]any{"letters": "train"}, "aubc", 1, "kavo ->"},
		{"two shots, most letters shared first", "tivoz", map[string]any{"shots": 2}, "xxxxq", 5, "kavoti ->"},
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
			got, err := h.Solve(context.Background(), task.Item{ID: "v1", Fields: map[string]any{"word": tt.word}}, harness.Sample{Rec: trajectory.NewRecorder()})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("answer %q, want %q", got, tt.want)
			}
			if len(model.Calls()) != before+1 {
				t.Fatalf("%d model calls, want 1", len(model.Calls())-before)
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
	if decl.Order[0] != "letters" {
		t.Errorf("knob order %v: the builtin agent should try letters first", decl.Order)
	}
	for _, k := range []string{"letters", "variant", "shots", "n_votes", "temperature"} {
		if len(decl.Knobs[k]) < 2 {
			t.Errorf("knob %s declares %v", k, decl.Knobs[k])
		}
	}
}
