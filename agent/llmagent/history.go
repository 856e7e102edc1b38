package llmagent

import (
	"fmt"
	"strings"

	"github.com/sia-agent/sia/agent"
)

// historyRow is one generation in the feedback prompt's table.
type historyRow struct {
	Gen, Lever, Parent, Algorithm, Score, Accepted, Acceptance, Harness, Adapter, Time, Tokens, Cost, Rationale string
}

// historyRows renders the run's generations. hasAcceptance is true when
// any generation carries a paired acceptance test (its column shows then).
func historyRows(h []agent.GenSummary) (rows []historyRow, hasAcceptance bool, incumbent int) {
	for _, g := range h {
		r := historyRow{Gen: fmt.Sprint(g.Gen), Lever: g.Action, Parent: "-", Algorithm: orDash(string(g.Algorithm)),
			Score: formatNum(g.Score), Accepted: "no", Harness: g.HarnessSHA, Adapter: fmt.Sprintf("v%d", g.AdapterVersion),
			Time: fmt.Sprintf("%.0fs", g.DurationS), Tokens: fmt.Sprint(g.Tokens), Cost: "-",
			Rationale: clip(strings.Join(strings.Fields(g.Rationale), " "), 160)}
		if g.Parent > 0 {
			r.Parent = fmt.Sprint(g.Parent)
		}
		if g.Accepted {
			r.Accepted = "yes"
		}
		if g.Incumbent {
			r.Accepted += " ★"
			incumbent = g.Gen
		}
		if g.CostUSD > 0 {
			r.Cost = fmt.Sprintf("$%.4f", g.CostUSD)
		}
		r.Acceptance = "-"
		if a := g.Acceptance; a != nil {
			hasAcceptance = true
			r.Acceptance = fmt.Sprintf("%+.4g [%+.4g, %+.4g]", a.Gain, a.Lo, a.Hi)
			if a.Test != "" {
				r.Acceptance += fmt.Sprintf(" %s p=%.3g", a.Test, a.P)
			}
			if a.Reason != "" {
				r.Acceptance += ": " + clip(a.Reason, 80)
			}
		}
		rows = append(rows, r)
	}
	return rows, hasAcceptance, incumbent
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// trainingLines summarises each weight update's training curve.
func trainingLines(h []agent.GenSummary) []string {
	var out []string
	for _, g := range h {
		t := g.Training
		if t == nil {
			continue
		}
		from := fmt.Sprintf("adapter v%d of gen %d", t.ParentAdapter, t.ParentGen)
		if t.ParentAdapter == 0 {
			from = fmt.Sprintf("the base (gen %d's incumbent had no adapter)", t.ParentGen)
		}
		s := fmt.Sprintf("gen %d: %s → adapter v%d, started from %s; %d steps in %d round(s)", g.Gen, t.Algorithm, t.Version, from, t.Steps, max(t.Rounds, 1))
		if t.Steps > 0 {
			s += fmt.Sprintf("; loss %.4g → %.4g; reward on its train rollouts %.4g → %.4g; KL to base %.4g at the end (max %.4g)",
				t.LossFirst, t.LossLast, t.RewardFirst, t.RewardLast, t.KLLast, t.KLMax)
		} else {
			s += " (the trainer logged no steps: the update changed nothing it measured)"
		}
		if t.LR != nil {
			s += fmt.Sprintf("; learning rate %.3g", *t.LR)
		}
		if t.TrainStats != nil {
			s += fmt.Sprintf(". It learned from %d train items: %s", t.TrainItems, statsLine(*t.TrainStats))
		}
		s += fmt.Sprintf(". Val after the update: %s (%s).", formatNum(g.Score), map[bool]string{true: "accepted", false: "not accepted"}[g.Accepted])
		out = append(out, s)
	}
	return out
}

// memoryLines renders memory.json for the prompt, one line per change,
// and the baseline's line.
func memoryLines(m *agent.Memory) (lines []string, baseline string) {
	if m == nil {
		return nil, ""
	}
	if b := m.Baseline; b != nil {
		baseline = fmt.Sprintf("The task's reference harness (%s), scored on the same items and seeds: val %s", b.HarnessSHA, formatNum(b.Val))
		if b.Test != nil {
			baseline += fmt.Sprintf(", test %s", formatNum(*b.Test))
		}
		baseline += "."
	}
	for _, c := range m.Changes {
		s := fmt.Sprintf("gen %d (%s", c.Gen, c.Lever)
		if c.Algorithm != "" {
			s += " " + string(c.Algorithm)
		}
		if c.Parent > 0 {
			s += fmt.Sprintf(" on gen %d", c.Parent)
		}
		s += "): " + c.Summary
		if len(c.Knobs) > 0 {
			var ks []string
			for _, k := range c.Knobs {
				ks = append(ks, fmt.Sprintf("%s %s→%s", k.Knob, knobText(k.From), knobText(k.To)))
			}
			s += "; knobs " + strings.Join(ks, ", ")
		}
		s += fmt.Sprintf("; val %s", formatNum(c.Val))
		if c.Gain != nil {
			s += fmt.Sprintf(" (gain %+.4g", *c.Gain)
			if c.GainSE != nil {
				s += fmt.Sprintf(" ± %.2g over %d paired items", *c.GainSE, c.Paired)
			}
			s += ")"
		}
		s += map[bool]string{true: ", accepted", false: ", not accepted"}[c.Accepted]
		switch {
		case c.Carried != nil:
			s += fmt.Sprintf("; test %s vs parent %s: the gain %s", formatNum(*c.Test), formatNum(*c.ParentTest),
				map[bool]string{true: "carried to test", false: "did not carry to test"}[*c.Carried])
		case c.Test != nil:
			s += fmt.Sprintf("; test %s", formatNum(*c.Test))
		}
		s += fmt.Sprintf("; cost %.0fs, %d tokens", c.DurationS, c.Tokens)
		if c.CostUSD > 0 {
			s += fmt.Sprintf(", $%.4f", c.CostUSD)
		}
		if c.Hypothesis != "" {
			s += ". Hypothesis: " + clip(strings.Join(strings.Fields(c.Hypothesis), " "), 160)
		}
		lines = append(lines, s)
	}
	return lines, baseline
}

// budgetLine says what is left of the run.
func budgetLine(b agent.Budget, remaining int) string {
	s := fmt.Sprintf("%d generation(s) left after this one", remaining)
	if b.SpentTokens > 0 || b.SpentUSD > 0 || b.LimitTokens > 0 || b.LimitUSD > 0 {
		s += fmt.Sprintf("; spent so far %d tokens", b.SpentTokens)
		if b.SpentUSD > 0 || b.LimitUSD > 0 {
			s += fmt.Sprintf(", $%.4f", b.SpentUSD)
		}
		if b.LimitTokens > 0 {
			s += fmt.Sprintf(" of a %d-token limit", b.LimitTokens)
		}
		if b.LimitUSD > 0 {
			s += fmt.Sprintf(" of a $%.2f limit", b.LimitUSD)
		}
	}
	return s
}

func trainPlanLine(p agent.TrainPlan) string {
	if p.Items == 0 {
		return "fresh train items"
	}
	return fmt.Sprintf("%d fresh train items × %d samples per round, %d round(s)", p.Items, max(p.Samples, 1), max(p.Rounds, 1))
}

// knobText writes a knob value; nil is a knob left at its first candidate.
func knobText(v any) string {
	if v == nil {
		return "(first candidate)"
	}
	return mustJSON(v)
}
