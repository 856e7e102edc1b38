package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sia-agent/sia/task"
)

// newExportSIACmd is `sia data export-sia TASK DIR`.
func newExportSIACmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "export-sia TASK DIR",
		Short: "Write a bundled task, with its data, as a SIA task folder DIR/TASK (no task.yaml)",
		Long: `Export writes DIR/TASK/ as SIA's repository lays out a task — data/public/ (the public data,
task.md and evaluate.py), data/private/ (the gold), reference/ (the reference harness and
SAMPLE_TASK_DESCRIPTIONS.md) — and DIR/_shared/sample_agent_execution.json beside it. The
evaluate.py is sia's own, in SIA's contract (evaluate.py --gen-dir G writes G/results.json), and
scores exactly as the task's Go verifier does. Run the folder with sia run --task-dir DIR/TASK;
its splits are inferred from the files (docs/tasks.md). DIR/TASK must not exist or be empty.`,
		Example: `  sia data export-sia spaceship-titanic ./sia-tasks
  sia run --task-dir ./sia-tasks/spaceship-titanic --mode harness --max-gen 3`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := registry()
			if err != nil {
				return err
			}
			t, err := reg.Open(args[0], task.Options{DataRoot: a.env.DataDir()})
			if err != nil {
				return err
			}
			rep, err := task.ExportSIA(cmd.Context(), t, args[1])
			if err != nil {
				return err
			}
			fmt.Fprintf(a.streams.Out, "%s → %s\n", t.Spec.Name, rep.Dir)
			for _, f := range rep.Files {
				fmt.Fprintf(a.streams.Out, "  %s\n", f)
			}
			for _, n := range rep.Notes {
				fmt.Fprintf(a.streams.Out, "  note: %s\n", n)
			}
			return nil
		},
	}
}
