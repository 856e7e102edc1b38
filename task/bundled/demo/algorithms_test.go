package demo

import (
	"path/filepath"
	"testing"

	"github.com/sia-agent/sia/task/bundled/internal/evalkit"
)

// TestEachAlgorithmRaisesValReward runs each of the six algorithms alone for
// two weight updates on the demo task — trained, as the loop trains, on
// rollouts of train-split items whose words never occur in val — and checks
// that val reward rises above the starting adapter's (the base). The base
// is testdata/base.safetensors, the demo's pretrained base (2000 steps on
// Corpus(0); pretraining it here would take minutes).
//
// It takes about half a minute without the race detector and ten times that
// with it, so it skips under -race; .ci/run runs it without.
func TestEachAlgorithmRaisesValReward(t *testing.T) {
	kit := evalkit.New(t, Bundle(), map[string]any{"variant": "fill", "n_votes": int64(5), "validate": true})
	evalkit.EachAlgorithm(t, kit, filepath.Join("testdata", "base.safetensors"), 2)
}
