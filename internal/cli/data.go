package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/sia-agent/sia/data"
)

func newDataCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Get task data into SIA_DATA_DIR",
		Long: `Task data lives in SIA_DATA_DIR/<task>/{public,private}, with SIA's file names. public/ is what
harnesses and agents may read; private/ is read only by the verifier.`,
	}
	pull := &cobra.Command{
		Use:   "pull TASK",
		Short: "Download a bundled task's data from its canonical source (checked against pinned sha256)",
		Example: `  sia data pull lawbench
  HF_TOKEN=hf_… sia data pull gpqa      # GPQA is gated: accept its licence on HuggingFace first`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p := newDownloadBar(a.streams.Err, isTerminal(a.streams.Err))
			rep, err := data.Pull(cmd.Context(), args[0], a.env.DataDir(), data.PullOptions{HFToken: a.env.Get("HF_TOKEN"), Progress: p.update})
			p.done()
			if err != nil {
				return err
			}
			printReport(a.streams.Out, rep)
			return nil
		},
	}
	var seed int64
	var tasks []string
	imp := &cobra.Command{
		Use:   "import DIR",
		Short: "Lay out task data from a local copy (e.g. the project's shared data folder)",
		Long: `Import builds SIA_DATA_DIR/<task>/{public,private} from a local folder holding the tasks' files
(spaceship-titanic/train.csv, lawbench/dev.csv …, longcot-chess/examples.json). Where the copy has no
held-out labels, a seeded test split is carved from the labelled data and kept in private/; the report
says what was carved or generated.`,
		Example: "  sia data import ../shared/data",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reps, err := data.Import(cmd.Context(), args[0], a.env.DataDir(), data.ImportOptions{Seed: seed, Tasks: tasks})
			if err != nil {
				return err
			}
			for _, r := range reps {
				printReport(a.streams.Out, r)
			}
			return nil
		},
	}
	imp.Flags().Int64Var(&seed, "seed", 1, "seed of the held-out carves and generated questions")
	imp.Flags().StringSliceVar(&tasks, "tasks", nil, "import only these tasks (default: every task found)")
	cmd.AddCommand(pull, imp, newExportSIACmd(a))
	return cmd
}

func printReport(w io.Writer, r *data.Report) {
	fmt.Fprintf(w, "%s → %s\n", r.Task, r.Dir)
	for _, f := range r.Files {
		pin := "unpinned"
		if f.Pinned {
			pin = "sha256 pinned"
		}
		fmt.Fprintf(w, "  %-36s %s… (%s)\n", f.File, f.SHA256[:min(12, len(f.SHA256))], pin)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", strings.TrimSpace(n))
	}
}

// downloadBar shows download progress on a terminal; elsewhere it stays quiet.
type downloadBar struct {
	w   io.Writer
	tty bool
	mu  sync.Mutex
	bar *progressbar.ProgressBar
	cur string
}

func newDownloadBar(w io.Writer, tty bool) *downloadBar { return &downloadBar{w: w, tty: tty} }

func (d *downloadBar) update(file string, done, total int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if file != d.cur {
		if d.bar != nil {
			_ = d.bar.Finish()
		}
		d.cur = file
		if d.tty {
			d.bar = progressbar.DefaultBytes(total, file)
		} else {
			fmt.Fprintf(d.w, "sia: downloading %s\n", file)
		}
	}
	if d.bar != nil {
		_ = d.bar.Set64(done)
	}
}

func (d *downloadBar) done() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.bar != nil {
		_ = d.bar.Finish()
	}
}
