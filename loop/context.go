package loop

import (
	"fmt"
	"strings"

	"github.com/sia-agent/sia/agent"
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
	return r.d.Store.WriteFile("context.md", []byte(b.String()))
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
