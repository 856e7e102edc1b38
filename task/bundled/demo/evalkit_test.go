package demo

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/harness/starlark"
	"github.com/sia-agent/sia/llm/embedded"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
)

// evalKit rolls the reference harness out on the demo's splits with a fixed
// knob setting, for the measurements and the per-algorithm tests.
type evalKit struct {
	t     testing.TB
	ds    *task.Dataset
	rt    *starlark.Runtime
	src   []byte
	knobs map[string]any
	gold  map[string]map[string]string
}

func newEvalKit(t testing.TB, knobs map[string]any) *evalKit {
	t.Helper()
	reg, _ := task.NewRegistry(Bundle())
	tk, err := reg.Open(Name, task.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := tk.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	src, _ := files.ReadFile("reference/harness.star")
	trainGold := map[string]string{}
	for _, e := range ds.Train {
		trainGold[e.ID] = e.Label
	}
	return &evalKit{t: t, ds: ds, rt: starlark.New(starlark.Config{}), src: src, knobs: knobs,
		gold: map[string]map[string]string{task.Val: ds.Gold(task.Val), task.Test: ds.Gold(task.Test), task.Train: trainGold}}
}

// run solves every item of split k times; rewards come from the demo's scorer.
func (e *evalKit) run(m *embedded.Model, split string, k int, salt int64) []trajectory.Trajectory {
	ctx := context.Background()
	h, err := e.rt.Load(ctx, harness.Source{Name: "harness.star", Code: e.src, Knobs: e.knobs}, harness.Env{Model: m, Train: e.ds.Train, Seed: 1})
	if err != nil {
		e.t.Fatal(err)
	}
	defer h.Close()
	items := e.ds.Items(split)
	out := make([]trajectory.Trajectory, len(items)*k)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, it := range items {
		for s := range k {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				rec := trajectory.NewRecorder()
				ans, _ := h.Solve(ctx, it, harness.Sample{Index: s, Seed: salt*1_000_003 + int64(i*31+s), Rec: rec})
				r := Scorer{}.ScoreItem(it.ID, ans, e.gold[split][it.ID])
				out[i*k+s] = trajectory.Trajectory{Item: it.ID, Sample: s, Answer: ans, Status: r.Status, Reward: r.Reward, Steps: rec.Steps()}
			}()
		}
	}
	wg.Wait()
	return out
}

// perCall splits each rollout into one single-call trajectory per model
// call, rewarded by the call's own completion: 1 when it is the word, fits
// when it fits the pattern but is another word, 0 otherwise.
func (e *evalKit) perCall(ts []trajectory.Trajectory, fits float64) []trajectory.Trajectory {
	pattern := map[string]string{}
	for _, it := range e.ds.Train {
		pattern[it.ID], _ = it.Fields["pattern"].(string)
	}
	var out []trajectory.Trajectory
	for _, tr := range ts {
		for k, st := range tr.ModelSteps() {
			c := strings.TrimSpace(strings.SplitN(st.Completion, "\n", 2)[0])
			r := 0.0
			switch {
			case c == e.gold[task.Train][tr.Item]:
				r = 1
			case Fits(pattern[tr.Item], c):
				r = fits
			}
			out = append(out, trajectory.Trajectory{Item: tr.Item, Sample: tr.Sample*100 + k, Answer: c, Reward: r, Steps: []trajectory.Step{st}})
		}
	}
	return out
}

// measure returns answer accuracy and single-completion accuracy on split,
// over 4 samples per item.
func (e *evalKit) measure(m *embedded.Model, split string, salt int64) (answer, completion float64) {
	ts := e.run(m, split, 4, salt)
	n := 0.0
	for _, tr := range ts {
		answer += tr.Reward
		for _, st := range tr.ModelSteps() {
			n++
			if strings.TrimSpace(strings.SplitN(st.Completion, "\n", 2)[0]) == e.gold[split][tr.Item] {
				completion++
			}
		}
	}
	return answer / float64(len(ts)), completion / n
}
