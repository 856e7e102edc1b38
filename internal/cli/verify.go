package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/verify"
)

type verifyOptions struct {
	Task, TaskDir, Submission, Split string
}

func newVerifyCmd(a *app) *cobra.Command {
	o := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Score a submission file alone and write results.json next to it",
		Example: `  sia verify --task spaceship-titanic --submission submission.csv
  sia verify --task lawbench --submission preds.csv --split val`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (o.Task == "") == (o.TaskDir == "") {
				return errors.New("give exactly one of --task NAME or --task-dir DIR")
			}
			if o.Submission == "" {
				return errors.New("--submission FILE is required")
			}
			if o.Split != task.Val && o.Split != task.Test {
				return fmt.Errorf("--split %q: want val or test", o.Split)
			}
			t, err := a.openTask(o.Task, o.TaskDir, 0)
			if err != nil {
				return err
			}
			raw, err := os.ReadFile(o.Submission)
			if err != nil {
				return err
			}
			answers, err := t.ParseSubmission(filepath.Base(o.Submission), raw)
			if err != nil {
				return fmt.Errorf("submission: %w", err)
			}
			data, err := t.Load(cmd.Context())
			if err != nil {
				return err
			}
			gold := data.Gold(o.Split)
			if len(gold) == 0 {
				return fmt.Errorf("task %q has no %s labels here", t.Spec.Name, o.Split)
			}
			v, err := t.Verifier(o.Split)
			if err != nil {
				return err
			}
			res, err := v.Verify(cmd.Context(), answers, gold)
			if err != nil {
				return err
			}
			out := filepath.Join(filepath.Dir(o.Submission), "results.json")
			if err := verify.WriteFile(out, res); err != nil {
				return err
			}
			fmt.Fprintf(a.streams.Out, "%s %s: %.4f (%d items; %v)\nwrote %s\n", t.Spec.Name, res.Metric, res.Score, res.N, res.Counts, out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Task, "task", "", "bundled task name")
	f.StringVar(&o.TaskDir, "task-dir", "", "task folder in SIA's layout")
	f.StringVar(&o.Submission, "submission", "", "submission file (the task's format: CSV or JSON)")
	f.StringVar(&o.Split, "split", task.Test, "split to score against: val or test")
	return cmd
}
