package cipher

import (
	"path/filepath"
	"testing"

	"github.com/sia-agent/sia/task/bundled/internal/evalkit"
)

// TestEachAlgorithmRaisesValReward runs each of the six algorithms alone for
// two weight updates — trained, as the loop trains, on rollouts of the 192
// train words, none of which is a val word — and checks that val reward
// rises above the base's. The base is testdata/base.safetensors, the
// task's pretrained base (2000 steps on Corpus(0), what `sia model pretrain
// --task cipher` makes). It skips under -race; .ci/run runs it without.
func TestEachAlgorithmRaisesValReward(t *testing.T) {
	kit := evalkit.New(t, Bundle(), map[string]any{"variant": "tr", "n_votes": int64(5)})
	evalkit.EachAlgorithm(t, kit, filepath.Join("testdata", "base.safetensors"), 2)
}
