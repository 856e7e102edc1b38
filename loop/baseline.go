package loop

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/task"
)

// The baseline: when the Meta-Agent changed the task's reference harness,
// the reference is scored too — on the same val and test items, with the
// same sample seeds (stream 0) and the base model — so a run shows what
// the agents added over it. baseline.json holds the scores; baseline/ the
// results and rollouts.

// BaselineVersion is the format version of baseline.json.
const BaselineVersion = 1

// baselineInfo is baseline.json.
type baselineInfo struct {
	FormatVersion int      `json:"format_version"`
	HarnessSHA    string   `json:"harness_sha"`
	Metric        string   `json:"metric"`
	Val           float64  `json:"val"`
	ValN          int      `json:"val_n"`
	Test          *float64 `json:"test,omitempty"`
	TestN         int      `json:"test_n,omitempty"`
	DurationS     float64  `json:"duration_s"`
	Tokens        int      `json:"tokens"`
	CostUSD       float64  `json:"cost_usd,omitempty"`
}

// readBaseline returns baseline.json, nil when there is none.
func (r *runner) readBaseline() (*baselineInfo, error) {
	var b baselineInfo
	err := r.d.Store.ReadJSON(runstore.BaselineFile, &b)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// reference returns the task's reference harness and whether the run
// needs it scored: the Meta-Agent wrote generation 1 (the user gave no
// --harness) and it differs from the reference.
func (r *runner) reference() (harness.Source, bool) {
	if r.cfg.InitialHarness != "" {
		return harness.Source{}, false
	}
	g1 := r.st.Gen(1)
	ref, err := r.metaReference()
	if g1 == nil || err != nil || len(ref.Code) == 0 {
		return harness.Source{}, false
	}
	return ref, ref.SHA() != g1.HarnessSHA
}

// ReferenceSeeder is a Meta-Agent that starts from a harness other than
// the task's reference (a target profile's agent_reference); the baseline
// is then that harness, the one the Meta-Agent was given.
type ReferenceSeeder interface {
	Reference() harness.Source
}

// metaReference is the harness the Meta-Agent started from.
func (r *runner) metaReference() (harness.Source, error) {
	if s, ok := r.d.Meta.(ReferenceSeeder); ok {
		return s.Reference(), nil
	}
	name, code, err := r.d.Task.ReferenceHarness()
	return harness.Source{Name: name, Code: code}, err
}

// scoreBaseline scores the reference harness on val, and on test when
// withTest, unless baseline.json already has those scores. It is
// idempotent, so a resumed run picks up where a kill left it.
func (r *runner) scoreBaseline(ctx context.Context, withTest bool) error {
	ref, needed := r.reference()
	if !needed {
		return nil
	}
	b, err := r.readBaseline()
	if err != nil {
		return err
	}
	if b != nil && b.HarnessSHA != ref.SHA() {
		b = nil // the task's reference changed since: score it again
	}
	if b != nil && (!withTest || b.Test != nil) {
		return nil
	}
	if b == nil {
		b = &baselineInfo{FormatVersion: BaselineVersion, HarnessSHA: ref.SHA(), Metric: r.d.Task.Spec.Metric}
		score, n, err := r.scoreReference(ctx, ref, task.Val, b)
		if err != nil {
			return err
		}
		b.Val, b.ValN = score, n
		if err := r.d.Store.WriteJSON(runstore.BaselineFile, b); err != nil {
			return err
		}
	}
	if !withTest || len(r.d.Data.Gold(task.Test)) == 0 {
		return nil
	}
	score, n, err := r.scoreReference(ctx, ref, task.Test, b)
	if err != nil {
		return err
	}
	b.Test, b.TestN = &score, n
	return r.d.Store.WriteJSON(runstore.BaselineFile, b)
}

// scoreReference rolls the reference out on a split over the base model,
// writes its results and rollouts under baseline/, and adds the cost to b.
func (r *runner) scoreReference(ctx context.Context, ref harness.Source, split string, b *baselineInfo) (float64, int, error) {
	start := time.Now()
	items := r.d.Data.Items(split)
	r.progress(Progress{Kind: "step", Step: "baseline", Text: fmt.Sprintf("scoring the reference harness on %s", split), Total: len(items) * r.cfg.Samples})
	rel := runstore.BaselineRollouts(split)
	var tl *tally
	err := r.runWarm(ctx, func(ctx context.Context) error {
		h, err := r.loadWith(ctx, ref, "", 0, items)
		if err != nil {
			return err
		}
		defer h.Close()
		tl, err = r.streamRollout(ctx, h, items, r.rolloutConfig(0, split, ref.SHA(), 0, r.cfg.Samples), rel, func(done, total int) {
			r.progress(Progress{Kind: "items", Step: "baseline", Done: done, Total: total})
		})
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	res, err := r.scoreTally(ctx, split, tl, rel)
	if err != nil {
		return 0, 0, err
	}
	if err := r.d.Store.WriteJSON(runstore.BaselineResults(split), res); err != nil {
		return 0, 0, err
	}
	b.Tokens += tl.tokens
	b.CostUSD += tl.cost
	b.DurationS = round3(b.DurationS + since(start))
	return res.Score, res.N, nil
}
