package loop

import (
	"context"
	"fmt"
	"sort"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/rollout"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

// A rollout of a large split does not fit in memory as trajectories (a
// few KB each once decoded, 800,000 of them per generation at 100,000 val
// items × 8 samples). The loop streams them to their file as they finish
// and keeps a tally: a few bytes per sample — its answer, whether it
// failed, its reward and status once verified — from which the split is
// scored, the per-item means the paired selection test compares are
// taken, and failures and usage are counted. The file is then rewritten
// with each sample's status and reward in one streamed pass.

// Slot states of a tally.
const (
	slotAbsent   uint8 = iota // no trajectory for this (item, sample)
	slotAnswered              // the harness answered
	slotFailed                // the harness failed (Error set)
)

// tally is what the loop keeps of one rollout.
type tally struct {
	samples int
	index   map[string]int // item id → position in ids
	ids     []string       // items in the order they came
	// Per (item, sample), at position*samples + sample.
	state   []uint8
	answers []string
	rewards []float64
	status  []uint8 // index into statuses, once scored
	// statuses are the verifier statuses seen, by code.
	statuses []string
	// errs0 holds sample 0's harness errors by item position: the detail
	// of results.json's items[], which are sample 0's.
	errs0 map[int]string

	n, failed int
	firstErr  string
	tokens    int
	cost      float64
}

func newTally(samples int) *tally {
	return &tally{samples: max(1, samples), index: map[string]int{}, errs0: map[int]string{}}
}

// add records one trajectory (t may be reused after).
func (tl *tally) add(t *trajectory.Trajectory) error {
	if t.Sample < 0 || t.Sample >= tl.samples {
		return fmt.Errorf("trajectory %s/%d: sample out of range (%d samples)", t.Item, t.Sample, tl.samples)
	}
	pos, ok := tl.index[t.Item]
	if !ok {
		pos = len(tl.ids)
		tl.index[t.Item] = pos
		tl.ids = append(tl.ids, t.Item)
		for range tl.samples {
			tl.state = append(tl.state, slotAbsent)
			tl.answers = append(tl.answers, "")
			tl.rewards = append(tl.rewards, 0)
			tl.status = append(tl.status, 0)
		}
	}
	slot := pos*tl.samples + t.Sample
	tl.n++
	tl.rewards[slot], tl.status[slot] = t.Reward, tl.code(t.Status)
	if t.Error != "" {
		tl.state[slot] = slotFailed
		if tl.failed == 0 {
			tl.firstErr = t.Error
		}
		tl.failed++
		if t.Sample == 0 {
			tl.errs0[pos] = verify.Truncate(t.Error, 300)
		}
	} else {
		tl.state[slot], tl.answers[slot] = slotAnswered, t.Answer
	}
	u := t.Usage()
	tl.tokens += u.PromptTokens + u.CompletionTokens
	tl.cost += u.CostUSD
	return nil
}

// code interns a status.
func (tl *tally) code(status string) uint8 {
	for i, s := range tl.statuses {
		if s == status {
			return uint8(i)
		}
	}
	if len(tl.statuses) == 255 { // a verifier with this many statuses: keep the last
		tl.statuses[254] = status
		return 254
	}
	tl.statuses = append(tl.statuses, status)
	return uint8(len(tl.statuses) - 1)
}

// slot is the position of (item, sample), -1 when the rollout has none.
func (tl *tally) slot(item string, sample int) int {
	pos, ok := tl.index[item]
	if !ok || sample < 0 || sample >= tl.samples || tl.state[pos*tl.samples+sample] == slotAbsent {
		return -1
	}
	return pos*tl.samples + sample
}

// annotate sets t's status and reward from the tally (once scored).
func (tl *tally) annotate(t *trajectory.Trajectory) {
	if i := tl.slot(t.Item, t.Sample); i >= 0 {
		t.Status, t.Reward = tl.statuses[tl.status[i]], tl.rewards[i]
	}
}

// score verifies the tallied rollout of a split, sample by sample: each
// sample gets its own reward and status; the split's score is the mean
// over samples of each sample's metric, and items[] are sample 0's.
func (tl *tally) score(ctx context.Context, v verify.Verifier, gold map[string]string) (*verify.Result, error) {
	var first *verify.Result
	sum := 0.0
	for k := 0; k < tl.samples; k++ {
		answers := make(map[string]string, len(tl.ids))
		for pos, id := range tl.ids {
			if i := pos*tl.samples + k; tl.state[i] == slotAnswered {
				answers[id] = tl.answers[i]
			}
		}
		res, err := v.Verify(ctx, answers, gold)
		if err != nil {
			return nil, err
		}
		for j := range res.Items {
			it := &res.Items[j]
			i := tl.slot(it.ID, k)
			if i < 0 {
				continue
			}
			if tl.state[i] == slotFailed {
				it.Status, it.Reward, it.Detail = verify.StatusError, 0, tl.errs0[i/tl.samples]
			}
			tl.rewards[i], tl.status[i] = it.Reward, tl.code(it.Status)
		}
		res.Counts = map[string]int{}
		for _, it := range res.Items {
			res.Counts[it.Status]++
		}
		sum += res.Score
		if k == 0 {
			first = res
		}
	}
	first.Score = sum / float64(tl.samples)
	if tl.samples > 1 {
		first.Metrics[first.Metric+"_sample0"] = first.Metrics[first.Metric]
		first.Metrics[first.Metric] = first.Score
	}
	return first, nil
}

// means is each item's mean reward over its samples, with the items in id
// order (what the paired selection test compares).
func (tl *tally) means() (ids []string, means map[string]float64) {
	means = make(map[string]float64, len(tl.ids))
	for pos, id := range tl.ids {
		sum, n := 0.0, 0
		for k := 0; k < tl.samples; k++ {
			if i := pos*tl.samples + k; tl.state[i] != slotAbsent {
				sum += tl.rewards[i]
				n++
			}
		}
		if n > 0 {
			means[id] = sum / float64(n)
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids, means
}

// streamRollout rolls h out on items, writing each trajectory to the
// trajectory file rel as it finishes (unscored; "" writes none) and
// tallying it. The file appears only when the rollout is complete.
func (r *runner) streamRollout(ctx context.Context, h harness.Harness, items []task.Item, cfg rollout.Config, rel string, progress rollout.Progress) (*tally, error) {
	tl := newTally(cfg.Samples)
	var w *trajectory.Writer
	if rel != "" {
		var err error
		if w, err = trajectory.Create(r.d.Store.Path(rel)); err != nil {
			return nil, err
		}
		defer w.Abort()
	}
	err := rollout.Stream(ctx, h, items, cfg, progress, func(t *trajectory.Trajectory) error {
		if err := tl.add(t); err != nil {
			return err
		}
		if w != nil {
			return w.Write(t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if w != nil {
		if err := w.Close(); err != nil {
			return nil, err
		}
	}
	return tl, nil
}

// tallyFile reads the trajectory file rel back into a tally.
func (r *runner) tallyFile(rel string, samples int) (*tally, error) {
	tl := newTally(samples)
	if err := trajectory.EachPath(r.d.Store.Path(rel), tl.add); err != nil {
		return nil, err
	}
	return tl, nil
}

// scoreTally verifies a tallied rollout of split and, when rel names its
// trajectory file, rewrites that file with each sample's status and reward
// (one streamed pass; the file is replaced whole or not at all).
func (r *runner) scoreTally(ctx context.Context, split string, tl *tally, rel string) (*verify.Result, error) {
	v, err := r.d.Task.Verifier(split)
	if err != nil {
		return nil, err
	}
	res, err := tl.score(ctx, v, r.gold(split, tl.index))
	if err != nil {
		return nil, err
	}
	if rel == "" {
		return res, nil
	}
	path := r.d.Store.Path(rel)
	w, err := trajectory.Create(path)
	if err != nil {
		return nil, err
	}
	defer w.Abort()
	if err := trajectory.EachPath(path, func(t *trajectory.Trajectory) error {
		tl.annotate(t)
		return w.Write(t)
	}); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	r.remember(rel, tl)
	return res, nil
}

// score verifies trajectories held in memory (a weight update's train
// rollouts), setting each one's status and reward.
func (r *runner) score(ctx context.Context, split string, trajs []trajectory.Trajectory, samples int) (*verify.Result, error) {
	tl := newTally(samples)
	for i := range trajs {
		if err := tl.add(&trajs[i]); err != nil {
			return nil, err
		}
	}
	res, err := r.scoreTally(ctx, split, tl, "")
	if err != nil {
		return nil, err
	}
	for i := range trajs {
		tl.annotate(&trajs[i])
	}
	return res, nil
}

// itemMeansCache holds the per-item mean rewards of scored rollout files,
// so the selection test and memory.json do not decode a generation's
// rollouts again each generation. An entry is good while its file's size
// and time are unchanged.
type itemMeansCache map[string]cachedMeans

type cachedMeans struct {
	size  int64
	mtime int64
	ids   []string
	means map[string]float64
}

// remember caches the means of the scored rollout file rel.
func (r *runner) remember(rel string, tl *tally) {
	info, err := trajectory.StatPath(r.d.Store.Path(rel))
	if err != nil {
		return
	}
	if r.meansCache == nil {
		r.meansCache = itemMeansCache{}
	}
	ids, means := tl.means()
	r.meansCache[rel] = cachedMeans{size: info.Size(), mtime: info.ModTime().UnixNano(), ids: ids, means: means}
}

// itemMeansOf is the per-item mean rewards of the scored trajectory file
// rel, read in one streamed pass unless cached.
func (r *runner) itemMeansOf(rel string) ([]string, map[string]float64, error) {
	info, err := trajectory.StatPath(r.d.Store.Path(rel))
	if err != nil {
		return nil, nil, err
	}
	if c, ok := r.meansCache[rel]; ok && c.size == info.Size() && c.mtime == info.ModTime().UnixNano() {
		return c.ids, c.means, nil
	}
	sum, n := map[string]float64{}, map[string]int{}
	if err := trajectory.EachPath(r.d.Store.Path(rel), func(t *trajectory.Trajectory) error {
		sum[t.Item] += t.Reward
		n[t.Item]++
		return nil
	}); err != nil {
		return nil, nil, err
	}
	ids := make([]string, 0, len(sum))
	for id, s := range sum {
		sum[id] = s / float64(n[id])
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if r.meansCache == nil {
		r.meansCache = itemMeansCache{}
	}
	r.meansCache[rel] = cachedMeans{size: info.Size(), mtime: info.ModTime().UnixNano(), ids: ids, means: sum}
	return ids, sum, nil
}
