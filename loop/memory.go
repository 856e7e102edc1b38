package loop

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/agent/measure"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/reward"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/trajectory"
)

// maxDiffChars bounds a change's diff in memory.json.
const maxDiffChars = 4000

// buildMemory rebuilds the run's memory from its folder: one change per
// verified generation, with its gain over its parent on val (paired over
// the items both rolled out), the held-out scores the run has, and its
// cost. It reads only val results and rollouts (gold-free) and test scores.
func (r *runner) buildMemory() (*agent.Memory, error) {
	m := &agent.Memory{FormatVersion: agent.MemoryVersion, Task: r.d.Task.Spec.Name, Metric: r.d.Task.Spec.Metric,
		Higher: r.higher, Changes: []agent.Change{}}
	if b, err := r.readBaseline(); err == nil && b != nil {
		m.Baseline = &agent.Baseline{HarnessSHA: b.HarnessSHA, Val: b.Val, Test: b.Test}
	}
	rewards := map[int]map[string]float64{}
	itemRewards := func(gen int) map[string]float64 {
		if v, ok := rewards[gen]; ok {
			return v
		}
		_, means, err := r.itemMeansOf(runstore.GenFile(gen, runstore.RolloutsFile))
		if err != nil {
			rewards[gen] = nil
			return nil
		}
		rewards[gen] = means
		return rewards[gen]
	}
	for _, g := range r.st.Gens {
		if !g.Verified {
			continue
		}
		c := agent.Change{Gen: g.Gen, Parent: g.Parent, Lever: g.Action, Algorithm: g.Algorithm, HarnessSHA: g.HarnessSHA,
			AdapterVersion: g.AdapterVersion, Val: g.Score, Accepted: g.Accepted, DurationS: round3(g.DurationS),
			Tokens: g.Tokens, CostUSD: g.CostUSD}
		var dec agent.Decision
		if err := r.d.Store.ReadJSON(runstore.GenFile(g.Gen, runstore.DecisionFile), &dec); err == nil {
			c.Hypothesis = dec.Hypothesis
		}
		cur, _ := r.readHarness(g.Gen)
		switch {
		case g.Gen == 1:
			c.Summary = fmt.Sprintf("the first harness (%s)", g.HarnessSHA)
			if ref, err := r.metaReference(); err == nil && len(ref.Code) > 0 {
				if ref.SHA() == cur.SHA() {
					c.Summary = "the task's reference harness, unchanged"
				} else {
					c.Summary = "the Meta-Agent's edit of the reference harness"
					c.Diff, c.Knobs = harnessDiff(ref, cur)
				}
			}
		case g.Action == agent.ActionWeights:
			parent := r.st.Gen(g.Parent)
			c.Summary = fmt.Sprintf("adapter v%d trained with %s from v%d; harness %s unchanged", g.AdapterVersion, g.Algorithm,
				parent.AdapterVersion, g.HarnessSHA)
		default:
			parent, err := r.readHarness(g.Parent)
			if err == nil {
				c.Diff, c.Knobs = harnessDiff(parent, cur)
				c.Summary = changeSummary(parent, cur, c.Diff, c.Knobs)
			}
		}
		if p := r.st.Gen(g.Parent); p != nil && p.Verified {
			pv := p.Score
			gain := g.Score - pv
			c.ParentVal, c.Gain = &pv, &gain
			if diffs := pairedDiffs(itemRewards(p.Gen), itemRewards(g.Gen)); len(diffs) > 1 {
				_, se := measure.MeanSE(diffs)
				se = round3(se)
				c.GainSE, c.Paired = &se, len(diffs)
			}
		}
		m.Changes = append(m.Changes, c)
	}
	r.addTestScores(m)
	return m, nil
}

// addTestScores fills the held-out scores the run has: the final
// incumbent's, and the baseline's for generation 1's parent (the
// reference harness), and says whether each val gain carried to test.
func (r *runner) addTestScores(m *agent.Memory) {
	tests := map[int]float64{}
	if r.st.TestScore != nil && r.st.BestGen > 0 {
		tests[r.st.BestGen] = *r.st.TestScore
	}
	for i := range m.Changes {
		c := &m.Changes[i]
		if v, ok := tests[c.Gen]; ok {
			c.Test = &v
		}
		var parentTest *float64
		var parentVal *float64
		switch {
		case c.Gen == 1 && m.Baseline != nil && m.Baseline.Test != nil:
			parentTest, parentVal = m.Baseline.Test, &m.Baseline.Val
		case c.Parent > 0:
			if v, ok := tests[c.Parent]; ok {
				parentTest = &v
			}
			parentVal = c.ParentVal
		}
		if c.Test == nil || parentTest == nil || parentVal == nil {
			continue
		}
		c.ParentTest = parentTest
		valGain, testGain := c.Val-*parentVal, *c.Test-*parentTest
		if !m.Higher {
			valGain, testGain = -valGain, -testGain
		}
		carried := (valGain > 0) == (testGain > 0)
		c.Carried = &carried
	}
}

// pairedDiffs is b − a per item both hold, in item order.
func pairedDiffs(a, b map[string]float64) []float64 {
	var ids []string
	for id := range b {
		if _, ok := a[id]; ok {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	out := make([]float64, len(ids))
	for i, id := range ids {
		out[i] = b[id] - a[id]
	}
	return out
}

// harnessDiff is cur's unified diff against old (clipped) and the knob
// settings it changed.
func harnessDiff(old, cur harness.Source) (string, []agent.KnobChange) {
	diff := ""
	if string(old.Code) != string(cur.Code) {
		diff = udiff.Unified("a/"+old.Name, "b/"+cur.Name, string(old.Code), string(cur.Code))
		if len(diff) > maxDiffChars {
			diff = diff[:maxDiffChars] + fmt.Sprintf("\n[diff clipped: %d more bytes]\n", len(diff)-maxDiffChars)
		}
	}
	keys := map[string]bool{}
	for k := range old.Knobs {
		keys[k] = true
	}
	for k := range cur.Knobs {
		keys[k] = true
	}
	var names []string
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	var knobs []agent.KnobChange
	for _, k := range names {
		a, _ := json.Marshal(old.Knobs[k])
		b, _ := json.Marshal(cur.Knobs[k])
		if string(a) != string(b) {
			knobs = append(knobs, agent.KnobChange{Knob: k, From: old.Knobs[k], To: cur.Knobs[k]})
		}
	}
	return diff, knobs
}

func changeSummary(old, cur harness.Source, diff string, knobs []agent.KnobChange) string {
	var parts []string
	if diff != "" {
		added, removed := 0, 0
		for _, l := range strings.Split(diff, "\n") {
			switch {
			case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
			case strings.HasPrefix(l, "+"):
				added++
			case strings.HasPrefix(l, "-"):
				removed++
			}
		}
		parts = append(parts, fmt.Sprintf("edited %s (+%d −%d lines)", cur.Name, added, removed))
	}
	if len(knobs) > 0 {
		var ks []string
		for _, k := range knobs {
			ks = append(ks, k.Knob)
		}
		parts = append(parts, "knob settings changed: "+strings.Join(ks, ", "))
	}
	if len(parts) == 0 {
		return "no change to " + old.Name
	}
	return strings.Join(parts, "; ")
}

// writeMemory writes memory.json.
func (r *runner) writeMemory() error {
	m, err := r.buildMemory()
	if err != nil {
		return err
	}
	return r.d.Store.WriteJSON(runstore.MemoryFile, m)
}

// trainStep is one line of a trainer's per-step log (gen_<n>/train.jsonl);
// fields a trainer does not log stay zero.
type trainStep struct {
	Step         int      `json:"step"`
	Loss         float64  `json:"loss"`
	KL           float64  `json:"kl"`
	Reward       float64  `json:"reward"`
	LR           *float64 `json:"lr"`
	LearningRate *float64 `json:"learning_rate"`
}

// training summarises the weight update that made gen g: its curve from
// the trainer's log, its parent adapter, and the reward shape of the train
// rollouts it learned from.
func (r *runner) training(g int) *agent.Training {
	gs := r.st.Gen(g)
	if gs == nil || gs.Action != agent.ActionWeights || !gs.AdapterReady {
		return nil
	}
	t := &agent.Training{Algorithm: gs.Algorithm, ParentGen: gs.Parent, Version: gs.AdapterVersion}
	if p := r.st.Gen(gs.Parent); p != nil {
		t.ParentAdapter = p.AdapterVersion
	}
	steps := r.trainSteps(g)
	t.Steps = len(steps)
	if n := len(steps); n > 0 {
		k := max(1, n/10)
		for i, s := range steps {
			if i < k {
				t.LossFirst += s.Loss / float64(k)
				t.RewardFirst += s.Reward / float64(k)
			}
			if i >= n-k {
				t.LossLast += s.Loss / float64(k)
				t.RewardLast += s.Reward / float64(k)
			}
			t.KLMax = math.Max(t.KLMax, s.KL)
		}
		last := steps[n-1]
		t.KLLast = last.KL
		switch {
		case last.LR != nil:
			t.LR = last.LR
		case last.LearningRate != nil:
			t.LR = last.LearningRate
		}
		t.LossFirst, t.LossLast = round6(t.LossFirst), round6(t.LossLast)
		t.RewardFirst, t.RewardLast = round6(t.RewardFirst), round6(t.RewardLast)
	}
	trajs := r.trainRolloutsOf(g)
	t.Rounds = max(1, r.cfg.TrainRounds)
	if len(trajs) > 0 {
		if st, err := r.shapeOf(trajs); err == nil {
			t.TrainStats = &st
		}
		items := map[string]bool{}
		for _, tr := range trajs {
			items[tr.Item] = true
		}
		t.TrainItems = len(items)
	}
	return t
}

// trainSteps reads gen g's trainer log: adapter/train.jsonl, else
// train.jsonl.
func (r *runner) trainSteps(g int) []trainStep {
	for _, rel := range []string{runstore.GenFile(g, filepath.Join(runstore.AdapterDir, runstore.TrainLogFile)), runstore.GenFile(g, runstore.TrainLogFile)} {
		b, err := os.ReadFile(r.d.Store.Path(rel))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil
		}
		var out []trainStep
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var s trainStep
			if json.Unmarshal([]byte(line), &s) == nil {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// trainRolloutsOf reads every round's train rollouts of weights gen g.
func (r *runner) trainRolloutsOf(g int) []trajectory.Trajectory {
	var out []trajectory.Trajectory
	for round := 1; ; round++ {
		trajs, err := trajectory.LoadPath(r.d.Store.Path(runstore.GenFile(g, runstore.TrainRolloutsFile(round))))
		if err != nil {
			return out
		}
		out = append(out, trajs...)
	}
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// shapeOf is the reward shape of rollouts as package reward sees them for
// this run's trainer (without a KL measurement): for train rollouts, the
// shape of what the update learned from.
func (r *runner) shapeOf(trajs []trajectory.Trajectory) (rl.Stats, error) {
	var opts reward.Options
	if o, ok := r.d.Trainer.(rewardOptioner); ok {
		opts = o.RewardOptions()
	}
	b := reward.Collect(trajs, opts)
	return b.Stats(reward.Params{}, nil)
}
