package builtin

import (
	"strings"
	"testing"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/verify"
)

var decl = harness.Decl{
	Knobs: map[string][]any{"variant": {"a", "b"}, "n": {int64(1), int64(5)}, "extract_mode": {"first", "last"}},
	Order: []string{"variant", "n", "extract_mode"},
}

func gen(n int, action string, score float64, knobs map[string]any) agent.GenSummary {
	return agent.GenSummary{Gen: n, Action: action, Score: score, Knobs: knobs}
}

func input(mode string, canTrain bool, tokens int, hist ...agent.GenSummary) agent.FeedbackInput {
	inc := hist[0]
	for _, h := range hist {
		if h.Score > inc.Score {
			inc = h
		}
	}
	return agent.FeedbackInput{
		Mode: mode, Gen: hist[len(hist)-1].Gen, Higher: true, CanTrain: canTrain, Decl: decl, History: hist,
		Incumbent:   harness.Source{Name: "harness.star", Code: []byte("x"), Knobs: inc.Knobs},
		Stats:       rl.Stats{TokenSamples: tokens},
		Recommended: rl.GRPO,
		Results:     &verify.Result{Metric: "accuracy", Score: hist[len(hist)-1].Score, Counts: map[string]int{}},
	}
}

func TestFeedbackRules(t *testing.T) {
	tests := []struct {
		name       string
		in         agent.FeedbackInput
		wantAction string
		wantKnob   string // the changed knob=value for harness moves
		wantWhy    string
	}{
		{"first move is the first knob's next value", input(agent.ModeAuto, true, 10, gen(1, "initial", 0.3, nil)),
			agent.ActionHarness, `variant="b"`, "knob search"},
		{"tried settings are skipped", input(agent.ModeHarness, false, 0, gen(1, "initial", 0.3, nil), gen(2, "harness", 0.2, map[string]any{"variant": "b"})),
			agent.ActionHarness, `n=5`, ""},
		{"harness mode never takes weights", input(agent.ModeHarness, true, 10, gen(1, "initial", 0.3, nil), gen(2, "harness", 0.2, map[string]any{"variant": "b"}), gen(3, "harness", 0.2, map[string]any{"n": int64(5)})),
			agent.ActionHarness, `extract_mode="last"`, ""},
		{"plateau takes weights in auto", input(agent.ModeAuto, true, 10, gen(1, "initial", 0.3, nil), gen(2, "harness", 0.2, map[string]any{"variant": "b"}), gen(3, "harness", 0.2, map[string]any{"n": int64(5)})),
			agent.ActionWeights, "", "plateau"},
		{"an early first try of weights after a paying harness edit stalls", input(agent.ModeAuto, true, 10, gen(1, "initial", 0.3, nil), gen(2, "harness", 0.4, map[string]any{"variant": "b"}), gen(3, "harness", 0.35, map[string]any{"variant": "b", "n": int64(5)})),
			agent.ActionWeights, "", "try the weights lever once"},
		{"no token ids: no weights", input(agent.ModeAuto, true, 0, gen(1, "initial", 0.3, nil), gen(2, "harness", 0.2, map[string]any{"variant": "b"}), gen(3, "harness", 0.2, map[string]any{"n": int64(5)})),
			agent.ActionHarness, `extract_mode="last"`, ""},
		{"a weights gen that became incumbent continues", input(agent.ModeAuto, true, 10, gen(1, "initial", 0.3, nil), gen(2, "weights", 0.5, nil)),
			agent.ActionWeights, "", "another update"},
		{"weights mode always trains", input(agent.ModeWeights, true, 10, gen(1, "initial", 0.3, nil)),
			agent.ActionWeights, "", "weights mode"},
		{"weights mode without a trainer stops", input(agent.ModeWeights, false, 10, gen(1, "initial", 0.3, nil)),
			agent.ActionStop, "", "cannot run"},
		{"perfect score stops", input(agent.ModeAuto, true, 10, gen(1, "initial", 1, nil)),
			agent.ActionStop, "", "perfect"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Feedback{}.Decide(t.Context(), tc.in)
			if err != nil {
				t.Fatal(err)
			}
			d := out.Decision
			if d.Action != tc.wantAction {
				t.Fatalf("action %s (%s), want %s", d.Action, d.Rationale, tc.wantAction)
			}
			if tc.wantWhy != "" && !strings.Contains(d.Rationale, tc.wantWhy) {
				t.Errorf("rationale %q lacks %q", d.Rationale, tc.wantWhy)
			}
			switch d.Action {
			case agent.ActionHarness:
				if out.Harness == nil || !strings.Contains(d.Rationale, tc.wantKnob) {
					t.Errorf("move %q, want %s", d.Rationale, tc.wantKnob)
				}
				if d.Hypothesis == "" || d.Change == "" || d.Expected == "" || d.Risk == "" {
					t.Errorf("improvement fields missing: %+v", d)
				}
			case agent.ActionWeights:
				if d.Algorithm != rl.GRPO {
					t.Errorf("algorithm %s, want the recommendation", d.Algorithm)
				}
			}
		})
	}
}

func TestFailuresPrioritiseAnswerKnobs(t *testing.T) {
	in := input(agent.ModeHarness, false, 0, gen(1, "initial", 0.3, nil))
	in.Stats.FailedFrac = 0.5
	out, err := Feedback{}.Decide(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.Decision.Rationale, `extract_mode="last"`) {
		t.Errorf("with many invalid answers the extraction knob should go first: %s", out.Decision.Rationale)
	}
}

func TestForcedAlgorithm(t *testing.T) {
	in := input(agent.ModeWeights, true, 10, gen(1, "initial", 0.3, nil))
	in.ForcedAlgorithm = rl.DPO
	out, _ := Feedback{}.Decide(t.Context(), in)
	if out.Decision.Algorithm != rl.DPO {
		t.Errorf("forced algorithm ignored: %s", out.Decision.Algorithm)
	}
}

func TestMetaReturnsReference(t *testing.T) {
	src, err := Meta{}.Initial(t.Context(), agent.MetaInput{Reference: harness.Source{Name: "harness.star", Code: []byte("def solve(i): return 1")}})
	if err != nil || string(src.Code) != "def solve(i): return 1" || src.Knobs != nil {
		t.Fatalf("%+v %v", src, err)
	}
	if _, err := (Meta{}).Initial(t.Context(), agent.MetaInput{TaskName: "t"}); err == nil {
		t.Error("missing reference accepted")
	}
}
