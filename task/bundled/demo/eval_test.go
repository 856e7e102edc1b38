package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/harness/starlark"
	"github.com/sia-agent/sia/llm/embedded"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/tinylm"
	"github.com/sia-agent/sia/train"
	trainemb "github.com/sia-agent/sia/train/embedded"
	"github.com/sia-agent/sia/trajectory"
)

// TestDemoEval is the measurement behind docs/demo.md, run by hand:
//
//	SIA_DEMO_EVAL=1 go test ./task/bundled/demo -run DemoEval -v -timeout 30m
//
// It pretrains (or loads) the base, scores the reference harness on val
// under a sequence of knob settings (what a knob search walks through), then
// runs weight updates on the best setting's val rollouts and scores val and
// test after each. Env: SEED, STEPS (pretraining), ALG, GENS, CACHE.
func TestDemoEval(t *testing.T) {
	if os.Getenv("SIA_DEMO_EVAL") == "" {
		t.Skip("measurement; set SIA_DEMO_EVAL=1")
	}
	env := func(k string, d int) int {
		if v, err := strconv.Atoi(os.Getenv(k)); err == nil {
			return v
		}
		return d
	}
	seed := int64(env("SEED", 1))
	ctx := context.Background()
	w := NewWorld(seed)
	docs, err := embedded.EncodeCorpus(w.Corpus(CorpusOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	cfg := embedded.DemoBase()
	if s := env("STEPS", 0); s > 0 {
		cfg.Pretrain.Steps = s
	}
	if d := env("DMODEL", 0); d > 0 {
		cfg.Model.DModel, cfg.Model.Layers, cfg.Model.MLP = d, env("LAYERS", 2), 3*d
	}
	cache := os.Getenv("CACHE")
	if cache == "" {
		cache = t.TempDir()
	}
	start := time.Now()
	last := time.Now()
	base, path, err := embedded.BaseFor(ctx, Name, docs, cfg, cache, func(step, total int, loss float64) {
		if time.Since(last) > 15*time.Second || step == total {
			last = time.Now()
			fmt.Printf("pretrain %d/%d loss %.3f (%.0fs)\n", step, total, loss, time.Since(start).Seconds())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("base %s ready in %.0fs (%d params)\n", filepath.Base(path), time.Since(start).Seconds(), base.NumParams())

	reg, _ := task.NewRegistry(Bundle())
	tk, err := reg.Open(Name, task.Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := tk.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := files.ReadFile("reference/harness.star")
	rt := starlark.New(starlark.Config{})
	model, _ := embedded.New(base, embedded.Config{Name: "tinylm-demo"})

	score := func(m *embedded.Model, knobs map[string]any, split string, gen int) (float64, []trajectory.Trajectory) {
		h, err := rt.Load(ctx, harness.Source{Name: "harness.star", Code: src, Knobs: knobs}, harness.Env{Model: m, Train: ds.Train, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		items := ds.Items(split)
		gold := ds.Gold(split)
		trajs := make([]trajectory.Trajectory, len(items))
		var wg sync.WaitGroup
		sem := make(chan struct{}, 2)
		for i, it := range items {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				rec := trajectory.NewRecorder()
				ans, err := h.Solve(ctx, it, harness.Sample{Seed: seed*1000003 + int64(gen)*7919 + int64(i), Rec: rec})
				r := Scorer{}.ScoreItem(it.ID, ans, gold[it.ID])
				tr := trajectory.Trajectory{Gen: gen, Split: split, Item: it.ID, Answer: ans, Status: r.Status, Reward: r.Reward, Steps: rec.Steps()}
				if err != nil {
					tr.Error = err.Error()
				}
				trajs[i] = tr
			}()
		}
		wg.Wait()
		acc := 0.0
		for _, tr := range trajs {
			acc += tr.Reward
		}
		return acc / float64(len(trajs)), trajs
	}

	settings := []map[string]any{
		{},
		{"variant": "fill"},
		{"variant": "fill", "shots": 2},
		{"variant": "fill", "shots": 2, "n_votes": 9},
		{"variant": "fill", "shots": 2, "n_votes": 9, "validate": true},
		{"variant": "fill", "shots": 2, "n_votes": 9, "validate": true, "temperature": 0.7},
		{"variant": "fill", "shots": 4, "n_votes": 9, "validate": true, "temperature": 0.7},
		{"variant": "fill", "shots": 0, "n_votes": 9, "validate": true, "temperature": 0.7},
	}
	best, bestAcc := settings[0], -1.0
	for _, k := range settings {
		t0 := time.Now()
		acc, _ := score(model, k, task.Val, 0)
		fmt.Printf("val %.3f  knobs %v  (%.1fs)\n", acc, k, time.Since(t0).Seconds())
		if acc > bestAcc {
			best, bestAcc = k, acc
		}
	}
	testAcc, _ := score(model, best, task.Test, 0)
	fmt.Printf("best harness: val %.3f test %.3f knobs %v\n", bestAcc, testAcc, best)

	alg := rl.Algorithm(os.Getenv("ALG"))
	if alg == "" {
		alg = rl.GRPO
	}
	lr, _ := strconv.ParseFloat(os.Getenv("LR"), 64)
	tr, err := trainemb.New(base, path, trainemb.Config{LR: lr})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	parent := ""
	cur := model
	for gen := 1; gen <= env("GENS", 3); gen++ {
		_, rollouts := score(cur, best, task.Val, gen)
		samples, _ := trainemb.RewardSamples(ctx, base, cur.Adapter(), rollouts)
		st := rl.ComputeStats(samples)
		rec, why := rl.Select(st)
		t0 := time.Now()
		out := filepath.Join(dir, fmt.Sprint(gen))
		ad, res, err := tr.TrainAdapter(ctx, train.Request{Gen: gen, Algorithm: alg, Rollouts: rollouts, Parent: parent, Version: gen, OutDir: out, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		parent = out
		cur = model.WithAdapter(ad, gen)
		v, _ := score(cur, best, task.Val, 100+gen)
		te, _ := score(cur, best, task.Test, 100+gen)
		fmt.Printf("gen %d %s (rule says %s: %s): train %.1fs steps %.0f reward %.3f kl %.4f → val %.3f test %.3f\n",
			gen, alg, rec, why, time.Since(t0).Seconds(), res.Metrics["steps"], res.Metrics["reward"], res.Metrics["kl"], v, te)
	}
	_ = tinylm.TokBOS
}
