package llmagent

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/llmtest"
	"github.com/sia-agent/sia/verify"
)

const referenceStar = "KNOBS = {\"style\": [\"short\", \"long\"]}\n\ndef solve(item):\n    return model.chat([{\"role\": \"user\", \"content\": item[\"question\"]}])\n"

// fakeTry records the harnesses it was asked to run and answers every item
// with status by the code's content: "extract" in the code makes them correct.
type fakeTry struct {
	mu   sync.Mutex
	seen []harness.Source
	ns   []int
}

func (f *fakeTry) try(_ context.Context, src harness.Source, n int) ([]verify.ItemResult, error) {
	f.mu.Lock()
	f.seen = append(f.seen, src)
	f.ns = append(f.ns, n)
	f.mu.Unlock()
	if strings.Contains(string(src.Code), "syntax error") {
		return nil, errors.New("harness.star:3:1: got newline, want expression")
	}
	out := make([]verify.ItemResult, n)
	for i := range out {
		out[i] = verify.ItemResult{ID: string(rune('a' + i)), Status: verify.StatusWrong, Output: "blah", Detail: "no letter found"}
		if strings.Contains(string(src.Code), "extract") {
			out[i].Status, out[i].Reward, out[i].Output, out[i].Detail = verify.StatusCorrect, 1, "B", ""
		}
	}
	return out, nil
}

func metaInput(t *testing.T, try agent.TryFunc) agent.MetaInput {
	t.Helper()
	return agent.MetaInput{
		TaskName:  "mcq",
		TaskDoc:   "Answer each multiple-choice question with one letter.",
		Reference: harness.Source{Name: StarlarkFile, Code: []byte(referenceStar), Knobs: map[string]any{"style": "short"}},
		Runtime:   "starlark",
		GenDir:    filepath.Join(t.TempDir(), "gen_1"),
		Try:       try,
		Public:    fstest.MapFS{"train.csv": {Data: []byte("id,question\n1,Q?\n")}},
		Docs:      fstest.MapFS{"harness.md": {Data: []byte("# Harness API\n\nmodel.chat(messages) returns the reply text.\n")}},
	}
}

const improvedStar = "def solve(item):\n    reply = model.chat([{\"role\": \"user\", \"content\": item[\"question\"]}])\n    return extract(reply)\n"

func TestMetaSession(t *testing.T) {
	ft := &fakeTry{}
	in := metaInput(t, ft.try)
	m := scripted(t,
		turn("Let me look.", call("1", ToolListDir, map[string]string{"path": "."}), call("2", ToolReadFile, map[string]string{"path": "docs/harness.md"})),
		turn("", call("3", ToolReadFile, map[string]string{"path": "../../etc/passwd"})),
		turn("", call("4", ToolWriteFile, map[string]string{"path": StarlarkFile, "content": "def solve(item):\n  syntax error\n"}), call("5", ToolRunHarness, map[string]int{"n_items": 3})),
		turn("", call("6", ToolWriteFile, map[string]string{"path": StarlarkFile, "content": improvedStar}),
			call("7", ToolWriteFile, map[string]string{"path": KnobsFile, "content": `{"style": "long"}`}),
			call("8", ToolRunHarness, map[string]int{"n_items": 500})),
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
	if len(calls) != 5 {
		t.Fatalf("%d model calls, want 5", len(calls))
	}
	first := calls[0]
	if first.Messages[0].Role != llm.RoleSystem || !strings.Contains(first.Messages[0].Content, "Meta-Agent") {
		t.Errorf("system prompt: %.200q", first.Messages[0].Content)
	}
	user := first.Messages[1].Content
	for _, want := range []string{in.TaskDoc, "return model.chat", "# Harness API", `"style": "short"`} {
		if !strings.Contains(user, want) {
			t.Errorf("user prompt lacks %q", want)
		}
	}
	offered := map[string]bool{}
	for _, tl := range first.Tools {
		offered[tl.Name] = true
	}
	for _, name := range []string{ToolListDir, ToolReadFile, ToolWriteFile, ToolEditFile, ToolRunHarness} {
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
	if got := toolResults(calls[3])["5"]; !strings.Contains(got, "got newline") {
		t.Errorf("run_harness of broken code: %q", got)
	}
	var rep tryReport
	if err := json.Unmarshal([]byte(toolResults(calls[4])["8"]), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.N != 20 || rep.Counts[verify.StatusCorrect] != 20 || rep.Note == "" || rep.HarnessSHA != src.SHA() {
		t.Errorf("run_harness report %+v", rep)
	}
	if len(ft.ns) != 2 || ft.ns[0] != 3 || ft.ns[1] != 20 || ft.seen[1].Knobs["style"] != "long" {
		t.Errorf("try saw n=%v knobs=%v", ft.ns, ft.seen)
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
	if final != 1 || toolResultsSeen != 8 {
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
		if tl.Name == ToolRunHarness {
			t.Error("run_harness offered without a TryFunc")
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
