package bundled_test

import (
	"context"
	"os"
	"testing"

	"github.com/sia-agent/sia/data"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/harness/starlark"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/task/bundled"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

const sharedData = "../../../shared/data"

// runReference imports the shared copy of one task, runs its reference
// harness (default knobs) through the Starlark runtime on a split, and
// verifies the answers. No model is configured: the default variants
// solve in code.
func runReference(t *testing.T, name, split string) *verify.Result {
	t.Helper()
	if _, err := os.Stat(sharedData); err != nil {
		t.Skipf("shared data absent (%v): skipping the reference-harness measurement", err)
	}
	ctx := t.Context()
	root := t.TempDir()
	if _, err := data.Import(ctx, sharedData, root, data.ImportOptions{Tasks: []string{name}}); err != nil {
		t.Fatal(err)
	}
	reg, err := bundled.Registry()
	if err != nil {
		t.Fatal(err)
	}
	tk, err := reg.Open(name, task.Options{DataRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := tk.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	file, src, err := tk.ReferenceHarness()
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := tk.Doc()
	rt := starlark.New(starlark.Config{})
	h, err := rt.Load(ctx, harness.Source{Name: file, Code: src}, harness.Env{TaskDoc: doc, Train: ds.Train, Public: tk.Public(), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	answers := map[string]string{}
	for i, it := range ds.Items(split) {
		ans, err := h.Solve(ctx, it, harness.Sample{Seed: int64(i), Rec: trajectory.NewRecorder()})
		if err != nil {
			t.Fatalf("solve %s: %v", it.ID, err)
		}
		answers[it.ID] = ans
	}
	v, err := tk.Verifier(split)
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(context.WithoutCancel(ctx), answers, ds.Gold(split))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Targets from the task issue, on the held-out test split the harness never
// saw (its labels are only in private/).
func TestReferenceHarnesses(t *testing.T) {
	tests := []struct {
		name   string
		metric string
		min    float64
	}{
		{"spaceship-titanic", "accuracy", 0.80},
		{"lawbench", "accuracy", 0.40},
		{"longcot-chess", "accuracy_knight_path", 0.85},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runReference(t, tc.name, task.Test)
			t.Logf("%s test: %s=%.4f accuracy=%.4f n=%d counts=%v", tc.name, tc.metric, res.Metrics[tc.metric], res.Score, res.N, res.Counts)
			if res.Metrics[tc.metric] < tc.min {
				t.Errorf("%s %s = %.4f, want >= %.2f", tc.name, tc.metric, res.Metrics[tc.metric], tc.min)
			}
		})
	}
}
