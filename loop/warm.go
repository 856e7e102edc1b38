package loop

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/llm"
)

// A task model with slow one-time setup (the embedded base model's
// pretraining) is warmed before a rollout, outside every item's timeout.
// For a Starlark harness, whether the model is called at all depends on
// what runs: a harness may mention model.chat in a branch its knob
// settings never take. So its loads and rollouts run under runWarm: the
// model is wrapped so that, while it is cold, a call fails at once; if any
// call did, the model is warmed and the load and rollout run again (they
// are seeded, so the rerun is what the first run would have been). A
// harness that never calls the model never warms it.

// warmState is the runner's knowledge of the task model's warmth.
type warmState struct {
	done atomic.Bool  // warmed in this process
	cold atomic.Int64 // calls refused while cold
}

// errColdModel is what a call to a cold model gets under runWarm.
var errColdModel = errors.New("the task model is not prepared yet (the run prepares it and solves the item again)")

type lazyWarmKey struct{}

// lazyWarm reports whether ctx is under runWarm.
func lazyWarm(ctx context.Context) bool { return ctx.Value(lazyWarmKey{}) != nil }

// coldGuard refuses calls until the model is warm.
func (w *warmState) coldGuard(m llm.Model) llm.Model {
	return llm.ModelFunc(func(ctx context.Context, req llm.Request) (*llm.Completion, error) {
		if !w.done.Load() {
			w.cold.Add(1)
			return nil, errColdModel
		}
		return m.Chat(ctx, req)
	})
}

// lazyFor reports whether src's load may skip warming and guard instead:
// under runWarm, for Starlark harnesses (a Python harness reaches the model
// through the gateway, from another process, and is warmed first).
func (w *warmState) lazyFor(ctx context.Context, src harness.Source) bool {
	return lazyWarm(ctx) && !w.done.Load() && strings.HasSuffix(src.Name, ".star")
}

// runWarm runs fn (a load and a rollout) with the model cold-guarded; if
// the harness called the cold model, it warms the model under ctx and runs
// fn again.
func (r *runner) runWarm(ctx context.Context, fn func(ctx context.Context) error) error {
	before := r.warm.cold.Load()
	err := fn(context.WithValue(ctx, lazyWarmKey{}, true))
	if r.warm.cold.Load() == before || ctx.Err() != nil {
		return err
	}
	if err := r.warmModel(ctx); err != nil {
		return err
	}
	return fn(ctx)
}

// warmModel prepares the task model (its base) once.
func (r *runner) warmModel(ctx context.Context) error {
	if r.d.Policy == nil || r.warm.done.Load() {
		return nil
	}
	m, err := r.d.Policy(ctx, "", 0)
	if err != nil {
		return fmt.Errorf("task model: %w", err)
	}
	if w, ok := m.(Warmer); ok {
		r.progress(Progress{Kind: "step", Step: "warm", Text: "preparing the task model"})
		if err := w.Warm(ctx); err != nil {
			return fmt.Errorf("task model: %w", err)
		}
	}
	r.warm.done.Store(true)
	return nil
}
