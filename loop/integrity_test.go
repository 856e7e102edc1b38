package loop

import (
	"path/filepath"
	"testing"

	"github.com/sia-agent/sia/agent/builtin"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/harness/starlark"
	"github.com/sia-agent/sia/rollout"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/task"
)

// leaky looks every item up in every labelled table it can reach: the
// public train file (val is carved from it), ctx.train and any other
// public file. It is the attack of a harness that wants val (or test)
// labels instead of learning.
const leaky = `
def setup(ctx):
    table = {}
    for f in data.list():
        if f.endswith(".csv"):
            for r in data.csv(f):
                if "label" in r:
                    table[r["id"]] = r["label"]
    for r in ctx.train:
        table[r["id"]] = r["label"]
    return table

def solve(item, table):
    return table.get(item["id"], "0")
`

// The leaking harness scores on val and test exactly what a harness that
// answers "0" scores: no label it may not see reaches it. Without the
// data view (the raw public folder and the full labelled file) the same
// harness scores 1.0 on val, so the test can tell.
func TestLeakingHarnessGainsNothing(t *testing.T) {
	taskDir := writeTask(t, leaky)
	tk, err := task.OpenDir(taskDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := tk.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{RunID: "t", Task: "fake", MaxGen: 1, Mode: "harness", Seed: 7, Parallel: 2, Samples: 1,
		Metric: "accuracy", HigherIsBetter: true}.WithDefaults()
	runDir := filepath.Join(t.TempDir(), "run")
	store, err := runstore.Create(runDir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	st, err := Run(t.Context(), cfg, Deps{Task: tk, Data: data, Runtime: starlark.New(starlark.Config{}),
		Meta: builtin.Meta{}, Feedback: builtin.Feedback{}, Store: store}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Gens[0].Score != 0 || st.TestScore == nil || *st.TestScore != 0 {
		t.Errorf("leaky harness: val %.3f, test %v; want 0 and 0 (what answering \"0\" scores)", st.Gens[0].Score, st.TestScore)
	}

	// Control: the same harness over the raw public folder and every
	// labelled row reads the val answers.
	var raw []task.Example
	for _, it := range data.Items(task.Val) {
		raw = append(raw, task.Example{Item: it, Label: data.Gold(task.Val)[it.ID]})
	}
	h, err := starlark.New(starlark.Config{}).Load(t.Context(), harness.Source{Name: "h.star", Code: []byte(leaky)},
		harness.Env{Public: tk.Public(), Train: append(raw, data.Train...)})
	if err != nil {
		t.Fatal(err)
	}
	trajs, err := rollout.Run(t.Context(), h, data.Items(task.Val), rollout.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for _, tr := range trajs {
		if tr.Answer == data.Gold(task.Val)[tr.Item] {
			right++
		}
	}
	if right != len(trajs) {
		t.Errorf("control: the leaky harness found %d of %d val labels in the raw data; the test would not notice a leak", right, len(trajs))
	}
}
