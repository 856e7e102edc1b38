package report

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxWidth is the widest line the text renderers print.
const MaxWidth = 100

// fit pads or cuts s to exactly n columns (runes), marking a cut with "…".
func fit(s string, n int) string {
	if c := utf8.RuneCountInString(s); c <= n {
		return s + strings.Repeat(" ", n-c)
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func scoreText(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprintf("%.4f", *v)
}

func bestText(b *Best) string {
	if b == nil {
		return "—"
	}
	return fmt.Sprintf("%.4f (gen %d)", b.Score, b.Gen)
}

// Age prints how long ago t was, in one short unit ("45s", "3m", "2h", "5d").
func Age(t, now time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", max(0, int(d.Seconds())))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd ago", int(d.Hours()/24))
	}
}

// WriteList prints a runs listing as a table at most MaxWidth wide.
func WriteList(w io.Writer, entries []Entry, now time.Time) error {
	if len(entries) == 0 {
		_, err := fmt.Fprintln(w, "no runs")
		return err
	}
	row := func(name, task, mode, gens, best, test, status, updated string) string {
		line := fit(name, 16) + "  " + fit(task, 16) + "  " + fit(mode, 7) + "  " + fit(gens, 5) + "  " +
			fit(best, 15) + "  " + fit(test, 6) + "  " + fit(status, 10) + "  " + updated
		return strings.TrimRight(line, " ")
	}
	var b strings.Builder
	b.WriteString(row("run", "task", "mode", "gens", "best val", "test", "status", "updated") + "\n")
	for _, e := range entries {
		if e.Status == StatusBroken {
			b.WriteString(row(e.Name, "—", "—", "—", "—", "—", e.Status, Age(e.Updated, now)) + "\n")
			continue
		}
		gens := fmt.Sprintf("%d/%d", e.Gens, e.MaxGen)
		b.WriteString(row(e.Name, e.Task, e.Mode, gens, bestText(e.Best), scoreText(e.TestScore), e.Status, Age(e.Updated, now)) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteCompare prints two runs side by side, generation by generation, at
// most MaxWidth wide; nameA and nameB label them (their folder names: two
// runs in different folders can share a run id).
func WriteCompare(w io.Writer, nameA string, a *Summary, nameB string, b *Summary) error {
	const gw, side = 5, 46 // gen column; each run's column
	var out strings.Builder
	pair := func(label, x, y string) {
		out.WriteString(strings.TrimRight(fit(label, gw+2)+fit(x, side-2)+"  "+fit(y, side), " ") + "\n")
	}
	pair("", "A: "+nameA, "B: "+nameB)
	pair("task", a.Task, b.Task)
	pair("mode", a.Mode+" · "+a.Metric, b.Mode+" · "+b.Metric)
	out.WriteString("\n")
	cell := func(s *Summary, i int) string {
		if i >= len(s.Generations) {
			return ""
		}
		g := s.Generations[i]
		alg := "—"
		if g.Algorithm != nil {
			alg = string(*g.Algorithm)
		}
		mark := ""
		if s.Best != nil && s.Best.Gen == g.Gen {
			mark = " *"
		}
		return fit(g.Action, 8) + " " + fit(alg, 12) + " " + fit(scoreText(g.Score)+mark, 8) + " " + fmt.Sprintf("%7.1fs", g.DurationS)
	}
	head := fit("action", 8) + " " + fit("algorithm", 12) + " " + fit("val", 8) + " " + fmt.Sprintf("%8s", "time")
	out.WriteString(strings.TrimRight(fit("gen", gw+2)+fit(head, side-2)+"  "+head, " ") + "\n")
	n := max(len(a.Generations), len(b.Generations))
	for i := range n {
		out.WriteString(strings.TrimRight(fit(fmt.Sprint(i+1), gw+2)+fit(cell(a, i), side-2)+"  "+cell(b, i), " ") + "\n")
	}
	out.WriteString("\n")
	pair("best", bestText(a.Best), bestText(b.Best))
	pair("test", scoreText(a.TestScore), scoreText(b.TestScore))
	pair("tokens", fmt.Sprintf("%d · %s", a.Tokens, costText(a.CostUSD)), fmt.Sprintf("%d · %s", b.Tokens, costText(b.CostUSD)))
	pair("status", statusText(a), statusText(b))
	if a.Best != nil && b.Best != nil {
		out.WriteString("\n* marks each run's incumbent (best val, ties keep the older generation)\n")
	}
	_, err := io.WriteString(w, out.String())
	return err
}

func costText(usd float64) string {
	if usd <= 0 {
		return "no cost"
	}
	return fmt.Sprintf("$%.4f", usd)
}

func statusText(s *Summary) string {
	if s.Finished {
		if s.Reason != "" {
			return "finished: " + s.Reason
		}
		return StatusFinished
	}
	return StatusUnfinished
}
