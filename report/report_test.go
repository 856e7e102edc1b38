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

func TestSelectionAndConfirmationShown(t *testing.T) {
	score := func(v float64) *float64 { return &v }
	events := []runstore.Event{
		{Type: runstore.EvRunStarted},
		{Type: runstore.EvHarnessReady, Gen: 1, HarnessSHA: "a"},
		{Type: runstore.EvRolloutDone, Gen: 1},
		{Type: runstore.EvVerified, Gen: 1, Score: score(0.5), Selection: &runstore.Selection{Rule: "p<0.05", Accepted: true, Reason: "the first generation is the incumbent"}},
		{Type: runstore.EvDecided, Gen: 1, Action: "harness"},
		{Type: runstore.EvHarnessReady, Gen: 2, HarnessSHA: "b"},
		{Type: runstore.EvRolloutDone, Gen: 2},
		{Type: runstore.EvVerified, Gen: 2, Score: score(0.53), Selection: &runstore.Selection{Incumbent: 1, Rule: "p<0.05",
			Test: "paired sign-flip permutation test (one-sided)", Method: "sign-flip, exact (lattice 1/8)", N: 48, Gain: 0.03,
			GainLo: -0.01, GainHi: 0.07, CILevel: 0.9, Wins: 9, Losses: 5, PValue: 0.21, Reason: "val 0.5300 beats the incumbent's 0.5000, but p 0.21 ≥ 0.05: not enough evidence"}},
		{Type: runstore.EvDecided, Gen: 2, Action: "stop"},
		{Type: runstore.EvConfirmed, Gen: 1, Confirm: &runstore.Confirmation{Gen: 1, SelectionScore: 0.5,
			Fresh:   &runstore.SliceScore{Items: 48, Samples: 8, Score: 0.47, Lo: 0.4, Hi: 0.54},
			Holdout: &runstore.SliceScore{Items: 16, Samples: 8, Score: 0.44, Lo: 0.31, Hi: 0.57}}},
		{Type: runstore.EvTestScored, Gen: 1, Score: score(0.45)},
		{Type: runstore.EvRunFinished, Reason: "stopped"},
	}
	for i := range events {
		events[i].Seq = i
	}
	st, err := runstore.Replay(events, true)
	if err != nil {
		t.Fatal(err)
	}
	s := FromState("1", "demo", "auto", "accuracy", st)
	if s.Best.Gen != 1 {
		t.Fatalf("best gen %d: the higher but unproven gen 2 was kept", s.Best.Gen)
	}
	var b strings.Builder
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"gain vs incumbent [CI]", "+0.0300 [-0.0100, +0.0700]", "0.21", " no ",
		"selection (--accept 0.05; paired sign-flip permutation test (one-sided); gain in per-item reward, CI at 90%)",
		"gen 2 vs gen 1 (48 items, 9 better, 5 worse; sign-flip, exact (lattice 1/8)): val 0.5300 beats the incumbent's 0.5000, but p 0.21 ≥ 0.05: not enough evidence",
		"re-scored gen 1 (selected at val 0.5000): fresh samples 0.4700 [0.4000, 0.5400] on 48 items · confirmation slice 0.4400 [0.3100, 0.5700] on 16 items",
		"held-out test: 0.4500",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("sia show lacks %q:\n%s", want, out)
		}
	}
	var j bytes.Buffer
	if err := s.WriteJSON(&j); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"p_value": 0.21`, `"holdout"`, `"accepted": false`} {
		if !strings.Contains(j.String(), want) {
			t.Errorf("sia show --json lacks %s", want)
		}
	}
}
