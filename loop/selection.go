package loop

import (
	"fmt"

	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/stats"
	"github.com/sia-agent/sia/verify"
)

// selectionRule says how the loop accepts candidates: the rule's name,
// its level (0 for any) and the coverage of the gain's interval (1 − 2α,
// so the interval's lower end is above 0 exactly when the one-sided t-test
// passes at α; 0.95 under "any").
func (r *runner) selectionRule() (name string, level, ciLevel float64) {
	level, _ = ParseAccept(r.cfg.Accept) // validated in Config.Validate
	if level == 0 {
		return AcceptAny, 0, 0.95
	}
	return fmt.Sprintf("p<%g", level), level, 1 - 2*level
}

// selection compares gen's verified val rollouts (their per-item mean
// rewards, ids in order) with the incumbent's,
// item by item on the items both solved (the same items with the same
// sample seeds: common random numbers), and decides whether gen becomes
// the incumbent. The gain is in reward units (a per-item mean over the
// samples); the score (the task's metric) must improve too.
func (r *runner) selection(gen int, score float64, ids []string, cand map[string]float64) (runstore.Selection, error) {
	rule, level, ciLevel := r.selectionRule()
	sel := runstore.Selection{Score: score, Rule: rule}
	inc := r.st.Gen(r.st.BestGen)
	if inc == nil {
		sel.Accepted, sel.Reason = true, "the first generation is the incumbent"
		return sel, nil
	}
	_, base, err := r.itemMeansOf(runstore.GenFile(inc.Gen, runstore.RolloutsFile))
	if err != nil {
		return sel, fmt.Errorf("the incumbent's rollouts: %w", err)
	}
	var a, b []float64
	for _, id := range ids {
		if v, ok := base[id]; ok {
			a, b = append(a, cand[id]), append(b, v)
		}
	}
	cmp, err := stats.Compare(a, b, true, ciLevel, uint64(r.cfg.Seed)*1000003+uint64(gen))
	if err != nil {
		return sel, err
	}
	sel.Incumbent, sel.IncumbentScore = inc.Gen, inc.Score
	sel.Test, sel.Method = stats.TestName, cmp.Method
	sel.N, sel.Gain, sel.SE, sel.GainLo, sel.GainHi, sel.CILevel = cmp.N, cmp.Gain, cmp.SE, cmp.Lo, cmp.Hi, cmp.Level
	sel.Wins, sel.Losses, sel.Ties, sel.PValue = cmp.Wins, cmp.Losses, cmp.Ties, cmp.P
	better := verify.Better(score, inc.Score, r.higher)
	switch {
	case !better:
		sel.Reason = fmt.Sprintf("val %.4f does not beat the incumbent's %.4f (gen %d)", score, inc.Score, inc.Gen)
	case level == 0:
		sel.Accepted = true
		sel.Reason = fmt.Sprintf("val %.4f beats the incumbent's %.4f (--accept any; p %.3g)", score, inc.Score, cmp.P)
	case cmp.P < level:
		sel.Accepted = true
		sel.Reason = fmt.Sprintf("gain %+.4f over gen %d with p %.3g < %g: the gain is real at this level", cmp.Gain, inc.Gen, cmp.P, level)
	default:
		sel.Reason = fmt.Sprintf("val %.4f beats the incumbent's %.4f, but p %.3g ≥ %g: not enough evidence", score, inc.Score, cmp.P, level)
	}
	return sel, nil
}
