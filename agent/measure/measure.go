package measure

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

// FormatVersion of a Result as written to the run folder.
const FormatVersion = 1

// Request says which train items to solve and how.
type Request struct {
	// Items is how many train items are solved: a seeded sample of that
	// many, or the first that many when First is set; 0 or more than the
	// split means all of train.
	Items int `json:"items"`
	// Folds ≥ 2 splits the items into that many folds, each solved by the
	// harness set up on the rest of train; 1 solves all the items once,
	// with the harness set up on the train items outside them.
	Folds int `json:"folds"`
	// First takes the first Items train items, in order, as one fold
	// (run_harness' smoke test), instead of a seeded sample.
	First bool `json:"first,omitempty"`
	// Seed picks the sample, the folds and the sampling stream: two
	// measurements with the same Seed, Items and Folds solve the same items
	// in the same folds with the same sample seeds, so they pair.
	Seed int64 `json:"seed"`
	// Samples solves each item this many times (default 1); an item's
	// reward is the mean over its samples.
	Samples int `json:"samples"`
}

// Fold is one unit of work: set the harness up on Train, solve Solve.
type Fold struct {
	Index int
	// Train is every train example outside the fold, labels included: what
	// the harness may fit on.
	Train []task.Example
	// Solve is the fold's items, without labels.
	Solve []task.Item
}

// FoldRun is what an Evaluator returns for one fold.
type FoldRun struct {
	// Trajectories are the fold's samples, verified (Status and Reward set).
	Trajectories []trajectory.Trajectory
	// SetupLog holds the log lines of the harness's top level and setup.
	SetupLog []string
	// SetupError is the load error when the harness could not be set up;
	// the fold's items then count as errors.
	SetupError string
	SetupS     float64
}

// Evaluator sets src up on fold.Train and solves fold.Solve samples times
// each, with sample seeds from stream. It returns an error only when it
// cannot run at all (ctx cancelled, no model); a harness that fails to load
// is a FoldRun with SetupError.
type Evaluator func(ctx context.Context, src harness.Source, fold Fold, samples int, stream int) (*FoldRun, error)

// ItemResult is one solved train item. It carries no label.
type ItemResult struct {
	ID     string         `json:"id"`
	Fields map[string]any `json:"fields,omitempty"` // the item as the harness saw it
	Fold   int            `json:"fold"`
	Status string         `json:"status"` // sample 0's verifier status
	Reward float64        `json:"reward"` // mean over samples
	Answer string         `json:"answer"` // sample 0's answer
	Error  string         `json:"error,omitempty"`
}

// FoldResult summarises one fold.
type FoldResult struct {
	Fold       int      `json:"fold"`
	Train      int      `json:"train"` // examples the harness was set up on
	Items      int      `json:"items"`
	Score      float64  `json:"score"`
	SetupS     float64  `json:"setup_s"`
	SetupError string   `json:"setup_error,omitempty"`
	SetupLog   []string `json:"setup_log,omitempty"`
}

// Result is a measurement.
type Result struct {
	FormatVersion int     `json:"format_version"`
	HarnessSHA    string  `json:"harness_sha"`
	Request       Request `json:"request"`
	// N is the number of items solved; Score is their mean reward and SE
	// its standard error (the items' standard deviation / √N; folds are
	// pooled, as is usual for cross-validation).
	N       int            `json:"n"`
	Score   float64        `json:"score"`
	SE      float64        `json:"se"`
	Counts  map[string]int `json:"counts"`
	Folds   []FoldResult   `json:"folds"`
	Items   []ItemResult   `json:"items"`
	Seconds float64        `json:"seconds"`
	Tokens  int            `json:"tokens"`
	CostUSD float64        `json:"cost_usd"`
	// Trajectories are every sample, verified, in item order; not written
	// with the result.
	Trajectories []trajectory.Trajectory `json:"-"`
}

// Plan returns the folds of req over train. It fails when train is empty
// or when a single fold would leave setup no data.
func Plan(train []task.Example, req Request) ([]Fold, error) {
	n := len(train)
	if n == 0 {
		return nil, errors.New("the task has no train split to measure on")
	}
	items := req.Items
	if items <= 0 || items > n {
		items = n
	}
	folds := max(req.Folds, 1)
	if req.First {
		folds = 1
	}
	if folds > items {
		return nil, fmt.Errorf("%d folds over %d items: want at most one fold per item", folds, items)
	}
	if folds == 1 && items == n {
		return nil, fmt.Errorf("one fold over all %d train items leaves setup no train data: use folds ≥ 2 or fewer items", n)
	}
	var chosen []int
	if req.First {
		for i := range items {
			chosen = append(chosen, i)
		}
	} else {
		chosen = rand.New(rand.NewPCG(uint64(req.Seed), 0x5eed_f01d)).Perm(n)[:items]
	}
	foldOf := make(map[int]int, items)
	for pos, i := range chosen {
		foldOf[i] = pos % folds
	}
	out := make([]Fold, folds)
	for f := range out {
		out[f].Index = f
	}
	for i, ex := range train {
		f, in := foldOf[i]
		for g := range out {
			if in && g == f {
				out[g].Solve = append(out[g].Solve, ex.Item)
			} else {
				out[g].Train = append(out[g].Train, ex)
			}
		}
	}
	return out, nil
}

// streamBase keeps measurement sample seeds apart from the loop's val/test
// stream (0) and its train rounds (generation × 1000 + round).
const streamBase = 1 << 30

// Run measures src: it plans the folds, has eval set the harness up and
// solve each fold in turn, and pools the results.
func Run(ctx context.Context, eval Evaluator, src harness.Source, train []task.Example, req Request) (*Result, error) {
	folds, err := Plan(train, req)
	if err != nil {
		return nil, err
	}
	if req.Samples < 1 {
		req.Samples = 1
	}
	start := time.Now()
	res := &Result{FormatVersion: FormatVersion, HarnessSHA: src.SHA(), Request: req, Counts: map[string]int{}}
	stream := streamBase + int(uint64(req.Seed)%(1<<20))
	for _, f := range folds {
		run, err := eval(ctx, src, f, req.Samples, stream)
		if err != nil {
			return nil, fmt.Errorf("fold %d: %w", f.Index, err)
		}
		fr := FoldResult{Fold: f.Index, Train: len(f.Train), Items: len(f.Solve), SetupS: run.SetupS,
			SetupError: run.SetupError, SetupLog: run.SetupLog}
		items := pool(f, run, req.Samples)
		sum := 0.0
		for _, it := range items {
			sum += it.Reward
			res.Counts[it.Status]++
		}
		if len(items) > 0 {
			fr.Score = sum / float64(len(items))
		}
		res.Items = append(res.Items, items...)
		res.Folds = append(res.Folds, fr)
		for i := range run.Trajectories {
			u := run.Trajectories[i].Usage()
			res.Tokens += u.PromptTokens + u.CompletionTokens
			res.CostUSD += u.CostUSD
		}
		res.Trajectories = append(res.Trajectories, run.Trajectories...)
	}
	order := map[string]int{}
	for i, ex := range train {
		order[ex.ID] = i
	}
	if !req.First {
		sort.SliceStable(res.Items, func(a, b int) bool { return order[res.Items[a].ID] < order[res.Items[b].ID] })
	}
	sort.SliceStable(res.Trajectories, func(a, b int) bool {
		ta, tb := &res.Trajectories[a], &res.Trajectories[b]
		if ta.Item != tb.Item {
			return order[ta.Item] < order[tb.Item]
		}
		return ta.Sample < tb.Sample
	})
	rewards := make([]float64, len(res.Items))
	for i, it := range res.Items {
		rewards[i] = it.Reward
	}
	res.N = len(rewards)
	res.Score, res.SE = MeanSE(rewards)
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// pool turns a fold's samples into one verdict per item, in fold order.
// An item with no sample (the harness did not load) is an error.
func pool(f Fold, run *FoldRun, samples int) []ItemResult {
	byItem := map[string][]*trajectory.Trajectory{}
	for i := range run.Trajectories {
		t := &run.Trajectories[i]
		byItem[t.Item] = append(byItem[t.Item], t)
	}
	out := make([]ItemResult, 0, len(f.Solve))
	for _, it := range f.Solve {
		r := ItemResult{ID: it.ID, Fields: it.Fields, Fold: f.Index}
		ts := byItem[it.ID]
		if len(ts) == 0 {
			r.Status, r.Error = verify.StatusError, "not solved"
			if run.SetupError != "" {
				r.Error = "harness did not load: " + run.SetupError
			}
			out = append(out, r)
			continue
		}
		sum := 0.0
		for _, t := range ts {
			sum += t.Reward
			if t.Sample == 0 {
				r.Status, r.Answer, r.Error = t.Status, t.Answer, t.Error
			}
		}
		r.Reward = sum / float64(max(samples, len(ts)))
		out = append(out, r)
	}
	return out
}

// MeanSE returns the mean of xs and its standard error (sample standard
// deviation / √n; 0 for fewer than two values).
func MeanSE(xs []float64) (mean, se float64) {
	n := float64(len(xs))
	if n == 0 {
		return 0, 0
	}
	for _, x := range xs {
		mean += x
	}
	mean /= n
	if n < 2 {
		return mean, 0
	}
	ss := 0.0
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss/(n-1)) / math.Sqrt(n)
}

// Comparison is b − a over the items both measured.
type Comparison struct {
	N    int     `json:"n"`
	Gain float64 `json:"gain"`
	// SE is the paired standard error of the gain: the per-item
	// differences' standard deviation / √N.
	SE   float64 `json:"se"`
	Wins int     `json:"wins"` // items where b scored higher
	Loss int     `json:"losses"`
}

// Compare pairs two measurements by item.
func Compare(a, b *Result) Comparison {
	ra := map[string]float64{}
	for _, it := range a.Items {
		ra[it.ID] = it.Reward
	}
	var diffs []float64
	c := Comparison{}
	for _, it := range b.Items {
		x, ok := ra[it.ID]
		if !ok {
			continue
		}
		d := it.Reward - x
		diffs = append(diffs, d)
		switch {
		case d > 0:
			c.Wins++
		case d < 0:
			c.Loss++
		}
	}
	c.N = len(diffs)
	c.Gain, c.SE = MeanSE(diffs)
	return c
}
