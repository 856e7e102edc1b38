package demo

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/sia-agent/sia/llm/embedded"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/tinylm"
	"github.com/sia-agent/sia/train"
	trainemb "github.com/sia-agent/sia/train/embedded"
)

// TestEachAlgorithmRaisesValReward runs each of the six algorithms alone for
// two weight updates on the demo task — trained, as the loop trains, on
// rollouts of train-split items whose words never occur in val — and checks
// that val reward rises above the starting adapter's (the base). The base
// is testdata/base.safetensors, the demo's pretrained base (2000 steps on
// Corpus(0); pretraining it here would take minutes). Seeds are fixed, so
// the run is deterministic; the assertion is on the direction only.
//
// It takes about half a minute without the race detector and ten times that
// with it, so it skips under -race; .ci/run runs it without.
func TestEachAlgorithmRaisesValReward(t *testing.T) {
	if raceEnabled {
		t.Skip("slow under the race detector: .ci/run runs it without -race")
	}
	if testing.Short() {
		t.Skip("trains six adapters")
	}
	base, err := tinylm.Load(filepath.Join("testdata", "base.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	model, err := embedded.New(base, embedded.Config{})
	if err != nil {
		t.Fatal(err)
	}
	kit := newEvalKit(t, map[string]any{"variant": "fill", "n_votes": int64(5), "validate": true})
	start, _ := kit.measure(model, task.Val, 8)
	for _, alg := range rl.Algorithms {
		t.Run(string(alg), func(t *testing.T) {
			tr, err := trainemb.New(base, "testdata/base.safetensors", trainemb.Config{})
			if err != nil {
				t.Fatal(err)
			}
			dir, parent, cur := t.TempDir(), "", model
			best := start
			var line string
			for u := 1; u <= 2; u++ {
				rollouts := kit.run(cur, task.Train, 4, int64(100+u))
				out := filepath.Join(dir, fmt.Sprint(u))
				ad, res, err := tr.TrainAdapter(context.Background(), train.Request{Gen: u, Algorithm: alg, Rollouts: rollouts,
					Parent: parent, Version: u, OutDir: out, Seed: int64(u)})
				if err != nil {
					t.Fatal(err)
				}
				parent, cur = out, model.WithAdapter(ad, u)
				val, _ := kit.measure(cur, task.Val, 8)
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
