package agent

import (
	"fmt"

	"github.com/sia-agent/sia/rl"
)

// Arm names one lever choice: "harness", or "weights/<algorithm>".
func Arm(action string, alg rl.Algorithm) string {
	if action == ActionWeights {
		return fmt.Sprintf("%s/%s", ActionWeights, alg)
	}
	return action
}

// Pull is one generation a lever made: its paired val gain over the
// incumbent (on the selection slice), what it added to the generation it
// started from (the incumbent, or an unproven weights branch of it),
// whether it became the incumbent, and what it cost.
type Pull struct {
	Gen      int     `json:"gen"`
	Gain     float64 `json:"gain"`     // over the incumbent
	Increase float64 `json:"increase"` // over the generation it started from
	Accepted bool    `json:"accepted"`
	Seconds  float64 `json:"seconds"`
	Tokens   int     `json:"tokens"`
}

// Return is what the pull added to the incumbent: its gain when it was
// accepted, else 0. A weight update that continues an unproven branch is
// credited with the branch's whole gain when it is accepted: returns are
// counted when they are proven.
func (p Pull) Return() float64 {
	if p.Accepted && p.Gain > 0 {
		return p.Gain
	}
	return 0
}

// ArmReturns is one arm's pulls in a run, in generation order.
type ArmReturns struct {
	Arm       string       `json:"arm"`
	Lever     string       `json:"lever"`
	Algorithm rl.Algorithm `json:"algorithm,omitempty"`
	Pulls     []Pull       `json:"pulls"`
}

// ArmSummary is an arm's measured return per pull and per unit of cost.
type ArmSummary struct {
	Arm      string  `json:"arm"`
	Pulls    int     `json:"pulls"`
	Accepted int     `json:"accepted"`
	Gain     float64 `json:"gain"` // summed returns (accepted gains)
	Seconds  float64 `json:"seconds"`
	Tokens   int     `json:"tokens"`
	// GainPerPull, GainPerHour and GainPerMTok are Gain per generation, per
	// hour of wall time and per million tokens (0 when nothing was spent).
	GainPerPull float64 `json:"gain_per_pull"`
	GainPerHour float64 `json:"gain_per_hour"`
	GainPerMTok float64 `json:"gain_per_mtok"`
}

// Summary totals an arm's pulls.
func (a ArmReturns) Summary() ArmSummary {
	s := ArmSummary{Arm: a.Arm, Pulls: len(a.Pulls)}
	for _, p := range a.Pulls {
		if p.Accepted {
			s.Accepted++
		}
		s.Gain += p.Return()
		s.Seconds += p.Seconds
		s.Tokens += p.Tokens
	}
	if s.Pulls > 0 {
		s.GainPerPull = s.Gain / float64(s.Pulls)
	}
	if s.Seconds > 0 {
		s.GainPerHour = s.Gain / s.Seconds * 3600
	}
	if s.Tokens > 0 {
		s.GainPerMTok = s.Gain / float64(s.Tokens) * 1e6
	}
	return s
}

// BanditChoice is how a bandit chose the lever: every arm it could pull,
// and the one it pulled.
type BanditChoice struct {
	Method string      `json:"method"`
	Chosen string      `json:"chosen"`
	Arms   []BanditArm `json:"arms"`
}

// BanditArm is one arm as the bandit saw it: its prior mean return per
// pull (from the rule table), what was measured, the posterior and the
// draw that was compared.
type BanditArm struct {
	ArmSummary
	Prior float64 `json:"prior"`
	Mean  float64 `json:"posterior_mean"`
	SD    float64 `json:"posterior_sd"`
	Draw  float64 `json:"draw"`
}

// RankedCandidate is a candidate harness the loop ranked on a slice of val.
type RankedCandidate struct {
	Gen        int            `json:"gen"` // the generation it was proposed for
	HarnessSHA string         `json:"harness_sha"`
	Knobs      map[string]any `json:"knobs,omitempty"`
	// Score is its score on the last slice it was ranked on, of Items
	// items; Won says it became the generation's harness.
	Score float64 `json:"score"`
	Items int     `json:"items"`
	Won   bool    `json:"won"`
}

// Ranking summarises a successive-halving ranking of candidate harnesses.
type Ranking struct {
	Candidates int `json:"candidates"`
	Winner     int `json:"winner"` // its index in candidates.json
	Rounds     int `json:"rounds"`
	// Items is the size of the last round's slice of val; Budget and
	// Spent count solves (item × sample) for ranking.
	Items  int `json:"items"`
	Budget int `json:"budget"`
	Spent  int `json:"spent"`
}
