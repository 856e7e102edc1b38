package tinylm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPretrainResumes kills a pretraining part-way, at a save point and
// between two, and checks that the resumed run ends on the same weights
// as an uninterrupted one; a state file from another pretraining is
// refused with a line and the run starts afresh.
func TestPretrainResumes(t *testing.T) {
	cfg := Config{Vocab: TokenizerVocab, DModel: 32, Layers: 1, Heads: 2, MLP: 64, Context: 32, Seed: 1}
	doc := append([]int{TokBOS}, NewTokenizer().Encode("abcabdabe abcabdabe")...)
	base := PretrainOptions{Steps: 60, BatchSeqs: 2, SeqLen: 12, LR: 3e-3, Seed: 5, SaveEvery: 20}
	want, err := Pretrain(context.Background(), cfg, [][]int{doc}, base)
	if err != nil {
		t.Fatal(err)
	}
	for _, killAt := range []int{20, 33} {
		state := filepath.Join(t.TempDir(), "base.partial")
		opt := base
		opt.Resume = state
		ctx, cancel := context.WithCancel(context.Background())
		opt.Progress = func(step, _ int, _ float64) {
			if step == killAt {
				cancel()
			}
		}
		if _, err := Pretrain(ctx, cfg, [][]int{doc}, opt); !errors.Is(err, context.Canceled) {
			t.Fatalf("kill at %d: %v", killAt, err)
		}
		if _, err := os.Stat(state); err != nil {
			t.Fatalf("kill at %d: no state saved: %v", killAt, err)
		}
		var lines []string
		firstStep := 0
		opt.Progress = func(step, _ int, _ float64) {
			if firstStep == 0 {
				firstStep = step
			}
		}
		opt.Log = func(l string) { lines = append(lines, l) }
		got, err := Pretrain(context.Background(), cfg, [][]int{doc}, opt)
		if err != nil {
			t.Fatal(err)
		}
		if firstStep != killAt+1 || len(lines) != 1 || !strings.Contains(lines[0], "resuming pretraining at step") {
			t.Errorf("kill at %d: resumed at step %d, log %q", killAt, firstStep-1, lines)
		}
		if got.Hash() != want.Hash() {
			t.Errorf("kill at %d: the resumed pretraining ends on other weights than an uninterrupted one", killAt)
		}
		if _, err := os.Stat(state); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("kill at %d: state file left after completion: %v", killAt, err)
		}
	}

	// A state saved by another pretraining (another seed) is not used.
	state := filepath.Join(t.TempDir(), "base.partial")
	other := base
	other.Seed, other.Resume = 6, state
	ctx, cancel := context.WithCancel(context.Background())
	other.Progress = func(step, _ int, _ float64) {
		if step == 25 {
			cancel()
		}
	}
	if _, err := Pretrain(ctx, cfg, [][]int{doc}, other); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	opt := base
	opt.Resume = state
	var lines []string
	opt.Log = func(l string) { lines = append(lines, l) }
	got, err := Pretrain(context.Background(), cfg, [][]int{doc}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "another pretraining") {
		t.Errorf("log %q: want one line saying the state is another pretraining's", lines)
	}
	if got.Hash() != want.Hash() {
		t.Error("after refusing a foreign state, the pretraining does not end where a fresh one does")
	}
}
