package cli

import (
	"errors"
	"fmt"
	"github.com/sia-agent/sia/backend"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/verify"
)

type verifyOptions struct {
	Task, TaskDir, Submission, Split, Out, Sandbox string
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
			out := o.Out
			if out == "" {
				out = filepath.Join(filepath.Dir(o.Submission), runstore.ResultsFile)
			}
			if samePath(out, o.Submission) {
				return fmt.Errorf("writing %s would overwrite the submission; pass --out FILE", out)
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
			if matched := countIn(answers, gold); matched == 0 {
				return fmt.Errorf("none of the submission's %d ids is in the %s split (%d items, ids like %s); is it for another split? (--split)",
					len(answers), o.Split, len(gold), exampleIDs(gold, 3))
			}
			sb, err := backend.EvaluatorSandbox(cmd.Context(), t, nil, o.Sandbox, func(line string) { fmt.Fprintln(a.streams.Err, "sia: "+line) })
			if err != nil {
				return err
			}
			if sb != nil {
				t = t.WithEvaluator(task.Evaluator{Sandbox: sb})
			}
			v, err := t.Verifier(o.Split)
			if err != nil {
				return err
			}
			res, err := v.Verify(cmd.Context(), answers, gold)
			if err != nil {
				return err
			}
			if err := verify.WriteFile(out, res); err != nil {
				return err
			}
			fmt.Fprintf(a.streams.Out, "%s %s: %.4f (%d items: %s)\nwrote %s\n", t.Spec.Name, res.Metric, res.Score, res.N, countsText(res.Counts), out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Task, "task", "", "bundled task name")
	f.StringVar(&o.TaskDir, "task-dir", "", "task folder in SIA's layout")
	f.StringVar(&o.Submission, "submission", "", "submission file (the task's format: CSV or JSON)")
	f.StringVar(&o.Split, "split", task.Test, "split to score against: val or test")
	f.StringVar(&o.Sandbox, "sandbox", "bwrap", "isolation for a task folder's evaluate.py: bwrap (bubblewrap) or none")
	f.StringVar(&o.Out, "out", "", "where to write the results (default: results.json next to the submission; never the submission itself)")
	return cmd
}

// samePath reports whether two paths name the same file (or would).
func samePath(a, b string) bool {
	if sa, err := os.Stat(a); err == nil {
		if sb, err := os.Stat(b); err == nil {
			return os.SameFile(sa, sb)
		}
	}
	aa, err1 := filepath.Abs(a)
	ab, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == ab
}

func countIn(answers, gold map[string]string) int {
	n := 0
	for id := range answers {
		if _, ok := gold[id]; ok {
			n++
		}
	}
	return n
}

// exampleIDs lists up to n ids, sorted, for messages.
func exampleIDs(m map[string]string, n int) string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if len(ids) > n {
		ids = append(ids[:n], "…")
	}
	return strings.Join(ids, ", ")
}

// countsText renders per-status counts as "correct 3, wrong 1".
func countsText(c map[string]int) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, c[k])
	}
	return strings.Join(parts, ", ")
}
