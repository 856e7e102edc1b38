package gateway

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"

	"github.com/sia-agent/sia/trajectory"
)

// TestPythonCaller runs a urllib client (what a SIA target_agent.py without
// the openai package does) against Serve and checks that both its calls
// land in the right samples' trajectories.
func TestPythonCaller(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts python clients; .ci/run runs it")
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	g := New(Config{})
	rt := g.Route(Policy{Model: tokenModel("py"), Version: 2})
	base, err := g.Serve(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r0, r1 := trajectory.NewRecorder(), trajectory.NewRecorder()
	defer rt.Register("q/1", 0, r0)()
	defer rt.Register("q/1", 1, r1)()
	cmd := exec.CommandContext(t.Context(), python, "testdata/client.py")
	cmd.Env = append(os.Environ(), "OPENAI_BASE_URL="+base, "OPENAI_API_KEY="+rt.Key())
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("client.py: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var got struct{ Plain, Streamed string }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("client.py printed %q: %v", out, err)
	}
	if got.Plain != "py-0" || got.Streamed != "py-0" {
		t.Errorf("answers = %+v", got)
	}
	for i, rec := range []*trajectory.Recorder{r0, r1} {
		steps := rec.Steps()
		if len(steps) != 1 || steps[0].AdapterVersion != 2 || len(steps[0].CompletionTokenIDs) != 2 || steps[0].Messages[0].Content != "What is 2+2?" {
			t.Errorf("sample %d recorded %+v", i, steps)
		}
	}
}
