package llmagent

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/agent/measure"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/llmtest"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

const referenceStar = "KNOBS = {\"style\": [\"short\", \"long\"]}\n\ndef solve(item):\n    return model.chat([{\"role\": \"user\", \"content\": item[\"question\"]}])\n"

// fakeMeasure is a MeasureFunc over the real fold planner with a fake
// evaluator: a harness whose code says "syntax error" fails to load, one
// that says "extract" answers every train item correctly, others answer
// "blah". It records the requests and sources it saw, and checks that no
// fold sets up on a label it solves.
type fakeMeasure struct {
	t     *testing.T
	train []task.Example
	mu    sync.Mutex
	seen  []harness.Source
	reqs  []measure.Request
}

func newFakeMeasure(t *testing.T, n int) *fakeMeasure {
	f := &fakeMeasure{t: t}
	for i := range n {
		id := fmt.Sprintf("t%02d", i)
		f.train = append(f.train, task.Example{Item: task.Item{ID: id, Fields: map[string]any{"question": "Q" + id, "topic": []string{"law", "math"}[i%2]}}, Label: "B"})
	}
	return f
}

func (f *fakeMeasure) measure(ctx context.Context, src harness.Source, req measure.Request) (*measure.Result, error) {
	f.mu.Lock()
	f.seen = append(f.seen, src)
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	return measure.Run(ctx, f.eval, src, f.train, req)
}

func (f *fakeMeasure) eval(_ context.Context, src harness.Source, fold measure.Fold, samples, _ int) (*measure.FoldRun, error) {
	solving := map[string]bool{}
	for _, it := range fold.Solve {
		solving[it.ID] = true
	}
	for _, ex := range fold.Train {
		if solving[ex.ID] {
			f.t.Errorf("fold %d set up on the label of %s", fold.Index, ex.ID)
		}
	}
	run := &measure.FoldRun{SetupLog: []string{fmt.Sprintf("setup saw %d train rows", len(fold.Train))}}
	code := string(src.Code)
	if strings.Contains(code, "syntax error") {
		run.SetupError = "harness.star:3:1: got newline, want expression"
		return run, nil
	}
	for _, it := range fold.Solve {
		for k := range samples {
			tr := trajectory.Trajectory{Item: it.ID, Sample: k, Answer: "blah", Status: verify.StatusWrong,
				Steps: []trajectory.Step{{Kind: trajectory.KindLog, Text: "no letter in blah"}}}
			if strings.Contains(code, "extract") {
				tr.Answer, tr.Status, tr.Reward, tr.Steps = "B", verify.StatusCorrect, 1, nil
			}
			run.Trajectories = append(run.Trajectories, tr)
		}
	}
	return run, nil
}

func metaInput(t *testing.T, fm *fakeMeasure) agent.MetaInput {
	t.Helper()
	in := agent.MetaInput{
		TaskName:  "mcq",
		TaskDoc:   "Answer each multiple-choice question with one letter.",
		Reference: harness.Source{Name: StarlarkFile, Code: []byte(referenceStar), Knobs: map[string]any{"style": "short"}},
		Runtime:   "starlark",
		GenDir:    filepath.Join(t.TempDir(), "gen_1"),
		Public:    fstest.MapFS{"train.csv": {Data: []byte("id,question\n1,Q?\n")}},
		Docs:      fstest.MapFS{"harness.md": {Data: []byte(testHarnessDoc)}},
	}
	if fm != nil {
		in.Measure, in.TrainSize = fm.measure, len(fm.train)
	}
	return in
}

// testHarnessDoc is a small harness reference in the real one's shape.
const testHarnessDoc = "# Harness API\n\nIntro.\n\n## API index\n\n`model.chat`: `model`; `ml.gbt`: `ml`\n\n## Harness file\n\nsolve(item).\n\n" +
	"## `model`: the task model\n\nmodel.chat(messages) returns the reply text.\n\n## `ml`: machine learning\n\nml.gbt(rows, y) fits trees.\n"

const improvedStar = "def solve(item):\n    reply = model.chat([{\"role\": \"user\", \"content\": item[\"question\"]}])\n    return extract(reply)\n"

func TestMetaSession(t *testing.T) {
	fm := newFakeMeasure(t, 30)
	in := metaInput(t, fm)
	m := scripted(t,
		turn("Let me look.", call("1", ToolListDir, map[string]string{"path": "."}), call("2", ToolReadFile, map[string]string{"path": "docs/harness.md"})),
		turn("", call("3", ToolReadFile, map[string]string{"path": "../../etc/passwd"})),
		turn("", call("4", ToolWriteFile, map[string]string{"path": StarlarkFile, "content": "def solve(item):\n  syntax error\n"}), call("5", ToolRunHarness, map[string]int{"n_items": 3})),
		turn("", call("6", ToolWriteFile, map[string]string{"path": StarlarkFile, "content": improvedStar}),
			call("7", ToolWriteFile, map[string]string{"path": KnobsFile, "content": `{"style": "long"}`}),
			call("8", ToolRunHarness, map[string]int{"n_items": 500})),
		turn("", call("9", ToolMeasureHarness, map[string]int{"folds": 3, "items": 12, "seed": 4}),
			call("10", ToolReadDocs, map[string]string{"section": "ml"}),
			call("11", ToolReadTrajectories, map[string]any{"source": "m2", "n": 2, "offset": 3})),
		turn("I added answer extraction."),
	)
	var events []Event
	meta, err := NewMeta(Config{Model: m, OnEvent: func(e Event) { events = append(events, e) }})
	if err != nil {
		t.Fatal(err)
	}
	src, err := meta.Initial(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if src.Name != StarlarkFile || string(src.Code) != improvedStar || src.Knobs["style"] != "long" {
		t.Fatalf("source %s %q %v", src.Name, src.Code, src.Knobs)
	}
	onDisk, _ := os.ReadFile(filepath.Join(in.GenDir, StarlarkFile))
	if string(onDisk) != improvedStar {
		t.Errorf("gen dir holds %q", onDisk)
	}

	calls := m.Calls()
	if len(calls) != 6 {
		t.Fatalf("%d model calls, want 6", len(calls))
	}
	first := calls[0]
	if first.Messages[0].Role != llm.RoleSystem || !strings.Contains(first.Messages[0].Content, "Meta-Agent") {
		t.Errorf("system prompt: %.200q", first.Messages[0].Content)
	}
	user := first.Messages[1].Content
	for _, want := range []string{in.TaskDoc, "return model.chat", "# Harness API", `"style": "short"`, "model.chat(messages) returns",
		"## API index", "read_docs(section) reads the others: ml"} {
		if !strings.Contains(user, want) {
			t.Errorf("user prompt lacks %q", want)
		}
	}
	if strings.Contains(user, "fits trees") {
		t.Error("the prompt carries the ml section, which the harness does not use")
	}
	offered := map[string]bool{}
	for _, tl := range first.Tools {
		offered[tl.Name] = true
	}
	for _, name := range []string{ToolListDir, ToolReadFile, ToolWriteFile, ToolEditFile, ToolDeleteFile, ToolReadDocs, ToolRunHarness,
		ToolMeasureHarness, ToolSearchKnobs, ToolReadTrajectories} {
		if !offered[name] {
			t.Errorf("tool %s not offered", name)
		}
	}
	if offered[ToolSubmitDecision] || offered[ToolRewardStats] {
		t.Error("meta agent offered feedback tools")
	}

	r := toolResults(calls[1])
	if !strings.Contains(r["1"], "harness.star") || !strings.Contains(r["1"], "docs/") || !strings.Contains(r["1"], "knobs.json") {
		t.Errorf("list_dir: %q", r["1"])
	}
	if !strings.Contains(r["2"], "model.chat(messages)") {
		t.Errorf("read docs: %q", r["2"])
	}
	if got := toolResults(calls[2])["3"]; !strings.HasPrefix(got, "error:") || !strings.Contains(got, "leaves the workspace") {
		t.Errorf("escape attempt answered %q", got)
	}
	var broken tryAnswer
	if err := json.Unmarshal([]byte(toolResults(calls[3])["5"]), &broken); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(broken.SetupError, "got newline") || broken.Counts[verify.StatusError] != 3 {
		t.Errorf("run_harness of broken code: %+v", broken)
	}
	var rep tryAnswer
	if err := json.Unmarshal([]byte(toolResults(calls[4])["8"]), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.N != 20 || rep.Counts[verify.StatusCorrect] != 20 || rep.Note == "" || rep.HarnessSHA != src.SHA() || rep.ID != "m2" {
		t.Errorf("run_harness report %+v", rep)
	}
	// run_harness(n) solves the first n train items, in order.
	for i, it := range rep.Items {
		if want := fmt.Sprintf("t%02d", i); it.ID != want || it.Fields["question"] != "Q"+want {
			t.Fatalf("run_harness item %d is %s %v, want %s", i, it.ID, it.Fields, want)
		}
	}
	if got := rep.SetupLog; len(got) != 1 || got[0] != "setup saw 10 train rows" {
		t.Errorf("run_harness setup log %q", got)
	}
	var meas measureAnswer
	if err := json.Unmarshal([]byte(toolResults(calls[5])["9"]), &meas); err != nil {
		t.Fatal(err)
	}
	if meas.N != 12 || meas.Folds != 3 || meas.Score != 1 || meas.SE != 0 || meas.Split != "train" || meas.ID != "m3" ||
		len(meas.PerFold) != 3 || meas.PerFold[0].Train != 26 || meas.Budget.ItemSolvesLeft != defaultMeasureBudget-3-20-12 {
		t.Errorf("measure_harness %+v", meas)
	}
	if got := toolResults(calls[5])["10"]; !strings.Contains(got, "fits trees") {
		t.Errorf("read_docs(ml) = %q", got)
	}
	var page trajPage
	if err := json.Unmarshal([]byte(toolResults(calls[5])["11"]), &page); err != nil {
		t.Fatal(err)
	}
	if page.Source != "m2" || page.Matching != 20 || len(page.Rollouts) != 2 || page.Rollouts[0].Item != "t03" ||
		page.NextOffset == nil || *page.NextOffset != 5 || page.Rollouts[0].Fields["topic"] != "math" {
		t.Errorf("read_trajectories page %+v", page)
	}
	if len(fm.reqs) != 3 || fm.reqs[0].Items != 3 || !fm.reqs[0].First || fm.reqs[1].Items != 20 || fm.seen[1].Knobs["style"] != "long" {
		t.Errorf("measure saw %+v", fm.reqs)
	}

	var final, toolResultsSeen int
	for _, e := range events {
		if e.Role != RoleMeta {
			t.Fatalf("event role %q", e.Role)
		}
		switch e.Kind {
		case EventFinal:
			final++
		case EventToolResult:
			toolResultsSeen++
		}
	}
	if final != 1 || toolResultsSeen != 11 {
		t.Errorf("events: %d final, %d tool results", final, toolResultsSeen)
	}
}

func TestMetaTurnLimitKeepsWrittenHarness(t *testing.T) {
	in := metaInput(t, nil)
	m := llmtest.New("busy", func(i int, _ llm.Request) (*llm.Completion, error) {
		if i == 0 {
			return turn("", call("w", ToolWriteFile, map[string]string{"path": StarlarkFile, "content": improvedStar})), nil
		}
		return turn("", call("l", ToolListDir, map[string]string{"path": "."})), nil
	})
	var limited bool
	meta, err := NewMeta(Config{Model: m, MaxTurns: 4, OnEvent: func(e Event) { limited = limited || e.Kind == EventLimit }})
	if err != nil {
		t.Fatal(err)
	}
	src, err := meta.Initial(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if string(src.Code) != improvedStar || !limited || len(m.Calls()) != 4 {
		t.Errorf("code %q, limit event %v, %d calls", src.Code, limited, len(m.Calls()))
	}
	for _, tl := range m.Calls()[0].Tools {
		if tl.Name == ToolRunHarness || tl.Name == ToolMeasureHarness {
			t.Errorf("%s offered without a MeasureFunc", tl.Name)
		}
	}
}

func TestMetaErrors(t *testing.T) {
	tests := []struct {
		name    string
		modify  func(*agent.MetaInput)
		script  []*llm.Completion
		errPart string
	}{
		{"model fails", func(*agent.MetaInput) {}, nil, "script has 0 turns"},
		{"no reference and nothing written", func(in *agent.MetaInput) { in.Reference = harness.Source{} }, []*llm.Completion{turn("done")}, "no usable harness"},
		{"bad knobs.json", func(*agent.MetaInput) {},
			[]*llm.Completion{turn("", call("k", ToolWriteFile, map[string]string{"path": KnobsFile, "content": "[1,2]"})), turn("done")}, "JSON object"},
		{"no gen dir", func(in *agent.MetaInput) { in.GenDir = "" }, nil, "generation folder is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := metaInput(t, nil)
			tt.modify(&in)
			meta, err := NewMeta(Config{Model: scripted(t, tt.script...)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = meta.Initial(t.Context(), in)
			if err == nil || !strings.Contains(err.Error(), tt.errPart) {
				t.Fatalf("err %v, want %q", err, tt.errPart)
			}
		})
	}
}

func TestMetaPythonRuntimeName(t *testing.T) {
	in := metaInput(t, nil)
	in.Runtime, in.Reference = "python", harness.Source{}
	code := "import sys\nprint('ok')\n"
	m := scripted(t, turn("", call("w", ToolWriteFile, map[string]string{"path": PythonFile, "content": code})), turn("done"))
	meta, err := NewMeta(Config{Model: m})
	if err != nil {
		t.Fatal(err)
	}
	src, err := meta.Initial(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if src.Name != PythonFile || string(src.Code) != code {
		t.Errorf("source %s %q", src.Name, src.Code)
	}
	if sys := m.Calls()[0].Messages[0].Content; !strings.Contains(sys, "python3 target_agent.py") {
		t.Errorf("python system prompt: %.300q", sys)
	}
}

func TestNewConfigErrors(t *testing.T) {
	if _, err := NewMeta(Config{}); err == nil {
		t.Error("NewMeta without a model succeeded")
	}
	if _, err := NewFeedback(Config{Model: scripted(t), MaxTurns: 1}); err == nil {
		t.Error("NewFeedback with one turn succeeded")
	}
	if _, err := NewMeta(Config{Model: scripted(t), PromptVersion: "v999"}); err == nil {
		t.Error("unknown prompt version loaded")
	}
}
