package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/runstore"
)

// FormatVersion of the JSON summary.
const FormatVersion = 1

// Gen is one row of the summary.
type Gen struct {
	Gen            int           `json:"gen"`
	Action         string        `json:"action"`
	Algorithm      *rl.Algorithm `json:"algorithm"`
	Score          *float64      `json:"score"`
	DurationS      float64       `json:"duration_s"`
	Tokens         int           `json:"tokens"`
	CostUSD        float64       `json:"cost_usd"`
	HarnessSHA     string        `json:"harness_sha"`
	AdapterVersion int           `json:"adapter_version"`
	// Accepted: it became the incumbent when verified; Selection is the
	// paired comparison with the incumbent that decided it (absent in runs
	// recorded before it existed).
	Accepted  bool                `json:"accepted"`
	Selection *runstore.Selection `json:"selection,omitempty"`
}

// Best is the incumbent.
type Best struct {
	Gen   int     `json:"gen"`
	Score float64 `json:"score"`
}

// Baseline is the task's reference harness, scored on the same val and
// test items and seeds as the generations when the Meta-Agent changed it
// (the run folder's baseline.json).
type Baseline struct {
	HarnessSHA string   `json:"harness_sha"`
	Val        float64  `json:"val"`
	Test       *float64 `json:"test"`
	DurationS  float64  `json:"duration_s"`
	Tokens     int      `json:"tokens"`
	CostUSD    float64  `json:"cost_usd"`
}

// Summary is `sia show --json`.
type Summary struct {
	FormatVersion int    `json:"format_version"`
	Run           string `json:"run"`
	Task          string `json:"task"`
	Mode          string `json:"mode"`
	Metric        string `json:"metric"`
	Generations   []Gen  `json:"generations"`
	Best          *Best  `json:"best"`
	// Confirm is the final incumbent re-scored before the test: on fresh
	// samples of the selection slice and on the held-out confirmation slice.
	Confirm   *runstore.Confirmation `json:"confirm,omitempty"`
	TestScore *float64               `json:"test_score"`
	Finished  bool                   `json:"finished"`
	Reason    string                 `json:"reason,omitempty"`
	Tokens    int                    `json:"tokens"`
	CostUSD   float64                `json:"cost_usd"`
	// Sandbox is how untrusted python code was isolated ("bwrap", or
	// "none" when the user turned isolation off); "" when none ran.
	Sandbox string `json:"sandbox,omitempty"`

	// Baseline is nil when gen 1 is the reference harness itself.
	Baseline *Baseline `json:"baseline,omitempty"`
}

// Unsandboxed reports whether python code ran without isolation, so its
// scores carry no held-out guarantee.
func (s *Summary) Unsandboxed() bool { return s.Sandbox == "none" }

// Load reads a run folder into its summary.
func Load(dir string) (*Summary, error) {
	r, err := Open(dir)
	if err != nil {
		return nil, err
	}
	return r.Summary, nil
}

// FromState builds a summary from a replayed state.
func FromState(run, taskName, mode, metric string, st runstore.State) *Summary {
	s := &Summary{FormatVersion: FormatVersion, Run: run, Task: taskName, Mode: mode, Metric: metric,
		Generations: []Gen{}, TestScore: st.TestScore, Finished: st.Finished, Reason: st.Reason, Confirm: st.Confirm}
	for _, g := range st.Gens {
		row := Gen{Gen: g.Gen, Action: g.Action, DurationS: round(g.DurationS, 3), Tokens: g.Tokens, CostUSD: g.CostUSD,
			HarnessSHA: g.HarnessSHA, AdapterVersion: g.AdapterVersion, Accepted: g.Accepted, Selection: g.Selection}
		if g.Algorithm != "" {
			a := g.Algorithm
			row.Algorithm = &a
		}
		if g.Verified {
			v := g.Score
			row.Score = &v
		}
		s.Tokens += g.Tokens
		s.CostUSD += g.CostUSD
		s.Generations = append(s.Generations, row)
	}
	if st.BestGen > 0 {
		s.Best = &Best{Gen: st.BestGen, Score: st.BestScore}
	}
	return s
}

func round(x float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	if x < 0 {
		return -float64(int64(-x*p+0.5)) / p
	}
	return float64(int64(x*p+0.5)) / p
}

// WriteJSON prints the summary as one JSON object.
func (s *Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// WriteText prints the summary as a table.
func (s *Summary) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "run %s · task %s · mode %s · metric %s (val)\n", s.Run, s.Task, s.Mode, s.Metric)
	if s.Unsandboxed() {
		fmt.Fprintln(w, "UNSANDBOXED: python code ran without isolation (--sandbox none); it could read anything, held-out labels included")
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "gen\taction\talgorithm\tscore\tgain vs incumbent [CI]\tp\tkept\tduration\ttokens\tcost\t")
	for _, g := range s.Generations {
		alg := "—"
		if g.Algorithm != nil {
			alg = string(*g.Algorithm)
		}
		score := "—"
		if g.Score != nil {
			score = fmt.Sprintf("%.4f", *g.Score)
		}
		mark := ""
		if s.Best != nil && s.Best.Gen == g.Gen {
			mark = " *"
		}
		cost := "—"
		if g.CostUSD > 0 {
			cost = fmt.Sprintf("$%.4f", g.CostUSD)
		}
		gain, p, kept := selectionCells(g)
		fmt.Fprintf(tw, "%d%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1fs\t%d\t%s\t\n", g.Gen, mark, g.Action, alg, score, gain, p, kept,
			g.DurationS, g.Tokens, cost)
		if b := s.Baseline; b != nil && g.Gen == 1 {
			cost := "—"
			if b.CostUSD > 0 {
				cost = fmt.Sprintf("$%.4f", b.CostUSD)
			}
			fmt.Fprintf(tw, "ref\treference harness\t—\t%.4f\t—\t—\t—\t%.1fs\t%d\t%s\t\n", b.Val, b.DurationS, b.Tokens, cost)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	writeSelectionReasons(w, s.Generations)
	var tail []string
	if s.Best != nil {
		tail = append(tail, fmt.Sprintf("best: gen %d (val %.4f)", s.Best.Gen, s.Best.Score))
	}
	if c := s.Confirm; c != nil {
		fmt.Fprintf(w, "\n%s\n", confirmText(c))
	}
	if s.TestScore != nil {
		tail = append(tail, fmt.Sprintf("held-out test: %.4f", *s.TestScore))
		if b := s.Baseline; b != nil && b.Test != nil {
			tail = append(tail, fmt.Sprintf("reference harness test: %.4f", *b.Test))
		}
	} else if s.Finished {
		tail = append(tail, "held-out test: none")
	}
	if !s.Finished {
		tail = append(tail, "unfinished (sia run --resume continues it)")
	}
	_, err := fmt.Fprintf(w, "\n%s\n", strings.Join(tail, " · "))
	return err
}
