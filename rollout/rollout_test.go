package rollout

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
)

// behaviour picks what the fake harness does per item id.
type fakeHarness struct{}

func (fakeHarness) Solve(ctx context.Context, item task.Item, s harness.Sample) (string, error) {
	switch item.ID {
	case "ok":
		s.Rec.Log("fine")
		return "42", nil
	case "sleep": // honours cancellation
		select {
		case <-time.After(time.Hour):
			return "late", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	case "panic":
		panic("boom")
	case "error":
		return "", errors.New("bad input")
	case "deaf": // ignores cancellation for a while
		time.Sleep(300 * time.Millisecond)
		return "deaf", nil
	}
	return "", errors.New("unknown")
}
func (fakeHarness) Decl() harness.Decl { return harness.Decl{} }
func (fakeHarness) Close() error       { return nil }

func TestRunFailuresAreRecorded(t *testing.T) {
	items := []task.Item{{ID: "ok"}, {ID: "sleep"}, {ID: "panic"}, {ID: "error"}, {ID: "deaf"}}
	before := runtime.NumGoroutine()
	cfg := Config{Gen: 1, Split: "val", Samples: 2, Parallel: 3, ItemTimeout: 50 * time.Millisecond, Grace: 20 * time.Millisecond, Seed: 1}
	var calls atomic.Int64
	trajs, err := Run(t.Context(), fakeHarness{}, items, cfg, func(done, total int) { calls.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	if len(trajs) != 10 || calls.Load() != 10 {
		t.Fatalf("got %d trajectories, %d progress calls", len(trajs), calls.Load())
	}
	tests := []struct {
		item, answer, errPart string
	}{
		{"ok", "42", ""},
		{"sleep", "", "timed out"},
		{"panic", "", "panicked: boom"},
		{"error", "", "bad input"},
		{"deaf", "", "ignored cancellation"},
	}
	for i, tc := range tests {
		for k := 0; k < 2; k++ {
			tr := trajs[i*2+k]
			if tr.Item != tc.item || tr.Sample != k {
				t.Fatalf("slot %d holds %s/%d", i*2+k, tr.Item, tr.Sample)
			}
			if tr.Answer != tc.answer || !strings.Contains(tr.Error, tc.errPart) || (tc.errPart == "") != (tr.Error == "") {
				t.Errorf("%s/%d: answer %q error %q, want %q / %q", tc.item, k, tr.Answer, tr.Error, tc.answer, tc.errPart)
			}
		}
	}
	// The deaf solves finish 300 ms after start; afterwards nothing is left.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines left behind", n-before)
	}
}

func TestSampleSeedStable(t *testing.T) {
	a := SampleSeed(1, 2, "x", 0)
	if a != SampleSeed(1, 2, "x", 0) {
		t.Fatal("seed not deterministic")
	}
	for _, b := range []int64{SampleSeed(2, 2, "x", 0), SampleSeed(1, 3, "x", 0), SampleSeed(1, 2, "y", 0), SampleSeed(1, 2, "x", 1)} {
		if a == b {
			t.Error("distinct samples share a seed")
		}
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Run(ctx, fakeHarness{}, []task.Item{{ID: "ok"}}, Config{}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}

// deadlineBatch records how long SolveAll was given.
type deadlineBatch struct {
	fakeHarness
	got time.Duration
}

func (b *deadlineBatch) SolveAll(ctx context.Context, items []task.Item, _ int, _ int64, _ map[string]*trajectory.Recorder) (map[string]string, error) {
	dl, _ := ctx.Deadline()
	b.got = time.Until(dl)
	return map[string]string{}, nil
}

// A batch harness gets exactly the time its items would get one by one:
// no hidden minimum stretches --item-timeout.
func TestBatchTimeoutIsTheItemTimeout(t *testing.T) {
	b := &deadlineBatch{}
	items := []task.Item{{ID: "a"}, {ID: "b"}, {ID: "c"}}
	if _, err := Run(t.Context(), b, items, Config{ItemTimeout: 2 * time.Second, Parallel: 2}, nil); err != nil {
		t.Fatal(err)
	}
	if want := 4 * time.Second; b.got > want || b.got < want-time.Second {
		t.Errorf("the batch run got %s, want %s (2s × ⌈3/2⌉)", b.got, want)
	}
}
