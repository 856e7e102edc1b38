package loop

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/agent/llmagent"
	"github.com/sia-agent/sia/data"
	"github.com/sia-agent/sia/docs"
	"github.com/sia-agent/sia/harness/starlark"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/llmtest"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/task/bundled"
)

// sharedRaw is the shared copy of the real task data (see its README):
// ../shared/data beside the checkout, or SIA_SHARED_DATA.
func sharedRaw() string {
	if d := os.Getenv("SIA_SHARED_DATA"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "data")
}

// TestAgentsOnSpaceship drives both LLM agents, with scripted replies,
// through their real tools on spaceship-titanic (the shared copy of its
// data): the Meta-Agent smoke-tests and cross-validates the reference
// harness, the Feedback-Agent reads the failures, searches a knob and
// stops. It checks the measurement is a real one (a 5-fold score with a
// small standard error near the reference's known accuracy) and logs
// each agent turn's prompt size, the figures in docs/agents.md:
//
//	go test ./loop -run TestAgentsOnSpaceship -v
func TestAgentsOnSpaceship(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("fits gradient-boosted trees many times: not with -short or -race (.ci/run runs it without)")
	}
	shared := sharedRaw()
	if _, err := os.Stat(filepath.Join(shared, "spaceship-titanic")); err != nil {
		t.Skipf("shared spaceship-titanic data absent (%v; set SIA_SHARED_DATA)", err)
	}
	root := t.TempDir()
	if _, err := data.Import(t.Context(), shared, root, data.ImportOptions{Tasks: []string{"spaceship-titanic"}}); err != nil {
		t.Fatal(err)
	}
	reg, err := bundled.Registry()
	if err != nil {
		t.Fatal(err)
	}
	tk, err := reg.Open("spaceship-titanic", task.Options{DataRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := tk.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	call := func(id, name string, args any) llm.ToolCall {
		b, _ := json.Marshal(args)
		return llm.ToolCall{ID: id, Name: name, Arguments: b}
	}
	turn := func(text string, calls ...llm.ToolCall) *llm.Completion {
		return &llm.Completion{Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: text, ToolCalls: calls}}}}
	}
	script := []*llm.Completion{
		turn("", call("a", llmagent.ToolReadDocs, map[string]string{"section": "ml"}), call("b", llmagent.ToolRunHarness, map[string]int{"n_items": 5})),
		turn("", call("c", llmagent.ToolMeasureHarness, map[string]int{"folds": 5, "items": 2000, "seed": 1})),
		turn("The reference's 5-fold score is in line with its known accuracy; I keep it."),
		turn("", call("d", llmagent.ToolRewardStats, map[string]any{}), call("e", llmagent.ToolReadTrajectories, map[string]any{"source": "val", "filter": "failed", "n": 3})),
		turn("", call("f", llmagent.ToolSearchKnobs, map[string]any{"space": map[string][]int{"max_depth": {4, 6}}, "folds": 3, "items": 900})),
		turn("", call("g", llmagent.ToolSubmitDecision, map[string]string{"action": "stop", "rationale": "no knob change is outside the noise",
			"hypothesis": "", "expected": "", "risk": ""})),
	}
	model := llmtest.New("scripted", func(i int, _ llm.Request) (*llm.Completion, error) { return script[i], nil })
	var mu sync.Mutex
	var turns []llmagent.Event
	results := map[string]string{}
	acfg := llmagent.Config{Model: model, OnEvent: func(e llmagent.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Kind {
		case llmagent.EventModelTurn:
			turns = append(turns, e)
		case llmagent.EventToolResult:
			results[e.Call.ID] = e.Text
		}
	}}
	meta, err := llmagent.NewMeta(acfg)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := llmagent.NewFeedback(acfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{RunID: "ss", Task: "spaceship-titanic", MaxGen: 3, Mode: agent.ModeHarness, Seed: 1, Parallel: 2, Samples: 1,
		Metric: "accuracy", HigherIsBetter: true}.WithDefaults()
	store, err := runstore.Create(filepath.Join(t.TempDir(), "run_ss"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	st, err := Run(t.Context(), cfg, Deps{Task: tk, Data: ds, Runtime: starlark.New(starlark.Config{}), Meta: meta, Feedback: fb,
		Store: store, Docs: docs.FS}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		N     int        `json:"n"`
		Score float64    `json:"score"`
		SE    float64    `json:"se"`
		CI    [2]float64 `json:"ci95"`
		Cost  struct {
			Seconds float64 `json:"seconds"`
		} `json:"cost"`
	}
	if err := json.Unmarshal([]byte(results["c"]), &m); err != nil {
		t.Fatalf("measure_harness: %v: %s", err, results["c"])
	}
	t.Logf("5-fold CV of the reference on 2000 train items: %.3f ± %.3f (95%% %.3f–%.3f), %.1f s", m.Score, m.SE, m.CI[0], m.CI[1], m.Cost.Seconds)
	if m.N != 2000 || m.Score < 0.72 || m.Score > 0.88 || m.SE <= 0 || m.SE > 0.02 {
		t.Errorf("measurement %+v", m)
	}
	if !strings.Contains(results["f"], `"changed":"max_depth=4"`) || !strings.Contains(results["f"], `"gain_se"`) {
		t.Errorf("search_knobs: %.400s", results["f"])
	}
	if !strings.Contains(results["e"], `"HomePlanet"`) || strings.Contains(results["e"], `"Transported"`) {
		t.Errorf("val trajectories show no item fields, or the label: %.400s", results["e"])
	}
	for _, id := range []string{"b", "c"} {
		if strings.Contains(results[id], `"Transported"`) {
			t.Errorf("tool result %s shows the label column: %.400s", id, results[id])
		}
	}
	t.Logf("val gen 1 %.4f, test %.4f", st.Gens[0].Score, *st.TestScore)
	t.Logf("%-9s %5s %12s", "agent", "turn", "prompt chars")
	for _, e := range turns {
		t.Logf("%-9s %5d %12d", e.Role, e.Turn, e.PromptChars)
		if e.PromptChars > 60_000 {
			t.Errorf("%s turn %d sent %d chars", e.Role, e.Turn, e.PromptChars)
		}
	}
}
