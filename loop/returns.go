package loop

import (
	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/runstore"
)

// returns is the run's measured return of each arm (a lever, with an
// algorithm for weights), arms in the order they were first pulled: for
// every verified generation after the first, its paired val gain over the
// incumbent it started from, whether it was accepted, and its cost (the
// generation's recorded seconds and tokens: ranking, training, rollout).
func (r *runner) returns() []agent.ArmReturns {
	var out []agent.ArmReturns
	index := map[string]int{}
	for _, g := range r.st.Gens {
		if !g.Verified || g.Gen == 1 || (g.Action != agent.ActionHarness && g.Action != agent.ActionWeights) {
			continue
		}
		p := agent.Pull{Gen: g.Gen, Accepted: g.Accepted, Seconds: g.DurationS, Tokens: g.Tokens}
		switch parent := r.st.Gen(g.Parent); {
		case g.Selection != nil:
			p.Gain, p.Increase = g.Selection.Gain, g.Selection.Gain
			if parent != nil && parent.Gen != g.Selection.Incumbent && parent.Selection != nil && parent.Selection.Incumbent == g.Selection.Incumbent {
				p.Increase -= parent.Selection.Gain // it continued an unproven branch
			}
		case parent != nil: // a log from before selection was recorded
			p.Gain = g.Score - parent.Score
			if !r.higher {
				p.Gain = -p.Gain
			}
			p.Increase = p.Gain
		}
		arm := agent.Arm(g.Action, g.Algorithm)
		i, ok := index[arm]
		if !ok {
			i = len(out)
			index[arm] = i
			out = append(out, agent.ArmReturns{Arm: arm, Lever: g.Action, Algorithm: g.Algorithm})
		}
		out[i].Pulls = append(out[i].Pulls, p)
	}
	return out
}

// returnsFile is returns.json.
type returnsFile struct {
	FormatVersion int          `json:"format_version"`
	Arms          []returnsArm `json:"arms"`
}

type returnsArm struct {
	agent.ArmSummary
	Pulls []agent.Pull `json:"history"`
}

// writeReturns writes returns.json: derived from the events, rewritten
// after every verified generation.
func (r *runner) writeReturns() error {
	f := returnsFile{FormatVersion: 1, Arms: []returnsArm{}}
	for _, a := range r.returns() {
		f.Arms = append(f.Arms, returnsArm{ArmSummary: a.Summary(), Pulls: a.Pulls})
	}
	return r.d.Store.WriteJSON(runstore.ReturnsFile, f)
}

// branch is the unproven weights generation a weight update continues
// instead of the incumbent: the latest verified weights generation, when
// it was compared with the current incumbent, not accepted, and gained
// over it. A weight update's training is cumulative: an update too small to
// prove alone is kept as the start of the next, until a continuation is
// accepted (the whole branch's gain is then tested against the incumbent)
// or loses its gain, or the incumbent changes. nil when there is none.
func (r *runner) branch() *agent.Branch {
	var last *runstore.GenState
	for i := range r.st.Gens {
		if g := &r.st.Gens[i]; g.Verified && g.Action == agent.ActionWeights {
			last = g
		}
	}
	if last == nil || last.Accepted || last.Selection == nil || last.Selection.Incumbent != r.st.BestGen || last.Selection.Gain <= 0 {
		return nil
	}
	return &agent.Branch{Gen: last.Gen, Gain: last.Selection.Gain, PValue: last.Selection.PValue}
}
