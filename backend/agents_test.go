package backend

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/profile"
	"github.com/sia-agent/sia/task"
)

// fakeFeedback records that it was asked.
type fakeFeedback struct{ asked *int }

func (f fakeFeedback) Decide(context.Context, agent.FeedbackInput) (agent.FeedbackOutput, error) {
	*f.asked++
	return agent.FeedbackOutput{Decision: agent.Decision{Action: agent.ActionHarness}}, nil
}

func TestEarlyStop(t *testing.T) {
	hist := []agent.GenSummary{{Gen: 1, Score: 0.4}, {Gen: 2, Score: 0.82}, {Gen: 3, Score: 0.5}}
	tests := []struct {
		name      string
		threshold float64
		higher    bool
		wantStop  bool
	}{
		{"reached", 0.8, true, true},
		{"not reached", 0.9, true, false},
		{"lower is better, reached", 0.45, false, true},
		{"lower is better, not reached", 0.3, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			asked := 0
			e := earlyStop{Feedback: fakeFeedback{&asked}, threshold: tc.threshold}
			out, err := e.Decide(t.Context(), agent.FeedbackInput{History: hist, Higher: tc.higher})
			if err != nil {
				t.Fatal(err)
			}
			stopped := out.Decision.Action == agent.ActionStop
			if stopped != tc.wantStop || (asked == 1) == tc.wantStop {
				t.Fatalf("stop %v (asked %d), want stop %v", stopped, asked, tc.wantStop)
			}
			if stopped && !strings.Contains(out.Decision.Rationale, "SIA_EARLY_STOP_THRESHOLD") {
				t.Errorf("rationale %q", out.Decision.Rationale)
			}
		})
	}
}

func TestReferenceSeed(t *testing.T) {
	dir := t.TempDir()
	agentDir := filepath.Join(dir, "agent")
	if err := os.MkdirAll(filepath.Join(agentDir, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"main.py":          "print('seed')\n",
		"lib/util.py":      "X = 1\n",
		"requirements.txt": "lightgbm==4.5.0\n# comment\n",
	} {
		if err := os.WriteFile(filepath.Join(agentDir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	py := &task.Task{Spec: task.Spec{Name: "t", Runtime: "python"}}
	star := &task.Task{Spec: task.Spec{Name: "s", Runtime: "starlark"}}
	tp := &profile.TargetProfile{ProfileID: "p", Dir: dir, AgentReference: profile.AgentReference{Source: "agent/", Entrypoint: "main.py"}}
	src, line, ok, err := referenceSeed(tp, py)
	if err != nil || !ok || src.Name != harness.PythonFile || string(src.Code) != "print('seed')\n" {
		t.Fatalf("seed = %+v, %v, %v", src, ok, err)
	}
	for _, want := range []string{"requirements.txt lists lightgbm==4.5.0", "cannot be installed here", "lib/util.py"} {
		if !strings.Contains(line, want) {
			t.Errorf("line %q lacks %q", line, want)
		}
	}
	if _, _, _, err := referenceSeed(tp, star); err == nil || !strings.Contains(err.Error(), "runs starlark harnesses") {
		t.Errorf("python seed for a starlark task: %v", err)
	}
	def := &profile.TargetProfile{ProfileID: "d"}
	if _, _, ok, err := referenceSeed(def, py); ok || err != nil {
		t.Errorf("default reference: ok %v err %v", ok, err)
	}
}
