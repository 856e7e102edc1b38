package rollout

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
)

// Config for one rollout.
type Config struct {
	Run            string
	Gen            int
	Split          string
	HarnessSHA     string
	AdapterVersion int
	Samples        int           // K per item (default 1)
	Parallel       int           // concurrent solves (default GOMAXPROCS)
	ItemTimeout    time.Duration // per sample (default 60 s)
	Seed           int64
	// Stream picks the random stream the samples draw from: sample k of an
	// item gets SampleSeed(Seed, Stream, item, k). Rollouts that are
	// compared with each other share a stream (common random numbers), so
	// their difference is the harness's or the adapter's, not the dice's.
	Stream int
	// Grace is how long a solve that ignores cancellation is waited for
	// after its timeout before it is abandoned (default 2 s).
	Grace time.Duration
	// BatchTimeout bounds one whole-split run of a harness.Batch (default
	// ItemTimeout × ⌈items / Parallel⌉: the time the same items would get
	// one by one, exactly, with no hidden minimum).
	BatchTimeout time.Duration
}

func (c *Config) applyDefaults() {
	if c.Samples <= 0 {
		c.Samples = 1
	}
	if c.Parallel <= 0 {
		c.Parallel = runtime.GOMAXPROCS(0)
	}
	if c.ItemTimeout <= 0 {
		c.ItemTimeout = 60 * time.Second
	}
	if c.Grace <= 0 {
		c.Grace = 2 * time.Second
	}
}

// SampleSeed derives the seed of one sample from the run seed and a stream,
// so a sample gets the same seed whatever order the work is scheduled in,
// and on resume.
func SampleSeed(seed int64, stream int, item string, sample int) int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%d/%s/%d", seed, stream, item, sample)
	return int64(h.Sum64() >> 1)
}

// Progress is told after each finished sample. It is called from the
// rollout's goroutines, concurrently.
type Progress func(done, total int)

// Run solves every item Samples times. A failing or timed-out sample is
// recorded (Error set, an error step) and the rollout goes on; Run returns
// an error only when ctx is cancelled.
func Run(ctx context.Context, h harness.Harness, items []task.Item, cfg Config, progress Progress) ([]trajectory.Trajectory, error) {
	cfg.applyDefaults()
	if b, ok := h.(harness.Batch); ok {
		return runBatch(ctx, b, items, cfg, progress)
	}
	total := len(items) * cfg.Samples
	out := make([]trajectory.Trajectory, total)
	var done atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.Parallel)
	for i, item := range items {
		for k := 0; k < cfg.Samples; k++ {
			slot := i*cfg.Samples + k
			if gctx.Err() != nil {
				break
			}
			g.Go(func() error {
				out[slot] = solveOne(gctx, h, item, k, cfg)
				n := done.Add(1)
				if progress != nil {
					progress(int(n), total)
				}
				return nil
			})
		}
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

type solveResult struct {
	answer string
	err    error
}

func solveOne(ctx context.Context, h harness.Harness, item task.Item, k int, cfg Config) trajectory.Trajectory {
	rec := trajectory.NewRecorder()
	t := trajectory.Trajectory{
		FormatVersion:  trajectory.FormatVersion,
		Run:            cfg.Run,
		Gen:            cfg.Gen,
		Split:          cfg.Split,
		Item:           item.ID,
		Sample:         k,
		HarnessSHA:     cfg.HarnessSHA,
		AdapterVersion: cfg.AdapterVersion,
	}
	sctx, cancel := context.WithTimeout(ctx, cfg.ItemTimeout)
	defer cancel()
	s := harness.Sample{Index: k, Seed: SampleSeed(cfg.Seed, cfg.Stream, item.ID, k), Rec: rec}
	ch := make(chan solveResult, 1) // buffered: an abandoned solve can still finish
	go func() {
		defer func() {
			if p := recover(); p != nil {
				ch <- solveResult{err: fmt.Errorf("harness panicked: %v", p)}
			}
		}()
		a, err := h.Solve(sctx, item, s)
		ch <- solveResult{a, err}
	}()
	var res solveResult
	select {
	case res = <-ch:
	case <-sctx.Done():
		select {
		case res = <-ch:
		case <-time.After(cfg.Grace):
			res = solveResult{err: fmt.Errorf("harness ignored cancellation: %w", sctx.Err())}
		}
	}
	if res.err != nil {
		msg := res.err.Error()
		if errors.Is(res.err, context.DeadlineExceeded) || errors.Is(sctx.Err(), context.DeadlineExceeded) {
			msg = fmt.Sprintf("item timed out after %s: %s", cfg.ItemTimeout, msg)
		}
		t.Error = msg
		rec.Add(trajectory.Step{Kind: trajectory.KindError, Text: msg})
	} else {
		t.Answer = res.answer
	}
	t.Steps = rec.Steps()
	t.DurationS = rec.Elapsed().Seconds()
	return t
}

// Answers returns sample k's answers by item id, skipping failed samples.
func Answers(ts []trajectory.Trajectory, k int) map[string]string {
	out := map[string]string{}
	for _, t := range ts {
		if t.Sample == k && t.Error == "" {
			out[t.Item] = t.Answer
		}
	}
	return out
}

// runBatch runs a whole-split harness once per sample index.
func runBatch(ctx context.Context, b harness.Batch, items []task.Item, cfg Config, progress Progress) ([]trajectory.Trajectory, error) {
	timeout := cfg.BatchTimeout
	if timeout <= 0 {
		rounds := max(1, (len(items)+cfg.Parallel-1)/cfg.Parallel)
		timeout = cfg.ItemTimeout * time.Duration(rounds)
	}
	out := make([]trajectory.Trajectory, len(items)*cfg.Samples)
	for k := 0; k < cfg.Samples; k++ {
		recs := make(map[string]*trajectory.Recorder, len(items))
		for _, it := range items {
			recs[it.ID] = trajectory.NewRecorder()
		}
		bctx, cancel := context.WithTimeout(ctx, timeout)
		answers, err := b.SolveAll(bctx, items, k, SampleSeed(cfg.Seed, cfg.Stream, "*", k), recs)
		cancel()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		for i, it := range items {
			rec := recs[it.ID]
			t := trajectory.Trajectory{
				FormatVersion: trajectory.FormatVersion, Run: cfg.Run, Gen: cfg.Gen, Split: cfg.Split,
				Item: it.ID, Sample: k, HarnessSHA: cfg.HarnessSHA, AdapterVersion: cfg.AdapterVersion,
			}
			if err != nil {
				t.Error = err.Error()
				rec.Add(trajectory.Step{Kind: trajectory.KindError, Text: t.Error})
			} else {
				t.Answer = answers[it.ID]
			}
			t.Steps = rec.Steps()
			t.DurationS = rec.Elapsed().Seconds()
			out[i*cfg.Samples+k] = t
			if progress != nil {
				progress(k*len(items)+i+1, len(out))
			}
		}
	}
	return out, nil
}
