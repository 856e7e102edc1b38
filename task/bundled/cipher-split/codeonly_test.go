package ciphersplit

import (
	"strings"
	"testing"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/harness/starlark"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

// codeOnly is a harness that never calls the model: it learns the script of
// every letter a train pair shows, and writes a letter train does not show
// as the first script letter no train letter is written as (the script
// writes different letters differently).
const codeOnly = `
def setup(ctx):
    script = {}
    for ex in ctx.train:
        for i in range(len(ex["word"])):
            script[ex["word"][i]] = ex["label"][i]
    used = {v: True for v in script.values()}
    spare = [c for c in "abcdefghijklmnopqrstuvwxyz".elems() if c not in used]
    return {"script": script, "spare": spare[0]}

def solve(item, state):
    return "".join([state["script"].get(c, state["spare"]) for c in item["word"].elems()])
`

// solveSplit runs a harness over a split of the task and scores it.
func solveSplit(t *testing.T, src harness.Source, env harness.Env, split string) (*verify.Result, *task.Dataset) {
	t.Helper()
	reg, err := task.NewRegistry(Bundle())
	if err != nil {
		t.Fatal(err)
	}
	tk, err := reg.Open(Name, task.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := tk.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	env.Train = ds.Train
	h, err := starlark.New(starlark.Config{}).Load(t.Context(), src, env)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	answers := map[string]string{}
	for i, it := range ds.Items(split) {
		ans, err := h.Solve(t.Context(), it, harness.Sample{Seed: int64(i), Rec: trajectory.NewRecorder()})
		if err != nil {
			t.Fatalf("solve %s: %v", it.ID, err)
		}
		answers[it.ID] = ans
	}
	v, err := tk.Verifier(split)
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(t.Context(), answers, ds.Gold(split))
	if err != nil {
		t.Fatal(err)
	}
	return res, ds
}

// TestCodeAloneIsCapped: a harness that learns in code everything the
// train pairs determine writes every val and test word without an unseen
// letter right, and scores at most 0.6 on test, as does any guess for the
// unseen letters that train allows, in expectation: the unseen letters are
// the model's to write.
func TestCodeAloneIsCapped(t *testing.T) {
	w := NewWorld(0)
	for _, split := range []string{task.Val, task.Test} {
		res, ds := solveSplit(t, harness.Source{Name: "harness.star", Code: []byte(codeOnly)}, harness.Env{}, split)
		words := map[string]string{}
		for _, it := range ds.Items(split) {
			words[it.ID], _ = it.Fields["word"].(string)
		}
		known := 0
		for _, it := range res.Items {
			if w.HasUnseen(words[it.ID]) {
				continue
			}
			known++
			if it.Status != verify.StatusCorrect {
				t.Errorf("%s %s (%q): %s; code should write a word without unseen letters", split, it.ID, words[it.ID], it.Status)
			}
		}
		// Train fixes the script of the letters it shows, and so the
		// script letters they take; an unseen letter is written as one of
		// the others, and train favours none of them. A code-only harness
		// guessing among them (any guess consistent with train, drawn
		// uniformly) writes a word ending in an unseen letter right with
		// chance 1/candidates: its expected score is capped too.
		taken := map[string]bool{}
		for _, ex := range ds.Train {
			for _, c := range ex.Label {
				taken[string(c)] = true
			}
		}
		candidates := 26 - len(taken)
		if want := 26 - len(vowels) - len(w.Shared) - len(w.TrainOnly); candidates != want {
			t.Fatalf("train's labels use %d script letters, want %d (every letter but the unseen ones)", len(taken), 26-want)
		}
		expected := (float64(known) + float64(res.N-known)/float64(candidates)) / float64(res.N)
		t.Logf("code only, %s: accuracy %.4f (%d of %d words hold no unseen letter); a uniform guess among the %d script letters train leaves free: %.4f expected", split, res.Score, known, res.N, candidates, expected)
		if split == task.Test && (res.Score > 0.6 || expected > 0.6) {
			t.Errorf("code alone scores %.4f on test (%.4f expected of a consistent guess), want at most 0.6", res.Score, expected)
		}
	}
}

// TestTaskDocNamesTheFields: task.md names the fields a Starlark harness
// gets — ctx.train rows {"id", "word", "label"} and solve's items {"id",
// "word"} — and a harness that checks them sees exactly those.
func TestTaskDocNamesTheFields(t *testing.T) {
	doc, err := files.ReadFile("task.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"`ctx.train` rows are `{\"id\", \"word\", \"label\"}`", "items `{\"id\", \"word\"}`"} {
		if !strings.Contains(strings.Join(strings.Fields(string(doc)), " "), want) {
			t.Errorf("task.md does not say %s", want)
		}
	}
	const keys = `
def setup(ctx):
    for ex in ctx.train:
        if sorted(ex.keys()) != ["id", "label", "word"]:
            fail("train row keys %s" % sorted(ex.keys()))
    return {}

def solve(item, state):
    if sorted(item.keys()) != ["id", "word"]:
        fail("item keys %s" % sorted(item.keys()))
    return "a" * len(item["word"])
`
	res, _ := solveSplit(t, harness.Source{Name: "harness.star", Code: []byte(keys)}, harness.Env{}, task.Val)
	if res.N != ValWords {
		t.Fatalf("scored %d val items, want %d", res.N, ValWords)
	}
}
