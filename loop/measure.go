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
	"github.com/sia-agent/sia/harness/python"
	"github.com/sia-agent/sia/rollout"
	"github.com/sia-agent/sia/task"
)

// fileMeasurements lists a session's measurements (one JSON line each, no
// per-item rows) in the folder of the generation the session writes.
const fileMeasurements = "measurements.jsonl"

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
		if err := appendLine(r.d.Store.Path(genRel(gen, fileMeasurements)), line); err != nil {
			return nil, err
		}
		return res, nil
	}
}

// evalFold sets src up on fold.Train over the incumbent's adapter (the
// base before there is one), solves fold.Solve and verifies the answers
// against the train labels. The harness sees the fold through foldView.
func (r *runner) evalFold(ctx context.Context, src harness.Source, fold measure.Fold, samples, stream int) (*measure.FoldRun, error) {
	base := r.st.Gen(r.st.BestGen)
	dir, ver := "", 0
	if base != nil {
		dir, ver = base.AdapterDir, base.AdapterVersion
	}
	var run *measure.FoldRun
	err := r.runWarm(ctx, func(ctx context.Context) error {
		env, err := r.env(ctx, dir, ver, src)
		if err != nil {
			return err
		}
		cleanup, err := r.foldView(&env, fold.Train, fold.Solve)
		if err != nil {
			return fmt.Errorf("lay out fold %d: %w", fold.Index, err)
		}
		defer cleanup()
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

// foldView narrows env's data to what a harness set up on train and
// solving items may see: ctx.train is train, and the public files are
// laid out with the train file holding exactly train (labels included),
// the items file exactly items (no labels), and the other public files
// as they are. It returns a cleanup for the folder it made.
//
// This is the one call to switch to the data-view package when it lands
// (issue 11); until then it reuses the Python runtime's dataset_dir
// layout. A task whose layout names no train file keeps its public folder
// as it is.
func (r *runner) foldView(env *harness.Env, train []task.Example, items []task.Item) (func(), error) {
	env.Train = train
	if env.Public == nil || env.Layout.TrainFile == "" || env.Layout.ItemsFile == "" {
		return func() {}, nil
	}
	dir, err := os.MkdirTemp("", "sia-fold-*")
	if err != nil {
		return nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	if err := python.Materialize(dir, env.Public, env.Layout, train, items); err != nil {
		cleanup()
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		cleanup()
		return nil, err
	}
	env.Public, env.PublicDir = root.FS(), dir
	return func() { root.Close(); cleanup() }, nil
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
