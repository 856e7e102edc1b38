package cli

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sia-agent/sia/report"
	"github.com/sia-agent/sia/report/plot"
)

// plotOptions are `sia plot`'s argument and flags.
type plotOptions struct {
	Run     string
	Out     string // "" = plots/<run folder name>
	RunsDir string
}

func (o *plotOptions) validate() error {
	if o.Run == "" {
		return errors.New("give a run: a run folder, a run's name in --runs-dir, or latest")
	}
	return nil
}

func bindPlotFlags(f *pflag.FlagSet, o *plotOptions) {
	f.StringVar(&o.Out, "out", "", "folder to write the figures into (default plots/<run folder name>)")
	f.StringVar(&o.RunsDir, "runs-dir", "runs", "folder holding run folders, for run names and latest (env SIA_RUNS_DIR)")
}

func newPlotCmd(a *app) *cobra.Command {
	o := &plotOptions{}
	cmd := &cobra.Command{
		Use:   "plot RUN [--out DIR]",
		Short: "Draw a run's figures as PNG and SVG: score per generation, lever timeline, training curves",
		Long: `Write a run's figures, each as PNG and SVG, without a browser:
  score.*          val score per generation, the incumbent line, the held-out test score
  levers.*         which lever (initial, harness, weights) made each generation, and the RL algorithm
  train_gen<n>.*   each weight update's per-step training metrics (loss, reward, KL, grad norm, ...)
RUN is a run folder, a run's name in --runs-dir, or latest.`,
		Example: `  sia plot runs/run_1 --out plots
  sia plot latest`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Run = args[0]
			if !cmd.Flags().Changed("runs-dir") {
				o.RunsDir = a.env.RunsDir()
			}
			if err := o.validate(); err != nil {
				return err
			}
			return a.plot(o)
		},
	}
	bindPlotFlags(cmd.Flags(), o)
	return cmd
}

func (a *app) plot(o *plotOptions) error {
	dir, err := report.Resolve(o.RunsDir, o.Run)
	if err != nil {
		return err
	}
	r, err := report.Open(dir)
	if err != nil {
		return err
	}
	out := o.Out
	if out == "" {
		out = filepath.Join("plots", filepath.Base(filepath.Clean(dir)))
	}
	files, err := plot.WriteAll(r, out)
	for _, f := range files {
		fmt.Fprintln(a.streams.Out, f)
	}
	return err
}
