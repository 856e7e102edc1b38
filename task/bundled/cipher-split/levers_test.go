package ciphersplit

import (
	"path/filepath"
	"testing"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/llm/embedded"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/task/bundled/internal/evalkit"
	"github.com/sia-agent/sia/tinylm"
)

// TestLeversCompound measures on test what each lever adds: code alone;
// the same letters in code with the model for the rest (the reference
// harness, letters=train) on the base; that harness on the adapter an auto
// run trained (testdata/auto-adapter, see docs/cipher-split.md); and the
// model alone (letters=model) on that adapter. Model scores are answer
// accuracy over 4 samples per word. The base is the one that ships with
// sia (shippedBase). It skips with
// -short and under the race detector (too slow there).
func TestLeversCompound(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("samples the embedded model on every test word; runs without -short and -race")
	}
	base, _ := shippedBase(t)
	model, err := embedded.New(base, embedded.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ad, err := tinylm.LoadPEFT(filepath.Join("testdata", "auto-adapter"), base)
	if err != nil {
		t.Fatal(err)
	}
	trained := model.WithAdapter(ad, 1)

	code, _ := solveSplit(t, harness.Source{Name: "harness.star", Code: []byte(codeOnly)}, harness.Env{}, task.Test)
	fill := evalkit.New(t, Bundle(), map[string]any{"letters": "train", "variant": "tr", "n_votes": int64(5)})
	alone := evalkit.New(t, Bundle(), map[string]any{"letters": "model", "variant": "tr", "n_votes": int64(5)})
	fillBase, _ := fill.Measure(model, task.Test, 9)
	fillTrained, _ := fill.Measure(trained, task.Test, 9)
	aloneTrained, _ := alone.Measure(trained, task.Test, 9)
	t.Logf("test accuracy: code alone %.3f; code + model (5 votes) on the base %.3f, on the auto run's adapter %.3f; model alone (5 votes) on that adapter %.3f",
		code.Score, fillBase, fillTrained, aloneTrained)
	if !(code.Score < fillBase && fillBase < fillTrained) {
		t.Errorf("want code alone < code + model on the base < code + model on trained weights: %.3f, %.3f, %.3f", code.Score, fillBase, fillTrained)
	}
	if aloneTrained >= fillTrained {
		t.Errorf("the model alone on trained weights (%.3f) matches code + model (%.3f): the harness lever should still be needed", aloneTrained, fillTrained)
	}
}

// madeUp is the loophole docs/cipher-split.md leaves open: the known
// letters in code, and each letter train does not show asked of the model
// first in made-up words (a train word with its first letter replaced),
// where the habit, which is on the last letter, does not reach it.
const madeUp = `
def setup(ctx):
    script = {}
    for ex in ctx.train:
        for i in range(len(ex["word"])):
            script[ex["word"][i]] = ex["label"][i]
    return {"script": script, "words": [ex["word"] for ex in ctx.train[:6]]}

def first_letter(c, state):
    votes = {}
    for w in state["words"]:
        reply = model.chat([{"role": "user", "content": "tr: " + c + w[1:]}], n = 4, temperature = 1.0, max_tokens = 12)
        for t in reply.texts:
            t = t.strip()
            if t:
                votes[t[0]] = votes.get(t[0], 0) + 1
    best = ""
    for k, v in votes.items():
        if best == "" or v > votes[best]:
            best = k
    return best

def solve(item, state):
    out = []
    for c in item["word"].elems():
        out.append(state["script"].get(c) or first_letter(c, state))
    return "".join(out)
`

// TestMadeUpWordsLoophole measures the loophole on the base: a harness
// that never needs a weight update, and what an LLM agent could write. It
// checks the doc's claim that it beats the reference harness's best on the
// base; if a change to the task closes it, update docs/cipher-split.md.
func TestMadeUpWordsLoophole(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("samples the embedded model on every test word; runs without -short and -race")
	}
	base, _ := shippedBase(t)
	model, err := embedded.New(base, embedded.Config{})
	if err != nil {
		t.Fatal(err)
	}
	loophole, _ := solveSplit(t, harness.Source{Name: "harness.star", Code: []byte(madeUp)}, harness.Env{Model: model}, task.Test)
	fill := evalkit.New(t, Bundle(), map[string]any{"letters": "train", "variant": "tr", "n_votes": int64(5)})
	fillBase, _ := fill.Measure(model, task.Test, 9)
	t.Logf("test accuracy on the base: made-up words for the unseen letters %.3f; code + model (5 votes) %.3f", loophole.Score, fillBase)
	if loophole.Score <= fillBase {
		t.Errorf("the made-up-word harness (%.3f) no longer beats code + model on the base (%.3f): the loophole closed; update docs/cipher-split.md", loophole.Score, fillBase)
	}
}
