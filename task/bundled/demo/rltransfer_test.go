package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sia-agent/sia/llm/embedded"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/task/bundled/internal/evalkit"
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
	docs, err := embedded.EncodeCorpus(NewWorld(0).Corpus(CorpusOptions{SloppyRate: getf("SLOPPY", 0)}))
	if err != nil {
		t.Fatal(err)
	}
	cfg := embedded.DemoBase()
	if v := int(getf("STEPS", 0)); v > 0 {
		cfg.Pretrain.Steps = v
	}
	if v := int(getf("DMODEL", 0)); v > 0 {
		cfg.Model.DModel, cfg.Model.MLP = v, 3*v
	}
	base, path, err := embedded.BaseFor(ctx, Name, docs, cfg, os.Getenv("CACHE"), nil)
	if err != nil {
		t.Fatal(err)
	}
	kit := evalkit.New(t, Bundle(), map[string]any{"variant": "fill", "n_votes": int64(5), "validate": true})
	measure := kit.Measure
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
	tcfg := trainemb.Config{LR: getf("LR", 0), Epochs: int(getf("EPOCHS", 0)), KLCoef: getf("KL", 0)}
	tcfg.LoRA.Rank = int(getf("RANK", 0))
	if v := os.Getenv("TARGETS"); v != "" {
		tcfg.LoRA.Targets = strings.Split(v, ",")
	}
	tr, err := trainemb.New(base, path, tcfg)
	if err != nil {
		t.Fatal(err)
	}
	dir, parent, cur := t.TempDir(), "", model
	for u := 1; u <= int(getf("UPDATES", 3)); u++ {
		rollouts := kit.Run(cur, task.Train, int(getf("K", 4)), int64(100+u))
		if getf("PERCALL", 0) > 0 {
			rollouts = perCall(kit, rollouts, getf("FITS", 0))
		}
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

// perCall splits each rollout into one single-call trajectory per model
// call, rewarded by the call's own completion: 1 when it is the word, fits
// when it fits the pattern but is another word, 0 otherwise.
func perCall(kit *evalkit.Kit, ts []trajectory.Trajectory, fits float64) []trajectory.Trajectory {
	pattern := map[string]string{}
	for _, it := range kit.DS.Train {
		pattern[it.ID], _ = it.Fields["pattern"].(string)
	}
	var out []trajectory.Trajectory
	for _, tr := range ts {
		for k, st := range tr.ModelSteps() {
			c := strings.TrimSpace(strings.SplitN(st.Completion, "\n", 2)[0])
			r := 0.0
			switch {
			case c == kit.Gold[task.Train][tr.Item]:
				r = 1
			case Fits(pattern[tr.Item], c):
				r = fits
			}
			out = append(out, trajectory.Trajectory{Item: tr.Item, Sample: tr.Sample*100 + k, Answer: c, Reward: r, Steps: []trajectory.Step{st}})
		}
	}
	return out
}
