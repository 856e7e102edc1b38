package task

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sia-agent/sia/verify"
)

// ExportReport says what ExportSIA wrote.
type ExportReport struct {
	Dir   string   // the task folder
	Files []string // relative to Dir (the shared sample as ../_shared/…)
	Notes []string
}

// ExportSIA writes a bundled task, with its data, as a SIA task folder
// root/<name>/ laid out as SIA's repository lays out its tasks, with no
// task.yaml:
//
//	data/public/…             the task's public data, task.md, and evaluate.py:
//	                          the task's scoring in SIA's contract (its Go
//	                          verifier's scores), reading ../private/
//	data/private/…            the gold
//	reference/harness.star    the reference harness
//	reference/SAMPLE_TASK_DESCRIPTIONS.md
//	../_shared/sample_agent_execution.json  (beside the task folders, once)
//
// root/<name> must not exist yet (or be an empty folder): nothing is
// overwritten. The folder is built beside it and renamed into place, so a
// failed export leaves nothing behind.
func ExportSIA(ctx context.Context, t *Task, root string) (*ExportReport, error) {
	if t.Bundle == nil || len(t.Bundle.EvaluatePy) == 0 {
		return nil, fmt.Errorf("task %q has no evaluate.py to export (the bundled tasks with data do)", t.Spec.Name)
	}
	if missing := t.MissingData(); len(missing) > 0 || t.Data == nil {
		return nil, fmt.Errorf("task %q: data is missing (%s); run `sia data pull %s` or `sia data import DIR` first",
			t.Spec.Name, strings.Join(missing, ", "), t.Spec.Name)
	}
	dir := filepath.Join(root, t.Spec.Name)
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s already exists and is not empty: export into another folder", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	d, err := t.Load(ctx)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(root, ".export-"+t.Spec.Name+"-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	rep := &ExportReport{Dir: dir}
	write := func(rel string, b []byte) error {
		rep.Files = append(rep.Files, rel)
		return writeReadable(filepath.Join(tmp, filepath.FromSlash(rel)), b)
	}
	for _, sub := range []string{"public", "private"} {
		err := fs.WalkDir(t.Data, sub, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			b, err := fs.ReadFile(t.Data, p)
			if err != nil {
				return err
			}
			return write("data/"+p, b)
		})
		if err != nil {
			return nil, fmt.Errorf("copy %s data: %w", sub, err)
		}
	}
	doc, err := t.Doc()
	if err != nil {
		return nil, err
	}
	if _, err := fs.Stat(t.Data, "public/task.md"); err != nil {
		if err := write(PublicDir+"/task.md", []byte(doc)); err != nil {
			return nil, err
		}
	}
	if err := write(PublicDir+"/evaluate.py", t.Bundle.EvaluatePy); err != nil {
		return nil, err
	}
	name, code, err := t.ReferenceHarness()
	if err != nil {
		return nil, err
	}
	if err := write("reference/"+name, code); err != nil {
		return nil, err
	}
	if err := write(SampleTasksFile, sampleTasks(t, d)); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if err := os.Remove(dir); err != nil { // an empty folder is in the way
			return nil, err
		}
		if err := os.Rename(tmp, dir); err != nil {
			return nil, err
		}
	}
	shared := filepath.Join(root, "_shared", SharedSampleExecution)
	if _, err := os.Stat(shared); errors.Is(err, fs.ErrNotExist) {
		if err := writeReadable(shared, []byte(sampleExecution)); err != nil {
			return nil, err
		}
		rep.Files = append(rep.Files, "../_shared/"+SharedSampleExecution)
	}
	sort.Strings(rep.Files)
	rep.Notes = append(rep.Notes,
		"no task.yaml: `sia run --task-dir "+dir+"` infers the splits from the files (docs/tasks.md); `sia tasks --task-dir "+dir+" --json` shows how",
		"data/public/evaluate.py scores as sia's Go verifier for "+t.Spec.Name+" does, in SIA's evaluator contract (evaluate.py --gen-dir G writes G/results.json)")
	return rep, nil
}

// sampleTasks is reference/SAMPLE_TASK_DESCRIPTIONS.md: the answer format
// and two items of the train split, without their labels (an exported
// folder's val is carved anew, so a train label shown here could be a val
// label); for a task without a train split, only the item fields.
func sampleTasks(t *Task, d *Dataset) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Sample tasks: %s\n\n", t.Spec.Name)
	if t.Spec.Answer != "" {
		fmt.Fprintf(&b, "Each task asks for one answer: %s.\n\n", t.Spec.Answer)
	}
	if len(d.Train) == 0 {
		var fields []string
		if items := d.Items(Test); len(items) > 0 {
			for k := range items[0].Fields {
				fields = append(fields, k)
			}
		}
		sort.Strings(fields)
		fmt.Fprintf(&b, "Each item has an id (%s) and the fields %s.\n", t.Spec.Items.ID, strings.Join(fields, ", "))
		return []byte(b.String())
	}
	for i, ex := range d.Train[:min(2, len(d.Train))] {
		fmt.Fprintf(&b, "## Sample %d (%s %s)\n\n", i+1, t.Spec.Items.ID, ex.ID)
		keys := make([]string, 0, len(ex.Fields))
		for k := range ex.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k != t.Spec.Items.ID {
				fmt.Fprintf(&b, "- %s: %s\n", k, verify.Truncate(strings.TrimSpace(cellText(ex.Fields[k])), 600))
			}
		}
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// sampleExecution is ../_shared/sample_agent_execution.json: the shape of
// a logged trajectory (as sia's rollouts.jsonl records one), with no task
// data in it.
const sampleExecution = `{
  "about": "A sample agent execution: one item solved by a harness, every step logged. sia records each rollout sample like this in gen_<n>/rollouts.jsonl.",
  "item": "example-1",
  "sample": 0,
  "steps": [
    {"kind": "model_call", "input": [{"role": "system", "content": "Answer with one word."}, {"role": "user", "content": "What colour is a clear daytime sky?"}], "output": "blue", "usage": {"prompt_tokens": 21, "completion_tokens": 1}},
    {"kind": "log", "output": "answer extracted from the first line of the reply"}
  ],
  "answer": "blue",
  "status": "correct",
  "reward": 1
}
`
