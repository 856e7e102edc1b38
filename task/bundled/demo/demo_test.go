package demo

import (
	"context"
	"io/fs"
	"strings"
	"testing"

	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/verify"
)

func TestWorldDeterministicAndDisjoint(t *testing.T) {
	a, b := NewWorld(7), NewWorld(7)
	if strings.Join(a.Lexicon, ",") != strings.Join(b.Lexicon, ",") || a.Val[3] != b.Val[3] || a.Test[9] != b.Test[9] {
		t.Fatal("same seed gave different worlds")
	}
	if c := NewWorld(8); strings.Join(c.Lexicon, ",") == strings.Join(a.Lexicon, ",") {
		t.Fatal("different seeds gave the same lexicon")
	}
	if len(a.Train) != TrainWords*TrainPerWord || len(a.Val) != ValWords || len(a.Test) != TestWords {
		t.Fatalf("split sizes %d/%d/%d", len(a.Train), len(a.Val), len(a.Test))
	}
	trainWords := map[string]bool{}
	for _, it := range a.Train {
		trainWords[it.Word] = true
	}
	for _, it := range append(append([]Item(nil), a.Val...), a.Test...) {
		if trainWords[it.Word] {
			t.Errorf("%s: word %q is also a train word", it.ID, it.Word)
		}
	}
}

func TestPatternsHaveExactlyOneAnswer(t *testing.T) {
	w := NewWorld(1)
	hidden := 0
	for _, it := range append(append(append([]Item(nil), w.Train...), w.Val...), w.Test...) {
		n := 0
		for _, word := range w.Lexicon {
			if Fits(it.Pattern, word) {
				n++
			}
		}
		if n != 1 || !Fits(it.Pattern, it.Word) {
			t.Errorf("%s: pattern %q fits %d lexicon words (want exactly %q)", it.ID, it.Pattern, n, it.Word)
		}
		hidden += strings.Count(it.Pattern, string(Mask))
	}
	if hidden == 0 {
		t.Error("no letter is ever hidden")
	}
}

func TestFits(t *testing.T) {
	tests := []struct {
		p, w string
		want bool
	}{
		{"k_rb_l", "korbel", true},
		{"k_rb_l", "karbol", true},
		{"k_rb_l", "korbet", false},
		{"k_rb_l", "korbels", false},
		{"______", "abcdef", true},
		{"", "", true},
	}
	for _, tt := range tests {
		if got := Fits(tt.p, tt.w); got != tt.want {
			t.Errorf("Fits(%q, %q) = %v, want %v", tt.p, tt.w, got, tt.want)
		}
	}
}

func TestCorpusNeverHoldsAHeldOutPattern(t *testing.T) {
	w := NewWorld(3)
	held := w.heldOutPatterns()
	docs := w.Corpus(CorpusOptions{MasksPerWord: 4, ListDocs: 10})
	if len(docs) < len(w.Lexicon)*3 {
		t.Fatalf("corpus has %d documents, want at least %d", len(docs), len(w.Lexicon)*3)
	}
	variants := map[string]int{}
	for _, d := range docs {
		for _, m := range d {
			p := strings.TrimSuffix(strings.TrimPrefix(m.Content, "fill: "), " ?")
			if held[p] {
				t.Fatalf("corpus message %q holds a held-out pattern", m.Content)
			}
		}
		q := d[len(d)-2].Content
		switch {
		case strings.HasPrefix(q, "fill: "):
			variants[VariantFill]++
		case strings.HasSuffix(q, " ?"):
			variants[VariantCloze]++
		}
	}
	if variants[VariantFill] <= variants[VariantCloze] || variants[VariantCloze] == 0 {
		t.Errorf("variant mix %v: want both, fill more often", variants)
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
	if len(ds.Train) != len(w.Train) || len(ds.Items(task.Val)) != ValWords || len(ds.Items(task.Test)) != TestWords {
		t.Fatalf("loaded %d/%d/%d items", len(ds.Train), len(ds.Items(task.Val)), len(ds.Items(task.Test)))
	}
	for _, it := range ds.Items(task.Val) {
		if _, ok := it.Fields["word"]; ok {
			t.Fatalf("val item %s carries its word", it.ID)
		}
	}
	// Public files never hold a val or test word.
	pub := tk.Public()
	for _, f := range []string{"train.jsonl", "val.jsonl", "test.jsonl"} {
		b, err := fs.ReadFile(pub, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range append(append([]Item(nil), w.Val...), w.Test...) {
			if strings.Contains(string(b), `"`+it.Word+`"`) {
				t.Fatalf("public/%s holds held-out word %q", f, it.Word)
			}
		}
	}
	v, err := tk.Verifier(task.Val)
	if err != nil {
		t.Fatal(err)
	}
	gold := ds.Gold(task.Val)
	answers := map[string]string{}
	for i, it := range w.Val {
		switch {
		case i < 10:
			answers[it.ID] = "  " + strings.ToUpper(it.Word) + "\n"
		case i < 15:
			answers[it.ID] = it.Word + "x"
		case i < 20:
			answers[it.ID] = "no idea"
		}
	}
	res, err := v.Verify(context.Background(), answers, gold)
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts[verify.StatusCorrect] != 10 || res.Counts[verify.StatusWrong] != 5 || res.Counts[verify.StatusInvalid] != 5 || res.Counts[verify.StatusMissing] != ValWords-20 {
		t.Errorf("counts %v", res.Counts)
	}
	if want := 10.0 / ValWords; res.Score != want {
		t.Errorf("score %v, want %v", res.Score, want)
	}
	if _, name, err := tk.ReferenceHarness(); err != nil || name == nil {
		t.Errorf("reference harness: %v", err)
	}
}

func TestScorer(t *testing.T) {
	tests := []struct {
		answer, gold, status string
	}{
		{"korbel", "korbel", verify.StatusCorrect},
		{" Korbel\n", "korbel", verify.StatusCorrect},
		{"korbet", "korbel", verify.StatusWrong},
		{"korbe", "korbel", verify.StatusWrong},
		{"", "korbel", verify.StatusInvalid},
		{"kor bel", "korbel", verify.StatusInvalid},
		{"k_rb_l", "korbel", verify.StatusInvalid},
	}
	for _, tt := range tests {
		got := Scorer{}.ScoreItem("x", tt.answer, tt.gold)
		if got.Status != tt.status {
			t.Errorf("ScoreItem(%q) = %s, want %s", tt.answer, got.Status, tt.status)
		}
		if strings.Contains(got.Detail, tt.gold) {
			t.Errorf("detail %q reveals gold", got.Detail)
		}
	}
}
