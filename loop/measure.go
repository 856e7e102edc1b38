package loop

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/agent/measure"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/rollout"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/task"
)

// A session's measurements are listed (one JSON line each, no per-item
// rows) in runstore.MeasurementsFile of the generation the session writes.

// measureCost is what an agent session's measurements cost, charged to
// the run with the session's event.
type measureCost struct {
	mu      sync.Mutex
	tokens  int
	costUSD float64
	seconds float64
	n       int
}

func (c *measureCost) add(res *measure.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tokens += res.Tokens
	c.costUSD += res.CostUSD
	c.seconds += res.Seconds
	c.n++
}

func (c *measureCost) totals() (tokens int, usd float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tokens, c.costUSD
}

// measureFunc is the agents' measuring tool for a session that writes
// generation gen: it measures a harness on the train split (never val or
// test) over the incumbent's adapter, records a summary line per
// measurement in gen_<gen>/measurements.jsonl and adds the cost to cost.
func (r *runner) measureFunc(gen int, cost *measureCost) agent.MeasureFunc {
	return func(ctx context.Context, src harness.Source, req measure.Request) (*measure.Result, error) {
		res, err := measure.Run(ctx, r.evalFold, src, r.d.Data.Train, req)
		if err != nil {
			return nil, err
		}
		cost.add(res)
		summary := *res
		summary.Items = nil // the per-item rows stay with the session
		line, err := json.Marshal(summary)
		if err != nil {
			return nil, err
		}
		if err := appendLine(r.d.Store.Path(runstore.GenFile(gen, runstore.MeasurementsFile)), line); err != nil {
			return nil, err
		}
		return res, nil
	}
}

// evalFold sets src up on fold.Train over the incumbent's adapter (the
// base before there is one), solves fold.Solve and verifies the answers
// against the train labels. The harness sees the run's data view for a
// run solving the fold (package dataview): the fold's labels are nowhere.
func (r *runner) evalFold(ctx context.Context, src harness.Source, fold measure.Fold, samples, stream int) (*measure.FoldRun, error) {
	base := r.st.Gen(r.st.BestGen)
	dir, ver := "", 0
	if base != nil {
		dir, ver = base.AdapterDir, base.AdapterVersion
	}
	var run *measure.FoldRun
	err := r.runWarm(ctx, func(ctx context.Context) error {
		// The data view of a run solving the fold's train items: they
		// leave ctx.train and the train file, and appear in the items
		// file without labels.
		env, err := r.env(ctx, dir, ver, src, fold.Solve)
		if err != nil {
			return err
		}
		if len(env.Train) != len(fold.Train) {
			return fmt.Errorf("fold %d: the data view holds %d train examples, the fold %d", fold.Index, len(env.Train), len(fold.Train))
		}
		run = &measure.FoldRun{}
		var mu sync.Mutex
		env.SetupLog = func(line string) {
			mu.Lock()
			run.SetupLog = append(run.SetupLog, line)
			mu.Unlock()
		}
		start := time.Now()
		h, err := r.d.Runtime.Load(ctx, src, env)
		run.SetupS = since(start)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			run.SetupError = err.Error()
			return nil
		}
		defer h.Close()
		cfg := r.rolloutConfig(0, task.Train, src.SHA(), ver, samples)
		cfg.Stream = stream
		trajs, err := rollout.Run(ctx, h, fold.Solve, cfg, nil)
		mu.Lock()
		run.Trajectories = trajs
		mu.Unlock()
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(run.Trajectories) > 0 {
		if _, err := r.score(ctx, task.Train, run.Trajectories, samples); err != nil {
			return nil, err
		}
	}
	return run, nil
}

// appendLine appends one line to a file, creating it and its folder.
func appendLine(path string, line []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
