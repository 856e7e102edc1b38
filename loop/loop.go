package loop

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/dataview"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/task"
)

// step is a state of the machine: the next thing to do.
type step int

const (
	stepStart    step = iota // append run_started
	stepMeta                 // the Meta-Agent writes gen 1's harness
	stepAnnounce             // a decided harness is on disk; announce it
	stepTrain                // a weights gen: roll out on train, train the adapter
	stepRollout              // roll the gen's harness out on val
	stepVerify               // score the rollouts, keep the best
	stepDecide               // the Feedback-Agent picks a lever (or stop)
	stepConfirm              // re-score the final incumbent: fresh samples, the confirmation slice
	stepTest                 // score the incumbent once on test
	stepFinish               // write the summary, append run_finished
	stepDone
)

var stepNames = [...]string{"start", "meta", "announce", "train", "rollout", "verify", "decide", "confirm", "test", "finish", "done"}

func (s step) String() string { return stepNames[s] }

// next derives the next step from the replayed state alone: this is what
// makes resume exact.
func (r *runner) next() step {
	st := &r.st
	last := st.Last()
	switch {
	case !st.Started:
		return stepStart
	case st.Finished:
		return stepDone
	case last == nil:
		return stepMeta
	case !last.HarnessReady:
		return stepAnnounce
	case !last.AdapterReady:
		return stepTrain
	case !last.RolledOut:
		return stepRollout
	case !last.Verified:
		return stepVerify
	case st.TestScore != nil:
		return stepFinish
	case last.Decided, last.Gen >= r.cfg.MaxGen:
		// a decided gen is still last only when the decision was stop
		if st.Confirm == nil {
			return stepConfirm
		}
		return stepTest
	default:
		return stepDecide
	}
}

// Run runs (or resumes) the loop. cfg is complete (Config.WithDefaults);
// events are the run's recorded events (nil for a new run). It returns the
// final state.
func Run(ctx context.Context, cfg Config, d Deps, events []runstore.Event) (runstore.State, error) {
	if err := cfg.Validate(); err != nil {
		return runstore.State{}, err
	}
	if d.Data == nil {
		return runstore.State{}, errors.New("loop: no dataset")
	}
	if err := CheckTrainer(cfg.Mode, d.Trainer != nil); err != nil {
		return runstore.State{}, err
	}
	view, err := dataview.New(d.Task, d.Data)
	if err != nil {
		return runstore.State{}, err
	}
	r := &runner{cfg: cfg, d: d, higher: d.Task.Spec.HigherIsBetter(), view: view}
	r.sel, r.conf = splitVal(d.Data.Items(task.Val), cfg.ConfirmFrac, cfg.Seed)
	if err := r.replay(events); err != nil {
		return r.st, fmt.Errorf("resume: %w", err)
	}
	if cfg.Mode == agent.ModeAuto && d.Trainer == nil {
		r.progress(Progress{Kind: "notice", Text: "no trainer is available for this target: auto mode continues with the harness lever only"})
	}
	if err := r.repairFiles(); err != nil {
		return r.st, fmt.Errorf("resume: %w", err)
	}
	if err := r.repairAdapters(ctx); err != nil {
		return r.st, err
	}
	if r.st.BestGen > 0 { // a kill may have landed between verified and best/
		if err := r.syncBest(); err != nil {
			return r.st, err
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return r.st, err
		}
		s := r.next()
		gen := 0
		if last := r.st.Last(); last != nil {
			gen = last.Gen
		}
		var err error
		switch s {
		case stepStart:
			err = r.emit(runstore.Event{Type: runstore.EvRunStarted})
		case stepMeta:
			err = r.meta(ctx)
		case stepAnnounce:
			err = r.announce(gen)
		case stepTrain:
			err = r.train(ctx, gen)
		case stepRollout:
			err = r.rollout(ctx, gen)
		case stepVerify:
			err = r.verify(ctx, gen)
		case stepDecide:
			err = r.decide(ctx, gen)
		case stepConfirm:
			err = r.confirm(ctx)
		case stepTest:
			err = r.test(ctx)
		case stepFinish:
			err = r.finish()
		case stepDone:
			return r.st, nil
		}
		if err != nil {
			return r.st, fmt.Errorf("gen %d %s: %w", gen, s, err)
		}
	}
}

// runner holds the machine's data: config, collaborators and the state
// replayed from the events appended so far.
type runner struct {
	cfg    Config
	d      Deps
	higher bool
	view   *dataview.Builder // what harnesses and agents may see of the data
	events []runstore.Event
	st     runstore.State
	warm   warmState // see warm.go
	// sel is the selection slice of val: every val rollout, comparison and
	// agent view during the search. conf is the confirmation slice, held
	// out until the final incumbent is re-scored (empty when none).
	sel, conf []task.Item
}

func (r *runner) replay(events []runstore.Event) error {
	st, err := runstore.Replay(events, r.higher)
	if err != nil {
		return err
	}
	r.events, r.st = events, st
	return nil
}

// agentView is what the agents' file tools show of the task's data: the
// view a harness solving the selection slice of val has (its items
// unlabelled, no held-out row: the confirmation slice is not in it at all).
func (r *runner) agentView() fs.FS {
	v, err := r.view.View(dataview.Request{Solving: r.sel})
	if err != nil {
		return nil
	}
	return v.Files
}

// emit appends an event and folds it into the state.
func (r *runner) emit(e runstore.Event) error {
	e, err := r.d.Store.Append(e)
	if err != nil {
		return err
	}
	return r.replay(append(r.events, e))
}

func (r *runner) progress(p Progress) {
	if r.d.Progress != nil {
		r.d.Progress(p)
	}
}

func since(t time.Time) float64 { return time.Since(t).Seconds() }
