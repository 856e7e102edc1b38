package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sia-agent/sia/task"
)

// taskRow is one line of `sia tasks`.
type taskRow struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Metric      string            `json:"metric"`
	Direction   string            `json:"direction"`
	Runtime     string            `json:"runtime"`
	DataPresent bool              `json:"data_present"`
	Generated   bool              `json:"generated"`
	Missing     []string          `json:"missing"`
	Splits      map[string]string `json:"splits"`
}

func newTasksCmd(a *app) *cobra.Command {
	var asJSON bool
	var taskDir string
	cmd := &cobra.Command{
		Use:   "tasks",
		Short: "List the bundled tasks (or a task folder), their metric, splits, and whether their data is present",
		Args:  cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			reg, err := registry()
			if err != nil {
				return err
			}
			var rows []taskRow
			names := reg.Names()
			if taskDir != "" {
				names = []string{taskDir}
			}
			for _, name := range names {
				var t *task.Task
				if taskDir != "" {
					t, err = a.openTask("", taskDir, 0) // a task folder: its splits as given or inferred
				} else {
					t, err = reg.Open(name, task.Options{DataRoot: a.env.DataDir()})
				}
				if err != nil {
					return err
				}
				missing := t.MissingData()
				row := taskRow{Name: t.Spec.Name, Description: t.Spec.Description, Metric: t.Spec.Metric,
					Direction: t.Spec.Direction, Runtime: t.Spec.Runtime, DataPresent: len(missing) == 0,
					Generated: t.Bundle != nil && t.Bundle.Generate != nil, Missing: missing, Splits: map[string]string{}}
				if row.Missing == nil {
					row.Missing = []string{}
				}
				for sn, sp := range t.Spec.Splits {
					row.Splits[sn] = sp.Note
				}
				rows = append(rows, row)
			}
			if asJSON {
				enc := json.NewEncoder(a.streams.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					FormatVersion int       `json:"format_version"`
					DataDir       string    `json:"data_dir"`
					Tasks         []taskRow `json:"tasks"`
				}{1, a.env.DataDir(), rows})
			}
			if err := writeTasks(a.streams.Out, rows, a.env.DataDir()); err != nil {
				return err
			}
			if taskDir != "" {
				fmt.Fprintln(a.streams.Out)
				for _, sn := range []string{task.Train, task.Val, task.Test} {
					if n, ok := rows[0].Splits[sn]; ok {
						fmt.Fprintf(a.streams.Out, "%s: %s\n", sn, n)
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&taskDir, "task-dir", "", "show this task folder instead of the bundled tasks (its split notes say what was inferred)")
	return cmd
}

// tableWidth is the most columns `sia tasks` prints on a line.
const tableWidth = 100

// writeTasks prints the task table within tableWidth columns: a long
// description is cut with "…", and what to do about missing data goes
// below the table, one line per task.
func writeTasks(w io.Writer, rows []taskRow, dataDir string) error {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "task\tmetric\tdata\tdescription")
	var missing []taskRow
	for _, r := range rows {
		data := "present"
		switch {
		case r.Generated:
			data = "generated"
		case !r.DataPresent:
			data = fmt.Sprintf("missing %d", len(r.Missing))
			missing = append(missing, r)
		}
		fmt.Fprintf(tw, "%s\t%s (%s)\t%s\t%s\n", r.Name, r.Metric, r.Direction, data, r.Description)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		fmt.Fprintln(w, clip(line, tableWidth))
	}
	fmt.Fprintf(w, "\ndata dir: %s (SIA_DATA_DIR)\n", dataDir)
	for _, r := range missing {
		fmt.Fprintln(w, clip(fmt.Sprintf("%s: sia data pull %s, or sia data import DIR — missing %s",
			r.Name, r.Name, strings.Join(r.Missing, ", ")), tableWidth))
	}
	return nil
}

// clip cuts s to n columns (runes), ending a cut line with "…".
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
