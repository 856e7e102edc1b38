package report

import (
	"encoding/json"
	"fmt"
	"sort"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/sia-agent/sia/harness"
)

// Line kinds of a diff hunk.
const (
	LineEqual  = "equal"
	LineInsert = "insert"
	LineDelete = "delete"
)

// DiffLine is one line of a hunk.
type DiffLine struct {
	Kind string // LineEqual, LineInsert or LineDelete
	Text string // without its newline
}

// Hunk is a run of changed lines with context; FromLine and ToLine are the
// 1-based first lines in the old and new file.
type Hunk struct {
	FromLine, ToLine int
	Lines            []DiffLine
}

// KnobChange is one knob whose setting differs between two knobs.json
// files; "" means the knob is not set there (it takes its default).
type KnobChange struct {
	Knob string
	From string
	To   string
}

// HarnessDiff compares the harness versions of two generations.
type HarnessDiff struct {
	From, To         int    // generations
	FromFile, ToFile string // harness file names (harness.star, target_agent.py)
	FromSHA, ToSHA   string
	Hunks            []Hunk // the code's line diff; none when the code is the same
	Knobs            []KnobChange
	Added, Removed   int // changed lines
}

// Same reports whether code and knobs are identical.
func (d *HarnessDiff) Same() bool { return len(d.Hunks) == 0 && len(d.Knobs) == 0 }

// diffContext is how many unchanged lines surround a change.
const diffContext = 3

// Diff compares the harnesses of generations from and to.
func (r *Run) Diff(from, to int) (*HarnessDiff, error) {
	a, err := r.Harness(from)
	if err != nil {
		return nil, err
	}
	b, err := r.Harness(to)
	if err != nil {
		return nil, err
	}
	d, err := DiffSources(a, b)
	if err != nil {
		return nil, err
	}
	d.From, d.To = from, to
	return d, nil
}

// DiffSources compares two harness versions: a line diff of the code (with
// go-udiff, the Myers diff of golang.org/x/tools) and the knob changes.
func DiffSources(a, b harness.Source) (*HarnessDiff, error) {
	d := &HarnessDiff{FromFile: a.Name, ToFile: b.Name, FromSHA: a.SHA(), ToSHA: b.SHA()}
	from, to := string(a.Code), string(b.Code)
	if edits := udiff.Lines(from, to); len(edits) > 0 {
		u, err := udiff.ToUnifiedDiff(a.Name, b.Name, from, edits, diffContext)
		if err != nil {
			return nil, fmt.Errorf("diff %s: %w", a.Name, err)
		}
		for _, h := range u.Hunks {
			hk := Hunk{FromLine: h.FromLine, ToLine: h.ToLine}
			for _, l := range h.Lines {
				kind := LineEqual
				switch l.Kind {
				case udiff.Insert:
					kind = LineInsert
					d.Added++
				case udiff.Delete:
					kind = LineDelete
					d.Removed++
				}
				text := l.Content
				if n := len(text); n > 0 && text[n-1] == '\n' {
					text = text[:n-1]
				}
				hk.Lines = append(hk.Lines, DiffLine{Kind: kind, Text: text})
			}
			d.Hunks = append(d.Hunks, hk)
		}
	}
	d.Knobs = KnobChanges(a.Knobs, b.Knobs)
	return d, nil
}

// KnobChanges lists the knobs set differently in a and b, by name.
func KnobChanges(a, b map[string]any) []KnobChange {
	names := map[string]bool{}
	for k := range a {
		names[k] = true
	}
	for k := range b {
		names[k] = true
	}
	var out []KnobChange
	for k := range names {
		from, to := knobText(a, k), knobText(b, k)
		if from != to {
			out = append(out, KnobChange{Knob: k, From: from, To: to})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Knob < out[j].Knob })
	return out
}

func knobText(m map[string]any, k string) string {
	v, ok := m[k]
	if !ok {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
