package loop

import (
	"fmt"
	"strings"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/verify"
)

// improvementMD renders gen_<n>/improvement.md from a decision.
func improvementMD(gen int, d agent.Decision) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Generation %d: %s", gen, d.Action)
	if d.Algorithm != "" {
		fmt.Fprintf(&b, " (%s)", d.Algorithm)
	}
	b.WriteString("\n\n")
	for _, s := range []struct{ title, text string }{
		{"Hypothesis", d.Hypothesis}, {"Evidence", d.Evidence}, {"Change", d.Change},
		{"Expected", d.Expected}, {"Risk", d.Risk},
	} {
		text := strings.TrimSpace(s.text)
		if text == "" {
			text = "(not given)"
		}
		fmt.Fprintf(&b, "## %s\n\n%s\n\n", s.title, text)
	}
	if d.Rationale != "" {
		fmt.Fprintf(&b, "## Rationale\n\n%s\n", strings.TrimSpace(d.Rationale))
	}
	return b.String()
}

// writeContext renders context.md: the run so far, for people and agents.
// It holds only val scores and gold-free summaries.
func (r *runner) writeContext() error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Run %s: task %s, mode %s\n\n", r.cfg.RunID, r.d.Task.Spec.Name, r.cfg.Mode)
	fmt.Fprintf(&b, "Metric: %s on the val split (%s is better). Max generations: %d.\n\n",
		r.d.Task.Spec.Metric, map[bool]string{true: "higher", false: "lower"}[r.higher], r.cfg.MaxGen)
	b.WriteString("| gen | action | algorithm | harness | adapter | val score | tokens | duration (s) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, g := range r.st.Gens {
		score := "—"
		if g.Verified {
			score = fmt.Sprintf("%.4f", g.Score)
		}
		mark := ""
		if g.Gen == r.st.BestGen {
			mark = " ★"
		}
		fmt.Fprintf(&b, "| %d%s | %s | %s | %s | v%d | %s | %d | %.1f |\n", g.Gen, mark, g.Action, orDash(string(g.Algorithm)),
			orDash(g.HarnessSHA), g.AdapterVersion, score, g.Tokens, g.DurationS)
	}
	if r.st.BestGen > 0 {
		fmt.Fprintf(&b, "\nIncumbent: gen %d (val %.4f).\n", r.st.BestGen, r.st.BestScore)
	}
	for _, g := range r.st.Gens {
		if g.Decided && g.Rationale != "" {
			fmt.Fprintf(&b, "\n- after gen %d → %s: %s", g.Gen, g.NextAction, oneLine(g.Rationale))
		}
	}
	if r.st.TestScore != nil {
		fmt.Fprintf(&b, "\n\nHeld-out test score of the incumbent: %.4f\n", *r.st.TestScore)
	}
	b.WriteString("\n")
	if err := r.d.Store.WriteFile(runstore.ContextFile, []byte(b.String())); err != nil {
		return err
	}
	return r.writeMemory()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// addFeedbackContext fills what the Feedback-Agent decides on beyond this
// generation's verdict: the val items (without labels), the run's history
// with durations, costs and training curves, the train rollouts a weight
// update would resemble, the memory of every change, the budget left and
// the weight update's plan.
func (r *runner) addFeedbackContext(in *agent.FeedbackInput) error {
	in.Items = r.sel // the selection slice: the confirmation slice stays unseen
	in.TrainSize = len(r.d.Data.Train)
	in.History = r.history()
	in.TrainRollouts = r.incumbentTrainRollouts()
	m, err := r.buildMemory()
	if err != nil {
		return err
	}
	in.Memory = m
	in.TrainPlan = agent.TrainPlan{Items: r.cfg.TrainItems, Samples: r.cfg.TrainSamples, Rounds: max(1, r.cfg.TrainRounds)}
	if r.d.Spend != nil {
		in.Budget = r.d.Spend()
	}
	in.Budget.RemainingGens = in.RemainingGens
	return nil
}

// history is every verified generation as agents see it. A generation's
// rationale is the one given for the decision that made it (recorded on
// the generation it was decided after), so each row reads as "why this
// generation exists".
func (r *runner) history() []agent.GenSummary {
	var out []agent.GenSummary
	for _, g := range r.st.Gens {
		if !g.Verified {
			continue
		}
		src, _ := r.readHarness(g.Gen)
		s := agent.GenSummary{Gen: g.Gen, Action: g.Action, Parent: g.Parent, Algorithm: g.Algorithm, Score: g.Score,
			HarnessSHA: g.HarnessSHA, Knobs: src.Knobs, AdapterVersion: g.AdapterVersion, Rationale: r.madeBecause(g.Gen),
			Incumbent: g.Gen == r.st.BestGen, Accepted: g.Accepted, DurationS: round3(g.DurationS), Tokens: g.Tokens,
			CostUSD: g.CostUSD, Training: r.training(g.Gen), Acceptance: r.acceptance(g.Gen)}
		var res verify.Result
		if err := r.d.Store.ReadJSON(runstore.GenFile(g.Gen, runstore.ResultsFile), &res); err == nil {
			s.Counts = res.Counts
		}
		out = append(out, s)
	}
	return out
}

// madeBecause is the rationale of the decision that made gen: the
// Feedback-Agent's after gen−1, or gen 1's decision.json note.
func (r *runner) madeBecause(gen int) string {
	if prev := r.st.Gen(gen - 1); prev != nil && prev.Decided {
		return prev.Rationale
	}
	var d agent.Decision
	if err := r.d.Store.ReadJSON(runstore.GenFile(gen, runstore.DecisionFile), &d); err == nil {
		return d.Rationale
	}
	return ""
}

// acceptance is the paired comparison of gen with the incumbent of its
// time, as its verified event recorded it; nil for the first generation
// and for old logs without one.
func (r *runner) acceptance(gen int) *agent.Acceptance {
	g := r.st.Gen(gen)
	if g == nil || g.Selection == nil || g.Selection.Incumbent == 0 {
		return nil
	}
	sel := g.Selection
	return &agent.Acceptance{Gain: sel.Gain, Lo: sel.GainLo, Hi: sel.GainHi, Level: sel.CILevel,
		Test: sel.Test, P: sel.PValue, Accepted: sel.Accepted, Reason: sel.Reason}
}

// incumbentTrainRollouts is the reward shape of the latest train rollouts
// of the incumbent's harness: what the next weight update's rollouts will
// most resemble. Nil before any weight update of that harness.
func (r *runner) incumbentTrainRollouts() *agent.TrainRollouts {
	best := r.st.Gen(r.st.BestGen)
	if best == nil {
		return nil
	}
	for i := len(r.st.Gens) - 1; i >= 0; i-- {
		g := r.st.Gens[i]
		if g.Action != agent.ActionWeights || g.HarnessSHA != best.HarnessSHA {
			continue
		}
		trajs := r.trainRolloutsOf(g.Gen)
		if len(trajs) == 0 {
			continue
		}
		ver := 0
		if p := r.st.Gen(g.Parent); p != nil {
			ver = p.AdapterVersion
		}
		st, err := r.shapeOf(trajs)
		if err != nil {
			continue
		}
		return &agent.TrainRollouts{Gen: g.Gen, HarnessSHA: g.HarnessSHA, AdapterVersion: ver, Stats: st}
	}
	return nil
}
