package runstore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func f(v float64) *float64 { return &v }

func TestReplay(t *testing.T) {
	seq := func(es ...Event) []Event {
		for i := range es {
			es[i].Seq = i
		}
		return es
	}
	base := []Event{
		{Type: EvRunStarted},
		{Type: EvHarnessReady, Gen: 1, HarnessSHA: "a"},
		{Type: EvRolloutDone, Gen: 1, Tokens: 10},
		{Type: EvVerified, Gen: 1, Score: f(0.5)},
	}
	tests := []struct {
		name    string
		events  []Event
		higher  bool
		wantErr string
		check   func(t *testing.T, s State)
	}{
		{name: "empty", events: nil, check: func(t *testing.T, s State) {
			if s.Started || len(s.Gens) != 0 {
				t.Errorf("%+v", s)
			}
		}},
		{name: "one gen", events: seq(base...), higher: true, check: func(t *testing.T, s State) {
			if s.BestGen != 1 || s.BestScore != 0.5 || !s.Gens[0].Verified || s.Gens[0].Tokens != 10 {
				t.Errorf("%+v", s)
			}
		}},
		{name: "harness edit worse keeps older best; tie keeps older", higher: true, events: seq(append(append([]Event{}, base...),
			Event{Type: EvDecided, Gen: 1, Action: "harness"},
			Event{Type: EvHarnessReady, Gen: 2, HarnessSHA: "b"},
			Event{Type: EvRolloutDone, Gen: 2},
			Event{Type: EvVerified, Gen: 2, Score: f(0.5)})...), check: func(t *testing.T, s State) {
			if s.BestGen != 1 || len(s.Gens) != 2 || s.Gens[1].Action != "harness" || s.Gens[1].Parent != 1 {
				t.Errorf("%+v", s)
			}
		}},
		{name: "lower is better", higher: false, events: seq(append(append([]Event{}, base...),
			Event{Type: EvDecided, Gen: 1, Action: "harness"},
			Event{Type: EvHarnessReady, Gen: 2, HarnessSHA: "b"},
			Event{Type: EvRolloutDone, Gen: 2},
			Event{Type: EvVerified, Gen: 2, Score: f(0.25)})...), check: func(t *testing.T, s State) {
			if s.BestGen != 2 {
				t.Errorf("best %d", s.BestGen)
			}
		}},
		{name: "weights gen pending adapter", higher: true, events: seq(append(append([]Event{}, base...),
			Event{Type: EvDecided, Gen: 1, Action: "weights", Algorithm: "grpo"})...), check: func(t *testing.T, s State) {
			g := s.Gen(2)
			if g == nil || g.AdapterReady || !g.HarnessReady || g.HarnessSHA != "a" || g.Algorithm != "grpo" {
				t.Errorf("%+v", g)
			}
		}},
		{name: "adapter trained", higher: true, events: seq(append(append([]Event{}, base...),
			Event{Type: EvDecided, Gen: 1, Action: "weights", Algorithm: "grpo"},
			Event{Type: EvAdapterTrained, Gen: 2, AdapterVersion: 1, AdapterDir: "gen_2/adapter"})...), check: func(t *testing.T, s State) {
			if g := s.Gen(2); !g.AdapterReady || g.AdapterVersion != 1 {
				t.Errorf("%+v", g)
			}
		}},
		{name: "verify before rollout", events: seq(Event{Type: EvRunStarted}, Event{Type: EvHarnessReady, Gen: 1},
			Event{Type: EvVerified, Gen: 1, Score: f(1)}), wantErr: "without rollouts"},
		{name: "bad seq", events: []Event{{Type: EvRunStarted, Seq: 3}}, wantErr: "seq"},
		{name: "unknown type", events: seq(Event{Type: "nope"}), wantErr: "unknown type"},
		{name: "extended after a stop", higher: true, events: seq(append(append([]Event{}, base...),
			Event{Type: EvDecided, Gen: 1, Action: "stop", Rationale: "done"},
			Event{Type: EvTestScored, Gen: 1, Score: f(0.4)},
			Event{Type: EvRunFinished, Reason: "stopped"},
			Event{Type: EvRunExtended, MaxGen: 4})...), check: func(t *testing.T, s State) {
			if s.Finished || s.TestScore != nil || s.Reason != "" || s.Gens[0].Decided || s.Gens[0].NextAction != "" || s.BestGen != 1 {
				t.Errorf("%+v", s)
			}
		}},
		{name: "extended to no more generations", events: seq(append(append([]Event{}, base...),
			Event{Type: EvRunFinished}, Event{Type: EvRunExtended, MaxGen: 1})...), wantErr: "it has 1"},
		{name: "recorded rejection keeps the incumbent though the score is higher", higher: true, events: seq(append(append([]Event{}, base...),
			Event{Type: EvDecided, Gen: 1, Action: "harness"},
			Event{Type: EvHarnessReady, Gen: 2, HarnessSHA: "b", Tokens: 5},
			Event{Type: EvRolloutDone, Gen: 2, Tokens: 7},
			Event{Type: EvVerified, Gen: 2, Score: f(0.6), Selection: &Selection{Incumbent: 1, Gain: 0.1, PValue: 0.3, Rule: "p<0.05"}})...),
			check: func(t *testing.T, s State) {
				g := s.Gen(2)
				if s.BestGen != 1 || s.BestScore != 0.5 || g.Accepted || g.Selection == nil || g.Selection.PValue != 0.3 {
					t.Errorf("best %d (%.2f), gen 2 %+v", s.BestGen, s.BestScore, g)
				}
				if g.Tokens != 12 {
					t.Errorf("gen 2 tokens %d, want the ranking's 5 + the rollout's 7", g.Tokens)
				}
			}},
		{name: "recorded acceptance makes the incumbent", higher: true, events: seq(append(append([]Event{}, base...),
			Event{Type: EvDecided, Gen: 1, Action: "weights", Algorithm: "grpo"},
			Event{Type: EvAdapterTrained, Gen: 2, AdapterVersion: 1, AdapterDir: "gen_2/adapter", Tokens: 100},
			Event{Type: EvRolloutDone, Gen: 2, Tokens: 10},
			Event{Type: EvVerified, Gen: 2, Score: f(0.7), Selection: &Selection{Incumbent: 1, Gain: 0.2, PValue: 0.01, Rule: "p<0.05", Accepted: true}})...),
			check: func(t *testing.T, s State) {
				if g := s.Gen(2); s.BestGen != 2 || s.BestScore != 0.7 || !g.Accepted || g.Tokens != 110 {
					t.Errorf("best %d (%.2f), gen 2 %+v", s.BestGen, s.BestScore, g)
				}
			}},
		{name: "first generation recorded as rejected", events: seq(Event{Type: EvRunStarted}, Event{Type: EvHarnessReady, Gen: 1},
			Event{Type: EvRolloutDone, Gen: 1}, Event{Type: EvVerified, Gen: 1, Score: f(1), Selection: &Selection{}}), wantErr: "no incumbent"},
		{name: "confirmed, then undone by an extension", higher: true, events: seq(append(append([]Event{}, base...),
			Event{Type: EvDecided, Gen: 1, Action: "stop"},
			Event{Type: EvConfirmed, Confirm: &Confirmation{Gen: 1, SelectionScore: 0.5, Fresh: &SliceScore{Items: 4, Score: 0.4}}})...),
			check: func(t *testing.T, s State) {
				if s.Confirm == nil || s.Confirm.Fresh.Score != 0.4 {
					t.Fatalf("confirm %+v", s.Confirm)
				}
			}},
		{name: "extension clears the confirmation", higher: true, events: seq(append(append([]Event{}, base...),
			Event{Type: EvDecided, Gen: 1, Action: "stop"},
			Event{Type: EvConfirmed, Confirm: &Confirmation{Gen: 1}},
			Event{Type: EvTestScored, Score: f(0.3)},
			Event{Type: EvRunFinished},
			Event{Type: EvRunExtended, MaxGen: 3})...),
			check: func(t *testing.T, s State) {
				if s.Confirm != nil || s.TestScore != nil {
					t.Errorf("confirm %+v, test %v after an extension", s.Confirm, s.TestScore)
				}
			}},
		{name: "confirmed for another generation", higher: true, events: seq(append(append([]Event{}, base...),
			Event{Type: EvConfirmed, Confirm: &Confirmation{Gen: 2}})...), wantErr: "confirmed"},
		{name: "a weight update continues an unproven weights generation", higher: true, events: seq(append(append([]Event{}, base...),
			Event{Type: EvDecided, Gen: 1, Action: "weights", Algorithm: "grpo"},
			Event{Type: EvAdapterTrained, Gen: 2, AdapterVersion: 1, AdapterDir: "gen_2/adapter"},
			Event{Type: EvRolloutDone, Gen: 2},
			Event{Type: EvVerified, Gen: 2, Score: f(0.55), Selection: &Selection{Incumbent: 1, Gain: 0.05, PValue: 0.2}},
			Event{Type: EvDecided, Gen: 2, Action: "weights", Algorithm: "grpo", Parent: 2})...),
			check: func(t *testing.T, s State) {
				g := s.Gen(3)
				if s.BestGen != 1 || g.Parent != 2 || g.AdapterVersion != 1 || g.AdapterDir != "gen_2/adapter" || g.HarnessSHA != "a" {
					t.Errorf("best %d, gen 3 %+v: want it to start from gen 2's adapter", s.BestGen, g)
				}
			}},
		{name: "a harness edit cannot continue a branch", events: seq(append(append([]Event{}, base...),
			Event{Type: EvDecided, Gen: 1, Action: "harness", Parent: 1})...), wantErr: "cannot continue"},
		{name: "after finish", events: seq(Event{Type: EvRunStarted}, Event{Type: EvRunFinished}, Event{Type: EvRunStarted}), wantErr: "after run_finished"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Replay(tc.events, tc.higher)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, s)
		})
	}
}

func TestStoreCreateOpenTornLine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run_1")
	s, err := Create(dir, map[string]int{"a": 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []Event{{Type: EvRunStarted}, {Type: EvHarnessReady, Gen: 1}} {
		if _, err := s.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if _, err := Create(dir, nil); !errors.Is(err, ErrExists) {
		t.Fatalf("second Create: %v", err)
	}
	// A kill mid-append leaves a torn last line.
	fh, _ := os.OpenFile(filepath.Join(dir, "events.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	fh.WriteString(`{"v":1,"seq":2,"type":"rollo`)
	fh.Close()
	s2, events, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("got %d events, want 2", len(events))
	}
	e, err := s2.Append(Event{Type: EvRolloutDone, Gen: 1})
	if err != nil || e.Seq != 2 {
		t.Fatalf("append after torn line: %+v %v", e, err)
	}
	s2.Close()
	again, err := ReadEvents(dir)
	if err != nil || len(again) != 3 {
		t.Fatalf("reread: %d %v", len(again), err)
	}
}

func TestParseEventsBadMiddleLine(t *testing.T) {
	_, err := ParseEvents(strings.NewReader("{\"seq\":0,\"type\":\"run_started\"}\nnot json\n{\"seq\":1}\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("want a line-2 error, got %v", err)
	}
}

func TestReplaceDir(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "best")
	for _, body := range []string{"one", "two"} {
		err := ReplaceDir(dst, func(tmp string) error { return os.WriteFile(filepath.Join(tmp, "f"), []byte(body), 0o644) })
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(dst, "f"))
		if string(b) != body {
			t.Errorf("got %q want %q", b, body)
		}
	}
	if _, err := os.Stat(dst + ".old"); !os.IsNotExist(err) {
		t.Error("old folder left behind")
	}
}

// A second process (or store) cannot work in a run folder while one does;
// the first's exit releases it.
func TestRunFolderIsLocked(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run_1")
	s, err := Create(dir, map[string]int{"x": 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(Event{Type: EvRunStarted}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(dir); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "pid") {
		t.Fatalf("second open: %v, want ErrLocked naming the holder", err)
	}
	if _, err := Create(dir, nil); err == nil {
		t.Fatal("create over a locked run folder succeeded")
	}
	s.Close()
	s2, events, err := Open(dir)
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	defer s2.Close()
	if len(events) != 1 {
		t.Errorf("%d events", len(events))
	}
}

// An append never lands out of sequence: a log that changed under the
// store is refused before anything is written.
func TestAppendRefusesAChangedLog(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run_1")
	s, err := Create(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Append(Event{Type: EvRunStarted}); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "events.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"v":1,"seq":1,"type":"harness_ready","gen":1}` + "\n")
	f.Close()
	before, _ := os.ReadFile(filepath.Join(dir, "events.jsonl"))
	if _, err := s.Append(Event{Type: EvHarnessReady, Gen: 1}); err == nil {
		t.Fatal("append after an outside write succeeded")
	}
	after, _ := os.ReadFile(filepath.Join(dir, "events.jsonl"))
	if string(before) != string(after) {
		t.Error("the refused append wrote to the log")
	}
}

// A killed process's half-done writes are swept when the run is opened.
func TestOpenSweepsLeftovers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run_1")
	s, err := Create(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	left := []string{"gen_1/.results.json.tmp123", ".best.tmp456/harness.star", "best.old/x", TempDir + "/sia-py-1/work/x"}
	keep := []string{"gen_1/results.json", "gen_1/.hidden", "best/harness.star"}
	for _, p := range append(left, keep...) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, _, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, p := range left {
		top := strings.SplitN(p, "/", 2)[0]
		if top == "gen_1" {
			top = p
		}
		if _, err := os.Stat(filepath.Join(dir, top)); err == nil {
			t.Errorf("%s was left behind", top)
		}
	}
	for _, p := range keep {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s was removed", p)
		}
	}
}
