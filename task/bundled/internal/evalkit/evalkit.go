// Package evalkit rolls a bundled task's reference harness out on the
// embedded model with fixed knobs, outside the loop: the instrument behind
// the offline tasks' measurements and their per-algorithm tests.
package evalkit

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/harness/starlark"
	"github.com/sia-agent/sia/llm/embedded"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/tinylm"
	"github.com/sia-agent/sia/train"
	trainemb "github.com/sia-agent/sia/train/embedded"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

// Kit holds a task's data, its reference harness and a knob setting.
type Kit struct {
	t      testing.TB
	DS     *task.Dataset
	Gold   map[string]map[string]string // split → item id → label; train labels included
	rt     *starlark.Runtime
	src    harness.Source
	scorer verify.Scorer
}

// New loads bundle's data and reference harness, with knobs set.
func New(t testing.TB, bundle *task.Bundle, knobs map[string]any) *Kit {
	t.Helper()
	reg, err := task.NewRegistry(bundle)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := reg.Open(bundle.Name, task.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := tk.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	name, code, err := tk.ReferenceHarness()
	if err != nil {
		t.Fatal(err)
	}
	trainGold := map[string]string{}
	for _, e := range ds.Train {
		trainGold[e.ID] = e.Label
	}
	return &Kit{t: t, DS: ds, rt: starlark.New(starlark.Config{}), scorer: bundle.Scorer,
		src:  harness.Source{Name: filepath.Base(name), Code: code, Knobs: knobs},
		Gold: map[string]map[string]string{task.Val: ds.Gold(task.Val), task.Test: ds.Gold(task.Test), task.Train: trainGold}}
}

// Run solves every item of split k times, two at a time; rewards come from
// the task's scorer. salt varies the sampling seeds.
func (k *Kit) Run(m *embedded.Model, split string, samples int, salt int64) []trajectory.Trajectory {
	ctx := context.Background()
	h, err := k.rt.Load(ctx, k.src, harness.Env{Model: m, Train: k.DS.Train, Seed: 1})
	if err != nil {
		k.t.Fatal(err)
	}
	defer h.Close()
	items := k.DS.Items(split)
	out := make([]trajectory.Trajectory, len(items)*samples)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, it := range items {
		for s := range samples {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				rec := trajectory.NewRecorder()
				ans, _ := h.Solve(ctx, it, harness.Sample{Index: s, Seed: salt*1_000_003 + int64(i*31+s), Rec: rec})
				r := k.scorer.ScoreItem(it.ID, ans, k.Gold[split][it.ID])
				out[i*samples+s] = trajectory.Trajectory{Item: it.ID, Sample: s, Answer: ans, Status: r.Status, Reward: r.Reward, Steps: rec.Steps()}
			}()
		}
	}
	wg.Wait()
	return out
}

// Measure returns answer accuracy and single-completion accuracy (each
// model call's first line against gold) on split, over 4 samples per item.
func (k *Kit) Measure(m *embedded.Model, split string, salt int64) (answer, completion float64) {
	ts := k.Run(m, split, 4, salt)
	n := 0.0
	for _, tr := range ts {
		answer += tr.Reward
		for _, st := range tr.ModelSteps() {
			n++
			if strings.TrimSpace(strings.SplitN(st.Completion, "\n", 2)[0]) == k.Gold[split][tr.Item] {
				completion++
			}
		}
	}
	return answer / float64(len(ts)), completion / n
}

// EachAlgorithm runs each of the six algorithms alone for updates weight
// updates from the base checkpoint at basePath — trained, as the loop
// trains, on rollouts of train-split items — and fails a subtest whose best
// val answer accuracy does not rise above the base's. Seeds are fixed, so a
// run is deterministic; the assertion is on the direction only. It skips
// under the race detector (ten times slower) and with -short.
func EachAlgorithm(t *testing.T, kit *Kit, basePath string, updates int) {
	if raceEnabled {
		t.Skip("slow under the race detector: .ci/run runs it without -race")
	}
	if testing.Short() {
		t.Skip("trains six adapters")
	}
	base, err := tinylm.Load(basePath)
	if err != nil {
		t.Fatal(err)
	}
	model, err := embedded.New(base, embedded.Config{})
	if err != nil {
		t.Fatal(err)
	}
	start, _ := kit.Measure(model, task.Val, 8)
	for _, alg := range rl.Algorithms {
		t.Run(string(alg), func(t *testing.T) {
			tr, err := trainemb.New(base, basePath, trainemb.Config{})
			if err != nil {
				t.Fatal(err)
			}
			dir, parent, cur := t.TempDir(), "", model
			best := start
			var line string
			for u := 1; u <= updates; u++ {
				rollouts := kit.Run(cur, task.Train, 4, int64(100+u))
				out := filepath.Join(dir, fmt.Sprint(u))
				ad, res, err := tr.TrainAdapter(context.Background(), train.Request{Gen: u, Algorithm: alg, Rollouts: rollouts,
					Parent: parent, Version: u, OutDir: out, Seed: int64(u)})
				if err != nil {
					t.Fatal(err)
				}
				parent, cur = out, model.WithAdapter(ad, u)
				val, _ := kit.Measure(cur, task.Val, 8)
				line += fmt.Sprintf(" update %d: val %.3f (kl %.3f)", u, val, res.Metrics["kl"])
				best = max(best, val)
			}
			t.Logf("%s: base val %.3f;%s", alg, start, line)
			if best <= start {
				t.Errorf("%s did not raise val reward over the base (%.3f):%s", alg, start, line)
			}
		})
	}
}
