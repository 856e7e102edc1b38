package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/sia-agent/sia/runstore"
)

// selectionCells are a generation's gain over the incumbent with its
// interval, the test's p-value, and whether it was kept.
func selectionCells(g Gen) (gain, p, kept string) {
	gain, p, kept = "—", "—", "—"
	if g.Score == nil {
		return gain, p, kept
	}
	kept = map[bool]string{true: "yes", false: "no"}[g.Accepted]
	sel := g.Selection
	if sel == nil || sel.Incumbent == 0 {
		return gain, p, kept
	}
	gain = fmt.Sprintf("%+.4f [%+.4f, %+.4f]", sel.Gain, sel.GainLo, sel.GainHi)
	p = fmt.Sprintf("%.3g", sel.PValue)
	return gain, p, kept
}

// writeSelectionReasons prints, for each generation compared with an
// incumbent, the test and why it was kept or not.
func writeSelectionReasons(w io.Writer, gens []Gen) {
	var lines []string
	var test, rule string
	for _, g := range gens {
		sel := g.Selection
		if sel == nil || sel.Incumbent == 0 {
			continue
		}
		test, rule = sel.Test, sel.Rule
		lines = append(lines, fmt.Sprintf("  gen %d vs gen %d (%d items, %d better, %d worse; %s): %s",
			g.Gen, sel.Incumbent, sel.N, sel.Wins, sel.Losses, sel.Method, sel.Reason))
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "\nselection (--accept %s; %s; gain in per-item reward, CI at %s):\n%s\n",
		strings.TrimPrefix(rule, "p<"), test, ciText(gens), strings.Join(lines, "\n"))
}

func ciText(gens []Gen) string {
	for _, g := range gens {
		if g.Selection != nil && g.Selection.CILevel > 0 {
			return fmt.Sprintf("%.0f%%", 100*g.Selection.CILevel)
		}
	}
	return "—"
}

// confirmText is the final incumbent's re-scored val beside its selection
// val.
func confirmText(c *runstore.Confirmation) string {
	parts := []string{}
	if f := c.Fresh; f != nil {
		parts = append(parts, fmt.Sprintf("fresh samples %.4f [%.4f, %.4f] on %d items", f.Score, f.Lo, f.Hi, f.Items))
	}
	if h := c.Holdout; h != nil {
		parts = append(parts, fmt.Sprintf("confirmation slice %.4f [%.4f, %.4f] on %d items", h.Score, h.Lo, h.Hi, h.Items))
	} else {
		parts = append(parts, "no confirmation slice")
	}
	return fmt.Sprintf("re-scored gen %d (selected at val %.4f): %s", c.Gen, c.SelectionScore, strings.Join(parts, " · "))
}
