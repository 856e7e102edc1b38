package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sia-agent/sia/report"
)

// showOptions are `sia show`'s arguments and flags.
type showOptions struct {
	Runs    []string // zero (with --list), one, or two runs
	RunsDir string
	List    bool
	JSON    bool
}

func (o *showOptions) validate() error {
	switch {
	case o.List && len(o.Runs) > 0:
		return errors.New("--list shows every run in --runs-dir and takes no run argument")
	case !o.List && len(o.Runs) == 0:
		return errors.New("give a run (a run folder, a run's name in --runs-dir, or latest), or --list")
	case len(o.Runs) > 2:
		return fmt.Errorf("give one run, or two to compare side by side; got %d", len(o.Runs))
	}
	return nil
}

func bindShowFlags(f *pflag.FlagSet, o *showOptions) {
	f.BoolVar(&o.JSON, "json", false, "print one JSON object instead of a table")
	f.BoolVar(&o.List, "list", false, "list every run in --runs-dir: task, generations, best val, test, status")
	f.StringVar(&o.RunsDir, "runs-dir", "runs", "folder holding run folders, for --list, latest and run names (env SIA_RUNS_DIR)")
}

func newShowCmd(a *app) *cobra.Command {
	o := &showOptions{}
	cmd := &cobra.Command{
		Use:   "show [RUN [RUN_B]] | --list",
		Short: "Show a run's generations, best generation and held-out test score; list runs; compare two",
		Long: `Show a run: its generations (action, algorithm, val score, time, tokens, cost), the best
generation and the held-out test score. RUN is a run folder, a run's name in --runs-dir
(run_3, or just 3), or latest (the most recently updated run there). With two runs,
print them side by side; with --list, list every run in --runs-dir.`,
		Example: `  sia show runs/run_1
  sia show latest
  sia show run_1 run_2 --runs-dir runs
  sia show --list --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Runs = args
			if !cmd.Flags().Changed("runs-dir") {
				o.RunsDir = a.env.RunsDir()
			}
			if err := o.validate(); err != nil {
				return err
			}
			return a.show(o)
		},
	}
	bindShowFlags(cmd.Flags(), o)
	return cmd
}

// show prints a listing, one run, or two side by side.
func (a *app) show(o *showOptions) error {
	out := a.streams.Out
	if o.List {
		entries, err := report.List(os.DirFS(o.RunsDir))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("list runs in %s: %w", o.RunsDir, err)
		}
		if o.JSON {
			if entries == nil {
				entries = []report.Entry{}
			}
			return writeJSON(out, struct {
				FormatVersion int            `json:"format_version"`
				RunsDir       string         `json:"runs_dir"`
				Runs          []report.Entry `json:"runs"`
			}{report.FormatVersion, o.RunsDir, entries})
		}
		if len(entries) == 0 {
			_, err := fmt.Fprintf(out, "no runs in %s\n", o.RunsDir)
			return err
		}
		return report.WriteList(out, entries, time.Now())
	}
	var (
		sums  []*report.Summary
		names []string
	)
	for _, arg := range o.Runs {
		dir, err := report.Resolve(o.RunsDir, arg)
		if err != nil {
			return err
		}
		s, err := report.Load(dir)
		if err != nil {
			return err
		}
		sums = append(sums, s)
		names = append(names, filepath.Base(filepath.Clean(dir)))
	}
	switch {
	case len(sums) == 2 && o.JSON:
		return writeJSON(out, struct {
			FormatVersion int               `json:"format_version"`
			Runs          []*report.Summary `json:"runs"`
		}{report.FormatVersion, sums})
	case len(sums) == 2:
		return report.WriteCompare(out, names[0], sums[0], names[1], sums[1])
	case o.JSON:
		return sums[0].WriteJSON(out)
	default:
		return sums[0].WriteText(out)
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
