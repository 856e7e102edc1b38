package cli

import (
	"github.com/spf13/cobra"

	"github.com/sia-agent/sia/report"
)

func newShowCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show RUN_DIR",
		Short: "Show a run's generations, best generation and held-out test score",
		Example: `  sia show runs/run_1
  sia show runs/run_1 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			s, err := report.Load(args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return s.WriteJSON(a.streams.Out)
			}
			return s.WriteText(a.streams.Out)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object instead of a table")
	return cmd
}
