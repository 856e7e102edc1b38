package cli

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/sia-agent/sia/report"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/stats"
)

// compareOptions are `sia compare`'s arguments and flags.
type compareOptions struct {
	Args    []string // runs or sweeps
	RunsDir string
	Metric  string
	Level   float64
	CSV     string
	JSON    bool
}

// compareMetrics are the per-run numbers compare can set side by side.
var compareMetrics = map[string]string{
	"test":    "the final incumbent's held-out test score",
	"val":     "the final incumbent's selection val score (the one it was selected on)",
	"fresh":   "the final incumbent re-scored on fresh samples of the selection slice",
	"confirm": "the final incumbent on the confirmation slice of val",
}

func (o *compareOptions) validate() error {
	if len(o.Args) == 0 {
		return errors.New("give at least one run or sweep folder")
	}
	if _, ok := compareMetrics[o.Metric]; !ok {
		return fmt.Errorf("--metric %q: want test, val, fresh or confirm", o.Metric)
	}
	if !(o.Level > 0 && o.Level < 1) {
		return fmt.Errorf("--level %g: want a significance level in (0, 1)", o.Level)
	}
	return nil
}

func newCompareCmd(a *app) *cobra.Command {
	o := &compareOptions{}
	cmd := &cobra.Command{
		Use:   "compare RUN_OR_SWEEP...",
		Short: "Set runs or sweeps side by side, seed by seed: mean, paired standard error, wins per seed",
		Long: `Set runs or sweeps (sia sweep's RUNS_DIR/sweep_<name> folders) side by side, paired by seed:
each one's metric per seed, its mean and standard error over seeds, and for every column after
the first its paired difference from the first (mean, paired standard error over the seeds
both have, wins, losses and ties). Below, per column: the generations accepted as incumbents,
and how many of them had a per-item gain that was not significant at --level.
--csv FILE also writes one row per run with every metric.`,
		Example: `  sia compare runs/sweep_cipher_auto
  sia compare runs/sweep_rules runs/sweep_bandit --metric test --csv cmp.csv
  sia compare sweep_any sweep_p05 --runs-dir runs`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			if !cmd.Flags().Changed("runs-dir") {
				o.RunsDir = a.env.RunsDir()
			}
			if err := o.validate(); err != nil {
				return usage(err)
			}
			return a.compare(o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Metric, "metric", "test", "what to compare: test, val (selection), fresh (re-scored on fresh samples) or confirm (the confirmation slice)")
	f.Float64Var(&o.Level, "level", 0.05, "significance level for counting accepted generations whose gain was not significant")
	f.StringVar(&o.CSV, "csv", "", "also write every run's metrics to this CSV file")
	f.BoolVar(&o.JSON, "json", false, "print one JSON object instead of a table")
	f.StringVar(&o.RunsDir, "runs-dir", "runs", "where run and sweep names are looked up (env SIA_RUNS_DIR)")
	return cmd
}

// runNumbers is what compare reads of one run.
type runNumbers struct {
	Seed     int64    `json:"seed"`
	Run      string   `json:"run"`
	Test     *float64 `json:"test"`
	Val      *float64 `json:"val"`
	Fresh    *float64 `json:"fresh"`
	Confirm  *float64 `json:"confirm"`
	Gens     int      `json:"gens"`
	Accepted int      `json:"accepted"` // generations after the first that became the incumbent
	// NotSignificant counts accepted generations whose paired test had
	// p ≥ the level; Unknown those without a recorded test.
	NotSignificant int  `json:"not_significant"`
	Unknown        int  `json:"unknown"`
	Finished       bool `json:"finished"`
}

func (n runNumbers) metric(m string) *float64 {
	return map[string]*float64{"test": n.Test, "val": n.Val, "fresh": n.Fresh, "confirm": n.Confirm}[m]
}

// compareColumn is one run or sweep.
type compareColumn struct {
	Label string       `json:"label"`
	Path  string       `json:"path"`
	Runs  []runNumbers `json:"runs"` // by seed
	Mean  float64      `json:"mean"`
	SE    float64      `json:"se"`
	N     int          `json:"n"`
}

// compareDiff is a column's paired difference from the first.
type compareDiff struct {
	Label  string  `json:"label"`
	Vs     string  `json:"vs"`
	N      int     `json:"n"`
	Mean   float64 `json:"mean"`
	SE     float64 `json:"se"`
	Wins   int     `json:"wins"`
	Losses int     `json:"losses"`
	Ties   int     `json:"ties"`
}

// compare prints runs or sweeps side by side.
func (a *app) compare(o *compareOptions) error {
	var cols []compareColumn
	for _, arg := range o.Args {
		c, err := loadColumn(o.RunsDir, arg, o.Level)
		if err != nil {
			return err
		}
		cols = append(cols, c)
	}
	labels := map[string]int{}
	for _, c := range cols {
		labels[c.Label]++
	}
	for i := range cols {
		if labels[cols[i].Label] > 1 {
			cols[i].Label = cols[i].Path
		}
		var xs []float64
		for _, r := range cols[i].Runs {
			if v := r.metric(o.Metric); v != nil {
				xs = append(xs, *v)
			}
		}
		cols[i].N, cols[i].Mean, cols[i].SE = len(xs), stats.Mean(xs), stats.StdErr(xs)
	}
	var diffs []compareDiff
	for _, c := range cols[1:] {
		diffs = append(diffs, pairedDiff(cols[0], c, o.Metric))
	}
	if o.CSV != "" {
		if err := writeCompareCSV(o.CSV, cols); err != nil {
			return err
		}
	}
	if o.JSON {
		return writeJSON(a.streams.Out, struct {
			FormatVersion int             `json:"format_version"`
			Metric        string          `json:"metric"`
			Level         float64         `json:"level"`
			Columns       []compareColumn `json:"columns"`
			Diffs         []compareDiff   `json:"diffs"`
		}{report.FormatVersion, o.Metric, o.Level, cols, diffs})
	}
	return writeCompareTable(a.streams.Out, o, cols, diffs)
}

// loadColumn reads a run folder (one seed) or a sweep folder (its run_*
// folders).
func loadColumn(runsDir, arg string, level float64) (compareColumn, error) {
	dir := arg
	if _, err := os.Stat(dir); err != nil {
		for _, p := range []string{filepath.Join(runsDir, arg), filepath.Join(runsDir, runstore.SweepDirName(arg))} {
			if _, err := os.Stat(p); err == nil {
				dir = p
				break
			}
		}
	}
	c := compareColumn{Label: filepath.Base(filepath.Clean(dir)), Path: dir}
	var runDirs []string
	if runstore.IsRunDir(dir) {
		runDirs = []string{dir}
	} else {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return c, fmt.Errorf("%s: not a run or sweep folder: %w", arg, err)
		}
		for _, e := range entries {
			if e.IsDir() && runstore.IsRunDir(filepath.Join(dir, e.Name())) {
				runDirs = append(runDirs, filepath.Join(dir, e.Name()))
			}
		}
		if len(runDirs) == 0 {
			return c, fmt.Errorf("%s: no run folders in it (a sweep folder holds %s/%s)", arg, runstore.RunDirName("<seed>"), runstore.ConfigFile)
		}
	}
	seen := map[int64]string{}
	for _, d := range runDirs {
		n, err := readNumbers(d, level)
		if err != nil {
			return c, err
		}
		if other, dup := seen[n.Seed]; dup {
			return c, fmt.Errorf("%s: %s and %s share seed %d; compare pairs runs by seed", arg, other, n.Run, n.Seed)
		}
		seen[n.Seed] = n.Run
		c.Runs = append(c.Runs, n)
	}
	sort.Slice(c.Runs, func(i, j int) bool { return c.Runs[i].Seed < c.Runs[j].Seed })
	return c, nil
}

// readNumbers reads one run's numbers.
func readNumbers(dir string, level float64) (runNumbers, error) {
	var cfg struct {
		Seed int64 `json:"seed"`
	}
	if err := runstore.ReadConfig(dir, &cfg); err != nil {
		return runNumbers{}, err
	}
	s, err := report.Load(dir)
	if err != nil {
		return runNumbers{}, err
	}
	n := runNumbers{Seed: cfg.Seed, Run: filepath.Base(dir), Test: s.TestScore, Finished: s.Finished}
	if s.Best != nil {
		v := s.Best.Score
		n.Val = &v
	}
	if c := s.Confirm; c != nil {
		if c.Fresh != nil {
			v := c.Fresh.Score
			n.Fresh = &v
		}
		if c.Holdout != nil {
			v := c.Holdout.Score
			n.Confirm = &v
		}
	}
	for _, g := range s.Generations {
		if g.Score == nil {
			continue
		}
		n.Gens++
		if g.Gen == 1 || !g.Accepted {
			continue
		}
		n.Accepted++
		switch {
		case g.Selection == nil || g.Selection.Incumbent == 0:
			n.Unknown++
		case g.Selection.PValue >= level:
			n.NotSignificant++
		}
	}
	return n, nil
}

// pairedDiff is column b minus column a over the seeds both have.
func pairedDiff(a, b compareColumn, metric string) compareDiff {
	d := compareDiff{Label: b.Label, Vs: a.Label}
	byseed := map[int64]*float64{}
	for _, r := range a.Runs {
		byseed[r.Seed] = r.metric(metric)
	}
	var xs []float64
	for _, r := range b.Runs {
		x, y := byseed[r.Seed], r.metric(metric)
		if x == nil || y == nil {
			continue
		}
		v := *y - *x
		xs = append(xs, v)
		switch {
		case v > 1e-12:
			d.Wins++
		case v < -1e-12:
			d.Losses++
		default:
			d.Ties++
		}
	}
	d.N, d.Mean, d.SE = len(xs), stats.Mean(xs), stats.StdErr(xs)
	return d
}

func writeCompareTable(w io.Writer, o *compareOptions, cols []compareColumn, diffs []compareDiff) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s, by seed\n\n", o.Metric, compareMetrics[o.Metric])
	seeds := map[int64]bool{}
	for _, c := range cols {
		for _, r := range c.Runs {
			seeds[r.Seed] = true
		}
	}
	order := make([]int64, 0, len(seeds))
	for s := range seeds {
		order = append(order, s)
	}
	sort.Slice(order, func(i, j int) bool { return order[i] < order[j] })
	width := 10
	for _, c := range cols {
		width = max(width, utf8.RuneCountInString(c.Label)+4) // room for "− label" and a gap
	}
	cell := func(s string) string { return fmt.Sprintf("%-*s", width, s) }
	b.WriteString(fmt.Sprintf("%-10s", "seed"))
	for i, c := range cols {
		b.WriteString(cell(c.Label))
		if i > 0 {
			b.WriteString(cell("− " + cols[0].Label))
		}
	}
	b.WriteString("\n")
	for _, s := range order {
		b.WriteString(fmt.Sprintf("%-10d", s))
		var first *float64
		for i, c := range cols {
			v := valueAt(c, s, o.Metric)
			if i == 0 {
				first = v
			}
			b.WriteString(cell(num(v)))
			if i > 0 {
				d := "—"
				if v != nil && first != nil {
					d = fmt.Sprintf("%+.4f", *v-*first)
				}
				b.WriteString(cell(d))
			}
		}
		b.WriteString("\n")
	}
	b.WriteString(fmt.Sprintf("%-10s", "mean"))
	for i, c := range cols {
		b.WriteString(cell(fmt.Sprintf("%.4f", c.Mean)))
		if i > 0 {
			b.WriteString(cell(fmt.Sprintf("%+.4f", diffs[i-1].Mean)))
		}
	}
	b.WriteString(fmt.Sprintf("\n%-10s", "SE"))
	for i, c := range cols {
		b.WriteString(cell(fmt.Sprintf("%.4f", c.SE)))
		if i > 0 {
			b.WriteString(cell(fmt.Sprintf("%.4f paired", diffs[i-1].SE)))
		}
	}
	b.WriteString("\n\n")
	for _, d := range diffs {
		fmt.Fprintf(&b, "%s − %s: %+.4f (paired SE %.4f) over %d seeds; ahead in %d, behind in %d, equal in %d\n",
			d.Label, d.Vs, d.Mean, d.SE, d.N, d.Wins, d.Losses, d.Ties)
	}
	if len(diffs) > 0 {
		b.WriteString("\n")
	}
	for _, c := range cols {
		acc, ns, unk, fin := 0, 0, 0, 0
		for _, r := range c.Runs {
			acc, ns, unk = acc+r.Accepted, ns+r.NotSignificant, unk+r.Unknown
			if r.Finished {
				fin++
			}
		}
		fmt.Fprintf(&b, "%s: %d runs (%d finished); %d generations accepted after the first, %s not significant at p<%g",
			c.Label, len(c.Runs), fin, acc, share(ns, acc), o.Level)
		if unk > 0 {
			fmt.Fprintf(&b, " (%d without a recorded test)", unk)
		}
		b.WriteString("\n")
		for _, re := range []struct {
			name string
			of   func(runNumbers) *float64
		}{{"fresh samples", func(r runNumbers) *float64 { return r.Fresh }}, {"the confirmation slice", func(r runNumbers) *float64 { return r.Confirm }}} {
			var d []float64
			for _, r := range c.Runs {
				if v := re.of(r); v != nil && r.Val != nil {
					d = append(d, *r.Val-*v)
				}
			}
			if len(d) > 0 {
				fmt.Fprintf(&b, "  selection val − %s: %+.4f (SE %.4f, %d runs)\n", re.name, stats.Mean(d), stats.StdErr(d), len(d))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func share(k, n int) string {
	if n == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%.0f%%)", k, 100*float64(k)/float64(n))
}

func valueAt(c compareColumn, seed int64, metric string) *float64 {
	for _, r := range c.Runs {
		if r.Seed == seed {
			return r.metric(metric)
		}
	}
	return nil
}

func num(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprintf("%.4f", *v)
}

// writeCompareCSV writes one row per run with every metric.
func writeCompareCSV(path string, cols []compareColumn) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"label", "path", "seed", "run", "test", "val", "fresh", "confirm", "gens", "accepted", "accepted_not_significant", "finished"})
	opt := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'g', -1, 64)
	}
	for _, c := range cols {
		for _, r := range c.Runs {
			_ = w.Write([]string{c.Label, c.Path, strconv.FormatInt(r.Seed, 10), r.Run, opt(r.Test), opt(r.Val), opt(r.Fresh),
				opt(r.Confirm), strconv.Itoa(r.Gens), strconv.Itoa(r.Accepted), strconv.Itoa(r.NotSignificant), strconv.FormatBool(r.Finished)})
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
