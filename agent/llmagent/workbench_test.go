package llmagent

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sia-agent/sia/agent/measure"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

// newTestBench opens a workspace holding code (and knobs) over fm.
func newTestBench(t *testing.T, fm *fakeMeasure, code string, knobs string) (*bench, string) {
	t.Helper()
	dir := t.TempDir()
	ws, err := openWorkspace(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	if err := ws.WriteFile(StarlarkFile, []byte(code)); err != nil {
		t.Fatal(err)
	}
	if knobs != "" {
		if err := ws.WriteFile(KnobsFile, []byte(knobs)); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Config{Model: scripted(t)}
	cfg.applyDefaults()
	return newBench(ws, StarlarkFile, fm.measure, len(fm.train), cfg, 3), dir
}

func runTool(t *testing.T, tl Tool, args any) (string, error) {
	t.Helper()
	b, _ := json.Marshal(args)
	return tl.Run(t.Context(), b)
}

func TestMeasureHarnessBudgetAndFailures(t *testing.T) {
	fm := newFakeMeasure(t, 40)
	b, _ := newTestBench(t, fm, "def solve(item):\n    return 'blah'\n", "")
	b.budget = 50
	out, err := runTool(t, measureTool(b), map[string]int{"folds": 4, "items": 20})
	if err != nil {
		t.Fatal(err)
	}
	var m measureAnswer
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	if m.Score != 0 || m.N != 20 || m.Counts[verify.StatusWrong] != 20 || len(m.Failures) != maxShownFailures || m.MoreFailed != 12 ||
		m.Budget.ItemSolvesLeft != 30 || m.Cost.ItemSolves != 20 || m.Seed != 3 {
		t.Errorf("measurement %+v", m)
	}
	if got := m.PerFold[0].SetupLog; len(got) != 1 || got[0] != "setup saw 35 train rows" {
		t.Errorf("setup log of fold 0: %q", got)
	}
	// Asking for more than is left is refused before anything runs.
	if _, err := runTool(t, measureTool(b), map[string]int{"folds": 2, "items": 31}); err == nil || !strings.Contains(err.Error(), "30 are left") {
		t.Errorf("over budget: %v", err)
	}
	if len(fm.reqs) != 1 {
		t.Errorf("%d measurements ran, want 1", len(fm.reqs))
	}
	// Without items, the measurement takes what the budget allows.
	if _, err := runTool(t, measureTool(b), map[string]int{"folds": 2}); err != nil {
		t.Fatal(err)
	}
	if fm.reqs[1].Items != 30 || b.left().ItemSolvesLeft != 0 {
		t.Errorf("default items %d, left %d", fm.reqs[1].Items, b.left().ItemSolvesLeft)
	}
	if _, err := runTool(t, measureTool(b), map[string]any{"folds": 2, "bogus": 1}); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("unknown argument: %v", err)
	}
}

// TestSearchKnobsRanksPairedSettings checks that search_knobs measures the
// current setting and each one-knob change on the same items and ranks them
// by score with paired gains.
func TestSearchKnobsRanksPairedSettings(t *testing.T) {
	fm := newFakeMeasure(t, 30)
	code := "KNOBS = {\"parse\": [\"none\", \"extract\"], \"votes\": [1, 3]}\ndef solve(item):\n    return 'x'\n"
	b, _ := newTestBench(t, fm, code, "")
	b.declared = map[string][]any{"parse": {"none", "extract"}, "votes": {int64(1), int64(3)}}
	out, err := runTool(t, searchKnobsTool(b), map[string]any{"folds": 2, "items": 10})
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Split  string          `json:"split"`
		Items  int             `json:"items"`
		Ranked []candidateView `json:"ranked"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Split != "train" || res.Items != 10 || len(res.Ranked) != 3 {
		t.Fatalf("search %s", out)
	}
	changed := map[string]bool{}
	for _, c := range res.Ranked {
		changed[c.Changed] = true
	}
	for _, want := range []string{"(current)", `parse="extract"`, "votes=3"} {
		if !changed[want] {
			t.Errorf("search did not try %s: %s", want, out)
		}
	}
	if len(fm.reqs) != 3 {
		t.Fatalf("%d measurements", len(fm.reqs))
	}
	for _, r := range fm.reqs {
		if r != fm.reqs[0] {
			t.Errorf("settings measured on different requests: %+v vs %+v", r, fm.reqs[0])
		}
	}
	if got := fm.seen[1].Knobs["parse"]; got != "extract" {
		t.Errorf("second setting's knobs %v", fm.seen[1].Knobs)
	}
	if _, err := runTool(t, searchKnobsTool(b), map[string]any{"space": map[string][]any{"votes": {}}}); err == nil {
		t.Error("an empty candidate list was accepted")
	}
	b.declared = nil
	if _, err := runTool(t, searchKnobsTool(b), map[string]any{}); err == nil || !strings.Contains(err.Error(), "no knobs") {
		t.Errorf("no space: %v", err)
	}
}

func TestSearchKnobsGainsArePaired(t *testing.T) {
	fm := newFakeMeasure(t, 30)
	// "extract" in the knob's value reaches the fake through src.Knobs: the
	// fake keys on the code, so put the switch in the code and the knob.
	code := "KNOBS = {\"parse\": [\"none\", \"letter\"]}\ndef solve(item):\n    return 'x'\n"
	b, _ := newTestBench(t, fm, code, "")
	b.declared = map[string][]any{"parse": {"none", "letter"}}
	orig := b.measure
	b.measure = func(ctx context.Context, src harness.Source, req measure.Request) (*measure.Result, error) {
		if src.Knobs["parse"] == "letter" {
			src.Code = append([]byte("# extract\n"), src.Code...)
		}
		return orig(ctx, src, req)
	}
	out, err := runTool(t, searchKnobsTool(b), map[string]any{"space": map[string][]any{"parse": {"none", "letter"}}, "folds": 2, "items": 8})
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Ranked []candidateView `json:"ranked"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	top := res.Ranked[0]
	if top.Changed != `parse="letter"` || top.Score != 1 || top.Gain != 1 || top.Wins != 8 || top.GainSE != 0 {
		t.Errorf("top setting %+v\n%s", top, out)
	}
	if len(res.Ranked) != 2 {
		t.Errorf("the declared first candidate was measured again as a change: %s", out)
	}
}

func TestDeleteFileTool(t *testing.T) {
	dir := t.TempDir()
	ws, err := openWorkspace(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.WriteFile(KnobsFile, []byte(`{"a": 1}`)); err != nil {
		t.Fatal(err)
	}
	del := toolByName(t, fileTools(ws), ToolDeleteFile)
	if out, err := runTool(t, del, map[string]string{"path": KnobsFile}); err != nil || out != "deleted knobs.json" {
		t.Errorf("delete: %q %v", out, err)
	}
	if _, err := os.Stat(filepath.Join(dir, KnobsFile)); !os.IsNotExist(err) {
		t.Errorf("knobs.json still there: %v", err)
	}
	if out, err := runTool(t, del, map[string]string{"path": KnobsFile}); err != nil || !strings.Contains(out, "does not exist") {
		t.Errorf("second delete: %q %v", out, err)
	}
	if _, err := runTool(t, del, map[string]string{"path": "../x"}); err == nil {
		t.Error("deleted outside the workspace")
	}
}

// TestReadTrajectoriesPagesWithoutDropping builds a rollout with many long
// model calls and checks that paging by step_offset shows every step once,
// and that filters by field and answer select the right rollouts.
func TestReadTrajectoriesPagesWithoutDropping(t *testing.T) {
	long := strings.Repeat("a few-shot example with some words. ", 30)
	shots := []llm.Message{{Role: llm.RoleSystem, Content: "You answer."}}
	for i := range 4 {
		shots = append(shots, llm.Message{Role: llm.RoleUser, Content: fmt.Sprintf("shot %d: %s", i, long)},
			llm.Message{Role: llm.RoleAssistant, Content: "B"})
	}
	var steps []trajectory.Step
	for i := range 40 {
		msgs := append(append([]llm.Message(nil), shots...), llm.Message{Role: llm.RoleUser, Content: fmt.Sprintf("question try %d", i)})
		steps = append(steps, trajectory.Step{Kind: trajectory.KindModel, Messages: msgs, Completion: fmt.Sprintf("reply %d", i)},
			trajectory.Step{Kind: trajectory.KindLog, Text: fmt.Sprintf("log %d", i)})
	}
	src := &rolloutSource{Name: "val", Trajs: []trajectory.Trajectory{
		{Item: "a", Status: verify.StatusWrong, Answer: "C", Steps: steps},
		{Item: "b", Status: verify.StatusCorrect, Answer: "B"},
		{Item: "c", Status: verify.StatusWrong, Answer: "D"},
	}, Fields: map[string]map[string]any{"a": {"topic": "law"}, "b": {"topic": "law"}, "c": {"topic": "math"}}}
	b := &bench{sources: []*rolloutSource{src}}

	seen := map[int]bool{}
	off := 0
	for page := 0; ; page++ {
		if page > 50 {
			t.Fatal("paging does not end")
		}
		out, err := b.readTrajectories(trajArgs{Item: "a", StepOffset: off})
		if err != nil {
			t.Fatal(err)
		}
		if len(out) > maxPageBytes+2000 {
			t.Fatalf("page of %d bytes", len(out))
		}
		var p trajPage
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatal(err)
		}
		r := p.Rollouts[0]
		for _, s := range r.Steps {
			if seen[s.Step] {
				t.Fatalf("step %d shown twice", s.Step)
			}
			seen[s.Step] = true
		}
		if page == 0 {
			first := r.Steps[0]
			if len(first.Messages) != 10 || first.Messages[1].Content == "" {
				t.Fatalf("first model call shows %d messages", len(first.Messages))
			}
			if s2 := r.Steps[2]; s2.SameMessagesAs == nil || *s2.SameMessagesAs != 0 || s2.SamePrefix != 9 || len(s2.Messages) != 1 {
				t.Errorf("second call repeats the shots: %+v", s2)
			}
		}
		if r.NextStep == nil {
			break
		}
		off = *r.NextStep
	}
	if len(seen) != 80 {
		t.Errorf("%d of 80 steps shown", len(seen))
	}

	tests := []struct {
		args trajArgs
		want string
	}{
		{trajArgs{Field: "topic", Value: "law"}, "a,b"},
		{trajArgs{Field: "topic", Value: "law", Filter: "failed"}, "a"},
		{trajArgs{Field: "answer", Value: "D"}, "c"},
		{trajArgs{Filter: "correct"}, "b"},
		{trajArgs{Offset: 1, N: 1}, "b"},
	}
	for _, tt := range tests {
		out, err := b.readTrajectories(tt.args)
		if err != nil {
			t.Fatal(err)
		}
		var p trajPage
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range p.Rollouts {
			ids = append(ids, r.Item)
		}
		if got := strings.Join(ids, ","); got != tt.want {
			t.Errorf("%+v: %s, want %s", tt.args, got, tt.want)
		}
	}
	if _, err := b.readTrajectories(trajArgs{Source: "m9"}); err == nil || !strings.Contains(err.Error(), "have: val") {
		t.Errorf("unknown source: %v", err)
	}
	if _, err := b.readTrajectories(trajArgs{Field: "topic"}); err == nil {
		t.Error("field without value accepted")
	}
}

func TestFailureClusters(t *testing.T) {
	var rows []clusterRow
	for i := range 100 {
		planet := []string{"Earth", "Europa", "Mars", "Earth"}[i%4]
		age := fmt.Sprint(i)
		failed := planet == "Europa" || (i%10 == 0)
		rows = append(rows, clusterRow{Fields: map[string]any{"HomePlanet": planet, "Age": age, "Name": fmt.Sprintf("n%d", i)}, Answer: "False", Failed: failed})
	}
	overall, cs := failureClusters(rows)
	if overall != 0.35 {
		t.Errorf("overall %v", overall)
	}
	if len(cs) == 0 || cs[0].Field != "HomePlanet" || cs[0].Value != "Europa" || cs[0].Failed != 25 || cs[0].Items != 25 {
		t.Fatalf("clusters %+v", cs)
	}
	for _, c := range cs {
		if c.Field == "Name" {
			t.Errorf("free-text field clustered: %+v", c)
		}
		if c.Field == "answer" {
			t.Errorf("an answer every item shares is a cluster: %+v", c)
		}
	}
	if _, cs := failureClusters(rows[:0]); cs != nil {
		t.Error("clusters of nothing")
	}
	// Twelve numeric values are binned too: the large ones fail.
	var small []clusterRow
	for x := range 12 {
		small = append(small, clusterRow{Fields: map[string]any{"x": fmt.Sprint(20 + 2*x)}, Answer: fmt.Sprint(x), Failed: x >= 8})
	}
	if _, cs := failureClusters(small); len(cs) == 0 || cs[0].Field != "x" || cs[0].Value != "≥ 38" || cs[0].Failed != 3 {
		t.Errorf("small numeric clusters %+v", cs)
	}
}

func TestPromptCarriesTheSubsectionsUsed(t *testing.T) {
	sec := "## `ml`: machine learning\n\nIntro.\n\n### Trees\n\n**`ml.gbt(rows, y)`** fits trees.\n\n### Text\n\n**`ml.text_classifier(texts, labels)`** fits text.\n\n### Eval\n\n| `ml.kfold(n, k=5)` | folds |\n"
	got, partial := usedParts(sec, []string{"ml.gbt", "ml.kfold"})
	if !partial || !strings.Contains(got, "fits trees") || !strings.Contains(got, "| folds |") || strings.Contains(got, "fits text") || !strings.Contains(got, "Intro.") {
		t.Errorf("partial %v:\n%s", partial, got)
	}
	if got, partial := usedParts(sec, []string{"ml.gbt", "ml.kfold", "ml.text_classifier"}); partial || got != sec {
		t.Errorf("a section whose every part is used was cut: %q", got)
	}
}
