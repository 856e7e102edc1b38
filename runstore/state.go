package runstore

import (
	"fmt"

	"github.com/sia-agent/sia/rl"
)

// GenState is what the events say about one generation.
type GenState struct {
	Gen            int          `json:"gen"`
	Action         string       `json:"action"`           // initial | harness | weights
	Parent         int          `json:"parent,omitempty"` // the generation this gen was derived from: the incumbent, or a branch of it
	Algorithm      rl.Algorithm `json:"algorithm,omitempty"`
	HarnessSHA     string       `json:"harness_sha"`
	HarnessReady   bool         `json:"-"`
	AdapterVersion int          `json:"adapter_version"`
	AdapterDir     string       `json:"adapter_dir,omitempty"`
	AdapterReady   bool         `json:"-"` // true when no adapter is pending
	RolledOut      bool         `json:"-"`
	Verified       bool         `json:"-"`
	Score          float64      `json:"score"`
	// Accepted: the generation became the incumbent when it was verified;
	// Selection is the comparison that decided it (nil in older logs).
	Accepted  bool       `json:"accepted"`
	Selection *Selection `json:"selection,omitempty"`
	// Tokens and CostUSD count every rollout made for this generation:
	// ranking its candidates, training its adapter, and its val rollout.
	Tokens        int          `json:"tokens"`
	CostUSD       float64      `json:"cost_usd"`
	DurationS     float64      `json:"duration_s"`
	Decided       bool         `json:"-"`
	NextAction    string       `json:"-"` // the decision taken after this gen
	NextAlgorithm rl.Algorithm `json:"-"`
	Rationale     string       `json:"-"`
}

// State is the run as far as events.jsonl records it.
type State struct {
	Started   bool
	Gens      []GenState // Gens[i].Gen == i+1
	BestGen   int        // 0 until a generation is verified
	BestScore float64
	// Confirm is the final incumbent re-scored before the test.
	Confirm   *Confirmation
	TestScore *float64
	Finished  bool
	Reason    string
	NextSeq   int
}

// Gen returns generation n's state, or nil.
func (s *State) Gen(n int) *GenState {
	if n < 1 || n > len(s.Gens) {
		return nil
	}
	return &s.Gens[n-1]
}

// Last returns the latest generation, or nil.
func (s *State) Last() *GenState { return s.Gen(len(s.Gens)) }

// Replay folds events into a State. A verified event that records its
// selection says whether the generation became the incumbent; in logs
// without it (written before selection was recorded) the incumbent is the
// best verified score in the direction higher gives, ties keeping the
// older generation.
func Replay(events []Event, higher bool) (State, error) {
	var s State
	for i, e := range events {
		if e.Seq != i {
			return s, fmt.Errorf("event %d has seq %d", i, e.Seq)
		}
		s.NextSeq = i + 1
		if s.Finished && e.Type != EvRunExtended {
			return s, fmt.Errorf("event %d (%s) after run_finished", i, e.Type)
		}
		switch e.Type {
		case EvRunStarted:
			s.Started = true
		case EvHarnessReady:
			if e.Gen != len(s.Gens)+1 && !(e.Gen == len(s.Gens) && s.Last() != nil && !s.Last().HarnessReady) {
				return s, fmt.Errorf("event %d: harness for gen %d out of order", i, e.Gen)
			}
			if e.Gen == len(s.Gens)+1 {
				s.Gens = append(s.Gens, GenState{Gen: e.Gen, Action: "initial", AdapterReady: true})
			}
			g := s.Last()
			g.HarnessSHA, g.HarnessReady = e.HarnessSHA, true
			// The Meta-Agent's session (and its measurements) is gen 1's cost;
			// for later generations, what ranking candidate harnesses cost.
			g.Tokens += e.Tokens
			g.CostUSD += e.CostUSD
			g.DurationS += e.DurationS
		case EvRolloutDone, EvVerified:
			g := s.Gen(e.Gen)
			if g == nil || !g.HarnessReady || !g.AdapterReady {
				return s, fmt.Errorf("event %d: %s for gen %d before its harness/adapter", i, e.Type, e.Gen)
			}
			if e.Type == EvRolloutDone {
				g.RolledOut = true
				g.Tokens += e.Tokens
				g.CostUSD += e.CostUSD
				g.DurationS += e.DurationS // a weights gen already holds its training time
				continue
			}
			if !g.RolledOut || e.Score == nil {
				return s, fmt.Errorf("event %d: verified gen %d without rollouts or score", i, e.Gen)
			}
			g.Verified, g.Score = true, *e.Score
			g.DurationS += e.DurationS
			accepted := s.BestGen == 0 || (higher && g.Score > s.BestScore) || (!higher && g.Score < s.BestScore)
			if sel := e.Selection; sel != nil {
				if s.BestGen == 0 && !sel.Accepted {
					return s, fmt.Errorf("event %d: gen %d is not accepted, but there is no incumbent yet", i, e.Gen)
				}
				v := *sel
				g.Selection, accepted = &v, sel.Accepted
			}
			if accepted {
				s.BestGen, s.BestScore = g.Gen, g.Score
				g.Accepted = true
			}
		case EvDecided:
			g := s.Gen(e.Gen)
			if g == nil || !g.Verified {
				return s, fmt.Errorf("event %d: decision on unverified gen %d", i, e.Gen)
			}
			g.Decided, g.NextAction, g.NextAlgorithm, g.Rationale = true, e.Action, e.Algorithm, e.Rationale
			g.DurationS += e.DurationS
			g.Tokens += e.Tokens // the agents' measurements
			g.CostUSD += e.CostUSD
			// Keep-best: a lever is applied to the incumbent, not to the
			// latest generation; a weight update may continue a weights
			// generation of the incumbent that is not yet proven (Parent).
			base := s.Gen(s.BestGen)
			if e.Parent > 0 {
				p := s.Gen(e.Parent)
				if e.Action != "weights" || p == nil || !p.Verified || p.Action != "weights" {
					return s, fmt.Errorf("event %d: a %s generation cannot continue gen %d", i, e.Action, e.Parent)
				}
				base = p
			}
			switch e.Action {
			case "harness":
				// the new harness is announced by harness_ready for gen+1
				s.Gens = append(s.Gens, GenState{Gen: e.Gen + 1, Action: "harness", Parent: base.Gen,
					AdapterVersion: base.AdapterVersion, AdapterDir: base.AdapterDir, AdapterReady: true})
			case "weights":
				s.Gens = append(s.Gens, GenState{Gen: e.Gen + 1, Action: "weights", Algorithm: e.Algorithm,
					Parent: base.Gen, HarnessSHA: base.HarnessSHA, HarnessReady: true,
					AdapterVersion: base.AdapterVersion, AdapterDir: base.AdapterDir})
			case "stop":
			default:
				return s, fmt.Errorf("event %d: unknown action %q", i, e.Action)
			}
		case EvAdapterTrained:
			g := s.Gen(e.Gen)
			if g == nil || g.Action != "weights" || g.AdapterReady {
				return s, fmt.Errorf("event %d: adapter for gen %d not pending", i, e.Gen)
			}
			g.AdapterReady, g.AdapterVersion, g.AdapterDir = true, e.AdapterVersion, e.AdapterDir
			g.DurationS += e.DurationS
			g.Tokens += e.Tokens
			g.CostUSD += e.CostUSD
		case EvConfirmed:
			if e.Confirm == nil || s.Gen(e.Confirm.Gen) == nil || e.Confirm.Gen != s.BestGen {
				return s, fmt.Errorf("event %d: confirmed without the incumbent's scores", i)
			}
			v := *e.Confirm
			s.Confirm = &v
		case EvTestScored:
			if e.Score == nil {
				return s, fmt.Errorf("event %d: test_scored without score", i)
			}
			v := *e.Score
			s.TestScore = &v
		case EvRunFinished:
			s.Finished, s.Reason = true, e.Reason
		case EvRunExtended:
			if e.MaxGen <= len(s.Gens) {
				return s, fmt.Errorf("event %d: extends the run to %d generations, but it has %d", i, e.MaxGen, len(s.Gens))
			}
			s.Finished, s.Reason, s.TestScore, s.Confirm = false, "", nil, nil
			if g := s.Last(); g != nil && g.Decided && g.NextAction == "stop" {
				g.Decided, g.NextAction, g.NextAlgorithm, g.Rationale = false, "", "", ""
			}
		default:
			return s, fmt.Errorf("event %d: unknown type %q", i, e.Type)
		}
	}
	return s, nil
}
