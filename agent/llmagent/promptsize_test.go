package llmagent

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/docs"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/task/bundled"
	"github.com/sia-agent/sia/verify"
)

// maxFirstPrompt bounds the first request's messages (system + user) of
// the Meta-Agent on every bundled task: below the 29,700–33,500 characters
// of prompt v1, which pasted all of docs/harness.md. Measured sizes are in
// docs/agents.md (go test ./agent/llmagent -run TestPromptSizes -v).
const maxFirstPrompt = 28_000

// TestPromptSizes renders both agents' first prompts for every bundled
// task, with the real docs/harness.md and reference harness, and checks
// that they fit: the task's doc, the API index and the sections the
// reference uses are there in full (the model.chat section whenever the
// harness calls the model), and the other sections are left to read_docs.
func TestPromptSizes(t *testing.T) {
	reg, err := bundled.Registry()
	if err != nil {
		t.Fatal(err)
	}
	b, err := docs.FS.ReadFile(docs.HarnessFile)
	if err != nil {
		t.Fatal(err)
	}
	_, sections := docs.Split(string(b))
	section := func(key string) string {
		s, ok := docs.Find(sections, key)
		if !ok {
			t.Fatalf("no section %s", key)
		}
		return strings.TrimSpace(s.Text)
	}
	full := utf8.RuneCount(b)
	p, err := loadPrompts(PromptVersion)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{}
	cfg.applyDefaults()
	t.Logf("docs/harness.md: %d chars", full)
	t.Logf("%-18s %12s %12s %16s %16s", "task", "meta system", "meta user", "feedback system", "feedback user")
	for _, name := range reg.Names() {
		tk, err := reg.Open(name, task.Options{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := tk.Doc()
		refName, code, err := tk.ReferenceHarness()
		if err != nil {
			t.Fatal(err)
		}
		ref := harness.Source{Name: refName, Code: code}
		meta := agent.MetaInput{TaskName: name, TaskDoc: doc, Reference: ref, Runtime: tk.Spec.Runtime, Docs: docs.FS,
			Measure: newFakeMeasure(t, 1).measure, TrainSize: 500}
		md := newMetaData(&meta, harnessName(ref, tk.Spec.Runtime), cfg)
		fb := sizedFeedbackInput(name, doc, ref)
		fd := newFeedbackData(&fb, harnessName(ref, ""), cfg)
		var sizes []int
		for _, r := range []struct {
			part string
			data any
		}{{promptMetaSystem, md}, {promptMetaUser, md}, {promptFeedbackSystem, fd}, {promptFeedbackUser, fd}} {
			text, err := p.render(r.part, r.data)
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, utf8.RuneCountInString(text))
			if r.part == promptMetaUser || r.part == promptFeedbackUser {
				if !strings.Contains(text, section("api-index")) {
					t.Errorf("%s %s lacks the API index", name, r.part)
				}
				if strings.Contains(string(code), "model.chat") && !strings.Contains(text, section("model")) {
					t.Errorf("%s %s lacks the whole model section", name, r.part)
				}
				if strings.Contains(text, "[truncated") {
					t.Errorf("%s %s is truncated", name, r.part)
				}
			}
		}
		t.Logf("%-18s %12d %12d %16d %16d", name, sizes[0], sizes[1], sizes[2], sizes[3])
		if m := sizes[0] + sizes[1]; m > maxFirstPrompt {
			t.Errorf("%s: the Meta-Agent's first prompt has %d chars; the bound is %d", name, m, maxFirstPrompt)
		}
	}
}

// sizedFeedbackInput is a feedback input of a realistic size: three
// generations, 60 val items of which 40 fail.
func sizedFeedbackInput(name, doc string, inc harness.Source) agent.FeedbackInput {
	var items []verify.ItemResult
	var vals []task.Item
	for i := range 60 {
		id := fmt.Sprintf("v%02d", i)
		st := verify.StatusWrong
		if i%3 == 0 {
			st = verify.StatusCorrect
		}
		items = append(items, verify.ItemResult{ID: id, Status: st, Output: "an answer of a few words", Detail: "gold-free detail"})
		vals = append(vals, task.Item{ID: id, Fields: map[string]any{"question": strings.Repeat("a field of some length ", 6), "group": fmt.Sprint(i % 4)}})
	}
	in := agent.FeedbackInput{TaskName: name, TaskDoc: doc, Mode: agent.ModeAuto, Gen: 3, Current: inc, Incumbent: inc, Higher: true,
		Results: &verify.Result{Metric: "accuracy", Score: 0.33, N: 60, Counts: map[string]int{"correct": 20, "wrong": 40}, Items: items},
		Items:   vals, Stats: rl.Stats{N: 60, Items: 60, SamplesPerItem: 1, SuccessRate: 0.33, Mean: 0.33, Binary: true},
		CanTrain: true, RemainingGens: 3, Docs: docs.FS, GenDir: filepath.Join("x", "gen_4"), Seed: 1}
	enrich(&in)
	return in
}
