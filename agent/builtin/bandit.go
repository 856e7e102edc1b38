package builtin

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/rl"
)

// The bandit's constants, in the metric's units (accuracy points for the
// bundled tasks). A pull's return is the val gain it added to the
// incumbent: its paired gain when it was accepted, else 0.
const (
	// banditPriorGain is the prior mean return per generation of the arm
	// the plateau rules would pull now; every other arm starts at 0.
	banditPriorGain = 0.02
	// banditPriorWeight is the prior's worth, in pulls.
	banditPriorWeight = 1.0
	// banditSigma is the assumed noise of one pull's return.
	banditSigma = 0.01
	// banditDiscount weighs a pull made g generations ago by
	// banditDiscount^g: levers' returns change as the run goes on (the
	// harness search runs out of moves, a weight update makes the next
	// knob setting worth trying again), so old evidence fades.
	banditDiscount = 0.5
	banditSalt     = 0x62616e646974 // "bandit"
)

// banditMethod describes the choice in decisions.
var banditMethod = fmt.Sprintf("discounted Thompson sampling over lever × algorithm (normal returns, σ %.2g, discount %.2g per generation; prior mean %.2g per generation for the plateau rules' choice, 0 for the others, worth %.0f pulls)",
	banditSigma, banditDiscount, banditPriorGain, banditPriorWeight)

// banditArm is one lever choice the bandit may make.
type banditArm struct {
	name  string
	lever string
	alg   rl.Algorithm
}

// choose picks the lever (and the algorithm) by discounted Thompson
// sampling on the run's measured returns (in.Returns), with the plateau
// rules' choice (prior) as the prior. The arms are the harness (while an
// untried move is left) and, for the weights lever, the rule table's
// algorithm and every algorithm this run has already trained with that
// can still train (an untried algorithm the rule table does not
// recommend is not explored). The draw is seeded by in.Seed.
func choose(in agent.FeedbackInput, canWeights bool, moves []move, prior agent.FeedbackOutput, evidence string) agent.FeedbackOutput {
	arms := banditArms(in, canWeights, len(moves) > 0)
	if len(arms) == 0 {
		return prior
	}
	ruleArm := agent.Arm(prior.Decision.Action, prior.Decision.Algorithm)
	pulls := map[string][]agent.Pull{}
	for _, a := range in.Returns {
		pulls[a.Arm] = a.Pulls
	}
	rng := rand.New(rand.NewPCG(uint64(in.Seed), banditSalt))
	choice := &agent.BanditChoice{Method: banditMethod}
	best := -1
	for i, a := range arms {
		m0 := 0.0
		if a.name == ruleArm {
			m0 = banditPriorGain
		}
		w, s := 0.0, 0.0
		for _, p := range pulls[a.name] {
			wt := math.Pow(banditDiscount, float64(max(0, in.Gen-p.Gen)))
			w += wt
			s += wt * p.Return()
		}
		mean := (banditPriorWeight*m0 + s) / (banditPriorWeight + w)
		sd := banditSigma / math.Sqrt(banditPriorWeight+w)
		ba := agent.BanditArm{ArmSummary: agent.ArmReturns{Arm: a.name, Pulls: pulls[a.name]}.Summary(),
			Prior: m0, Mean: mean, SD: sd, Draw: mean + sd*rng.NormFloat64()}
		choice.Arms = append(choice.Arms, ba)
		if best < 0 || ba.Draw > choice.Arms[best].Draw {
			best = i
		}
	}
	a := arms[best]
	choice.Chosen = a.name
	why := banditWhy(choice, best, ruleArm)
	var out agent.FeedbackOutput
	if a.lever == agent.ActionHarness {
		out = harnessMoves(in, moves, evidence)
		out.Decision.Rationale = why + "; " + out.Decision.Rationale
		for i := range out.Alternatives {
			out.Alternatives[i].Decision.Bandit = choice
			out.Alternatives[i].Decision.Rationale = why + "; " + out.Alternatives[i].Decision.Rationale
		}
	} else {
		out = weights(in, a.alg, why, evidence)
	}
	out.Decision.Bandit = choice
	return out
}

// banditArms lists the arms that can be pulled now, in a fixed order.
func banditArms(in agent.FeedbackInput, canWeights, movesLeft bool) []banditArm {
	var arms []banditArm
	if in.Mode != agent.ModeWeights && movesLeft {
		arms = append(arms, banditArm{name: agent.ActionHarness, lever: agent.ActionHarness})
	}
	if !canWeights {
		return arms
	}
	want := map[rl.Algorithm]bool{}
	switch {
	case in.ForcedAlgorithm != "":
		want[in.ForcedAlgorithm] = true
	default:
		if in.Recommended != "" {
			want[in.Recommended] = true
		}
		for _, a := range in.Returns {
			if a.Lever == agent.ActionWeights && a.Algorithm != "" && (in.Stats.Units == nil || in.Stats.Units.Of(a.Algorithm) > 0) {
				want[a.Algorithm] = true
			}
		}
	}
	for _, alg := range rl.Algorithms {
		if want[alg] {
			arms = append(arms, banditArm{name: agent.Arm(agent.ActionWeights, alg), lever: agent.ActionWeights, alg: alg})
		}
	}
	return arms
}

// banditWhy says why the chosen arm won, against every other arm.
func banditWhy(c *agent.BanditChoice, best int, ruleArm string) string {
	var b strings.Builder
	w := c.Arms[best]
	fmt.Fprintf(&b, "bandit: %s drew %+.4f (posterior mean %+.4f; %s)", w.Arm, w.Draw, w.Mean, armRecord(w))
	var others []string
	for i, a := range c.Arms {
		if i != best {
			others = append(others, fmt.Sprintf("%s %+.4f (mean %+.4f; %s)", a.Arm, a.Draw, a.Mean, armRecord(a)))
		}
	}
	if len(others) > 0 {
		fmt.Fprintf(&b, " over %s", strings.Join(others, ", "))
	}
	switch {
	case ruleArm == w.Arm:
		b.WriteString("; the plateau rules agree")
	case ruleArm != "" && ruleArm != agent.ActionStop:
		fmt.Fprintf(&b, "; the plateau rules would pull %s", ruleArm)
	}
	return b.String()
}

func armRecord(a agent.BanditArm) string {
	if a.Pulls == 0 {
		return "not pulled yet"
	}
	return fmt.Sprintf("%d pulls, %d accepted, +%.4f val in all, %.3g per hour, %.3g per M tokens",
		a.Pulls, a.Accepted, a.Gain, a.GainPerHour, a.GainPerMTok)
}
