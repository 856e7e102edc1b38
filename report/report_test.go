package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sia-agent/sia/runstore"
)

func TestSummaryFormats(t *testing.T) {
	score := func(v float64) *float64 { return &v }
	events := []runstore.Event{
		{Type: runstore.EvRunStarted},
		{Type: runstore.EvHarnessReady, Gen: 1, HarnessSHA: "a"},
		{Type: runstore.EvRolloutDone, Gen: 1, Tokens: 100, CostUSD: 0.25, DurationS: 1.5},
		{Type: runstore.EvVerified, Gen: 1, Score: score(0.5)},
		{Type: runstore.EvDecided, Gen: 1, Action: "weights", Algorithm: "grpo"},
		{Type: runstore.EvAdapterTrained, Gen: 2, AdapterVersion: 1, AdapterDir: "gen_2/adapter", DurationS: 2},
		{Type: runstore.EvRolloutDone, Gen: 2, Tokens: 50},
		{Type: runstore.EvVerified, Gen: 2, Score: score(0.75)},
		{Type: runstore.EvTestScored, Gen: 2, Score: score(0.7)},
		{Type: runstore.EvRunFinished, Reason: "max-gen reached"},
	}
	for i := range events {
		events[i].Seq = i
	}
	st, err := runstore.Replay(events, true)
	if err != nil {
		t.Fatal(err)
	}
	s := FromState("1", "demo", "auto", "accuracy", st)
	var buf bytes.Buffer
	if err := s.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var v struct {
		Run         string `json:"run"`
		Task        string `json:"task"`
		Mode        string `json:"mode"`
		Generations []struct {
			Gen       int      `json:"gen"`
			Action    string   `json:"action"`
			Algorithm *string  `json:"algorithm"`
			Score     *float64 `json:"score"`
			DurationS float64  `json:"duration_s"`
		} `json:"generations"`
		Best struct {
			Gen   int
			Score float64
		} `json:"best"`
		TestScore *float64 `json:"test_score"`
		CostUSD   float64  `json:"cost_usd"`
	}
	if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	g := v.Generations
	if v.Run != "1" || v.Task != "demo" || v.Mode != "auto" || len(g) != 2 || g[0].Action != "initial" || g[0].Algorithm != nil ||
		g[1].Action != "weights" || *g[1].Algorithm != "grpo" || *g[1].Score != 0.75 || g[1].DurationS != 2 ||
		v.Best.Gen != 2 || *v.TestScore != 0.7 || v.CostUSD != 0.25 {
		t.Errorf("json: %s", buf.String())
	}
	buf.Reset()
	if err := s.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"2 *", "weights", "grpo", "0.7500", "$0.2500", "held-out test: 0.7000"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestUnsandboxedRunIsMarked(t *testing.T) {
	s := FromState("1", "t", "harness", "accuracy", runstore.State{})
	var b strings.Builder
	if err := s.WriteText(&b); err != nil || strings.Contains(b.String(), "UNSANDBOXED") {
		t.Fatalf("a run without python code is marked: %q %v", b.String(), err)
	}
	s.Sandbox = "none"
	b.Reset()
	if err := s.WriteText(&b); err != nil || !strings.Contains(b.String(), "UNSANDBOXED") {
		t.Fatalf("an unsandboxed run is not marked: %q %v", b.String(), err)
	}
}
