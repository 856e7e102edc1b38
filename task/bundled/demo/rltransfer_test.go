package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/harness/starlark"
	"github.com/sia-agent/sia/llm/embedded"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/train"
	trainemb "github.com/sia-agent/sia/train/embedded"
	"github.com/sia-agent/sia/trajectory"
)

// TestRLTransfer measures whether weight updates trained on train-split
// rollouts (as the loop trains) raise accuracy on val and test words, which
// never occur in train. A measurement, not a check: SIA_RL_TRANSFER=1.
//
//	SIA_RL_TRANSFER=1 CACHE=~/.cache/sia/models ALG=grpo LR=5e-4 go test ./task/bundled/demo -run RLTransfer -v -timeout 30m
func TestRLTransfer(t *testing.T) {
	if os.Getenv("SIA_RL_TRANSFER") == "" {
		t.Skip("measurement; set SIA_RL_TRANSFER=1")
	}
	getf := func(k string, d float64) float64 {
		if v, err := strconv.ParseFloat(os.Getenv(k), 64); err == nil {
			return v
		}
		return d
	}
	ctx := context.Background()
	docs, err := embedded.EncodeCorpus(Corpus(0))
	if err != nil {
		t.Fatal(err)
	}
	base, path, err := embedded.BaseFor(ctx, Name, docs, embedded.DemoBase(), os.Getenv("CACHE"), nil)
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := task.NewRegistry(Bundle())
	tk, _ := reg.Open(Name, task.Options{})
	ds, err := tk.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := files.ReadFile("reference/harness.star")
	knobs := map[string]any{"variant": "fill", "n_votes": int64(5), "validate": true}
	rt := starlark.New(starlark.Config{})
	trainGold := map[string]string{}
	for _, e := range ds.Train {
		trainGold[e.ID] = e.Label
	}
	gold := map[string]map[string]string{task.Val: ds.Gold(task.Val), task.Test: ds.Gold(task.Test), task.Train: trainGold}

	// run rolls the harness out on a split, k samples per item.
	run := func(m *embedded.Model, split string, k int, salt int64) []trajectory.Trajectory {
		h, err := rt.Load(ctx, harness.Source{Name: "harness.star", Code: src, Knobs: knobs}, harness.Env{Model: m, Train: ds.Train, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		items := ds.Items(split)
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
					r := Scorer{}.ScoreItem(it.ID, ans, gold[split][it.ID])
					out[i*k+s] = trajectory.Trajectory{Item: it.ID, Sample: s, Answer: ans, Status: r.Status, Reward: r.Reward, Steps: rec.Steps()}
				}()
			}
		}
		wg.Wait()
		return out
	}
	// measure reports answer accuracy and single-completion accuracy.
	measure := func(m *embedded.Model, split string, salt int64) (float64, float64) {
		ts := run(m, split, 4, salt)
		acc, comp, n := 0.0, 0.0, 0.0
		for _, tr := range ts {
			acc += tr.Reward
			for _, st := range tr.ModelSteps() {
				n++
				if strings.TrimSpace(strings.SplitN(st.Completion, "\n", 2)[0]) == gold[split][tr.Item] {
					comp++
				}
			}
		}
		return acc / float64(len(ts)), comp / n
	}
	model, _ := embedded.New(base, embedded.Config{})
	report := func(label string, m *embedded.Model) {
		ta, tc := measure(m, task.Train, 7)
		va, vc := measure(m, task.Val, 8)
		xa, xc := measure(m, task.Test, 9)
		fmt.Printf("%-10s train %.3f (%.3f)  val %.3f (%.3f)  test %.3f (%.3f)   [answer acc (single-completion acc)]\n", label, ta, tc, va, vc, xa, xc)
	}
	report("base", model)
	alg := rl.Algorithm(os.Getenv("ALG"))
	if alg == "" {
		alg = rl.GRPO
	}
	tr, err := trainemb.New(base, path, trainemb.Config{LR: getf("LR", 0), Epochs: int(getf("EPOCHS", 0)), KLCoef: getf("KL", 0)})
	if err != nil {
		t.Fatal(err)
	}
	dir, parent, cur := t.TempDir(), "", model
	for u := 1; u <= int(getf("UPDATES", 3)); u++ {
		rollouts := run(cur, task.Train, int(getf("K", 4)), int64(100+u))
		out := filepath.Join(dir, fmt.Sprint(u))
		ad, res, err := tr.TrainAdapter(ctx, train.Request{Gen: u, Algorithm: alg, Rollouts: rollouts, Parent: parent, Version: u, OutDir: out, Seed: int64(u)})
		if err != nil {
			t.Fatal(err)
		}
		parent, cur = out, model.WithAdapter(ad, u)
		report(fmt.Sprintf("%s #%d", alg, u), cur)
		fmt.Printf("           kl %.4f reward %.3f steps %.0f\n", res.Metrics["kl"], res.Metrics["reward"], res.Metrics["steps"])
	}
}
