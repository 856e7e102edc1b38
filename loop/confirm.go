package loop

import (
	"context"
	"time"

	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/stats"
	"github.com/sia-agent/sia/task"
)

// freshStream is the random stream of the final incumbent's re-scoring on
// the selection slice: no other rollout draws from it (val and test use
// stream 0, train rounds gen × 1000 + round).
const freshStream = 1

// confirm re-scores the final incumbent before the test, so the val score
// a run reports is neither the maximum of many noisy tries nor one agents
// could probe: on fresh samples of the selection slice (a stream no
// selection drew from), and on the confirmation slice, which nothing saw.
func (r *runner) confirm(ctx context.Context) error {
	start := time.Now()
	best := r.st.Gen(r.st.BestGen)
	c := runstore.Confirmation{Gen: best.Gen, SelectionScore: best.Score}
	var err error
	if c.Fresh, err = r.rescore(ctx, best, r.sel, freshStream, "fresh", runstore.FreshResultsFile); err != nil {
		return err
	}
	if len(r.conf) > 0 {
		if c.Holdout, err = r.rescore(ctx, best, r.conf, 0, "confirm", runstore.ConfirmResultsFile); err != nil {
			return err
		}
	}
	return r.emit(runstore.Event{Type: runstore.EvConfirmed, Gen: best.Gen, Confirm: &c, DurationS: since(start)})
}

// rescore rolls the incumbent out on items from a random stream, writes
// the gold-free verdict to best/<results> and returns the score
// with its uncertainty over items.
func (r *runner) rescore(ctx context.Context, best *runstore.GenState, items []task.Item, stream int, name, results string) (*runstore.SliceScore, error) {
	r.progress(Progress{Kind: "step", Gen: best.Gen, Step: name, Total: len(items) * r.cfg.Samples})
	cfg := r.rolloutConfig(best.Gen, task.Val, best.HarnessSHA, best.AdapterVersion, r.cfg.Samples)
	cfg.Stream = stream
	var tl *tally
	err := r.runWarm(ctx, func(ctx context.Context) error {
		h, _, err := r.load(ctx, best.Gen, items)
		if err != nil {
			return err
		}
		defer h.Close()
		tl, err = r.streamRollout(ctx, h, items, cfg, "", func(done, total int) {
			r.progress(Progress{Kind: "items", Gen: best.Gen, Step: name, Done: done, Total: total})
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := r.checkFailures(best.Gen, name+" rollout", tl, false); err != nil {
		return nil, err
	}
	res, err := r.scoreTally(ctx, task.Val, tl, "")
	if err != nil {
		return nil, err
	}
	if err := r.d.Store.WriteJSON(runstore.BestFile(results), res); err != nil {
		return nil, err
	}
	ids, means := tl.means()
	per := make([]float64, len(ids))
	for i, id := range ids {
		per[i] = means[id]
	}
	lo, hi := stats.TInterval(per, 0.95)
	return &runstore.SliceScore{Items: len(ids), Samples: r.cfg.Samples, Score: res.Score, SE: stats.StdErr(per), Lo: lo, Hi: hi}, nil
}
