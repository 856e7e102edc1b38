package starlark

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
)

// A Starlark harness reaches files only through the data module, over the
// data view it was given: no path leaves it, and runaway code ends at its
// limits with a reason. (Memory bombs are harness/isolate's: they need a
// process boundary.)
func TestHostileStarlarkHarnesses(t *testing.T) {
	view := fstest.MapFS{"train.csv": {Data: []byte("id,label\nt1,A\n")}}
	rt := New(Config{SolveSteps: 5_000_000, SolveTimeout: 2 * time.Second})
	for _, tc := range []struct{ name, body, want string }{
		{"parent path", `return data.read("../private/test.csv")`, "without .."},
		{"absolute path", `return data.read("/etc/passwd")`, "relative path"},
		{"proc", `return data.read("/proc/self/environ")`, "relative path"},
		{"dot segments inside", `return data.read("a/../../private/test.csv")`, "without .."},
		{"missing file", `return data.read("private/test.csv")`, "train.csv"},
		{"load statement", `return 1`, ""},
		{"endless loop", "while True:\n        pass", "limit"}, // steps, or the clock under the race detector
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := "def solve(item):\n    " + tc.body + "\n"
			if tc.name == "load statement" {
				code = "load('os', 'system')\n" + code
				_, err := rt.Load(t.Context(), harness.Source{Name: "h.star", Code: []byte(code)}, harness.Env{Public: view})
				if err == nil {
					t.Fatal("a harness with load() loaded")
				}
				return
			}
			h, err := rt.Load(t.Context(), harness.Source{Name: "h.star", Code: []byte(code)}, harness.Env{Public: view})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			ans, err := h.Solve(ctx, task.Item{ID: "q1"}, harness.Sample{Rec: trajectory.NewRecorder()})
			if err == nil {
				t.Fatalf("answered %q", ans)
			}
			if !strings.Contains(err.Error(), tc.want) && !errors.Is(err, ErrStepLimit) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
