package embedded

import (
	"bufio"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/train"
	"github.com/sia-agent/sia/trajectory"
)

// TestDPOIsPlainByDefault: with the default config the DPO loss is
// −log σ(margin) alone; at the first step the policy is the reference, so
// the margin is 0 and the loss is log 2.
func TestDPOIsPlainByDefault(t *testing.T) {
	base := tinyBase(t)
	tr, err := New(base, "tiny", Config{MinibatchSeqs: 256})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	metrics := filepath.Join(out, "train.jsonl")
	if _, err := tr.Train(t.Context(), train.Request{Algorithm: rl.DPO, Rollouts: rollouts(t, base, nil, 1),
		OutDir: filepath.Join(out, "a"), MetricsPath: metrics, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(metrics)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		t.Fatal("no metrics line")
	}
	var m StepMetrics
	if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if math.Abs(m.Loss-math.Ln2) > 1e-4 {
		t.Errorf("first-step DPO loss %.6f, want log 2 = %.6f (plain DPO, no NLL term)", m.Loss, math.Ln2)
	}
}

// TestZeroUnitUpdateRefused: entropic weighting with one sample per item
// gives every sample advantage 0; the trainer refuses instead of writing
// an unchanged adapter as a new version.
func TestZeroUnitUpdateRefused(t *testing.T) {
	base := tinyBase(t)
	var one []trajectory.Trajectory
	for _, r := range rollouts(t, base, nil, 2) {
		if r.Sample == 0 {
			one = append(one, r)
		}
	}
	tr, err := New(base, "tiny", Config{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "adapter")
	res, err := tr.Train(t.Context(), train.Request{Algorithm: rl.Entropic, Rollouts: one, OutDir: out, Seed: 1})
	if !errors.Is(err, train.ErrNothingToTrain) {
		t.Errorf("zero-unit update: got %+v, %v; want train.ErrNothingToTrain", res, err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a zero-unit update wrote an adapter")
	}
}
