package task

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/sia-agent/sia/sandbox"
	"github.com/sia-agent/sia/verify"
)

// Evaluator is how a task folder's evaluate.py runs: the sandbox (the same
// mode the run gives its harnesses), the interpreter, and where scratch
// folders go. The caller builds it (the CLI, from --sandbox) and hands it
// to WithEvaluator.
type Evaluator struct {
	Sandbox *sandbox.Sandbox
	// Python resolves the interpreter once for every verifier of the task
	// (nil: python3).
	Python *verify.Interpreter
	// TempDir holds scratch copies of the task folder ("" = os.TempDir).
	TempDir string
	// Timeout bounds one evaluate.py run (0 = verify.DefaultEvalTimeout).
	Timeout time.Duration
}

// WithEvaluator returns a copy of t whose evaluate.py verifiers run with e.
func (t *Task) WithEvaluator(e Evaluator) *Task {
	cp := *t
	if e.Python == nil {
		e.Python = &verify.Interpreter{}
	}
	cp.eval = &e
	return &cp
}

// UsesEvaluator reports whether the task is scored by its evaluate.py.
func (t *Task) UsesEvaluator() bool { return t.Spec.Verifier == "evaluate.py" }

// EvaluateScript is the task's evaluate.py as SIA finds it
// (data/public/evaluate.py, else evaluate.py at the task folder's root),
// "" when it has none.
func (t *Task) EvaluateScript() string {
	if t.Files == nil {
		return ""
	}
	return findEvaluateScript(t.Files)
}

// externalVerifier scores split with the task's evaluate.py.
func (t *Task) externalVerifier(spec verify.Spec, split string) (verify.Verifier, error) {
	script := t.EvaluateScript()
	if script == "" {
		return nil, fmt.Errorf("task %q is scored by evaluate.py, and its folder has none (looked for %s)", t.Spec.Name, strings.Join(evaluateScripts, ", "))
	}
	if t.eval == nil || t.eval.Sandbox == nil {
		return nil, fmt.Errorf("task %q is scored by its %s, which runs sandboxed: no sandbox was given", t.Spec.Name, script)
	}
	if t.Data == nil {
		return nil, fmt.Errorf("task %q: data is missing", t.Spec.Name)
	}
	return &verify.External{
		Spec: spec, Sandbox: t.eval.Sandbox, Python: t.eval.Python, TempDir: t.eval.TempDir, Timeout: t.eval.Timeout,
		Prepare: func(root string, answers, gold map[string]string) (verify.Layout, error) {
			return t.layOutEval(root, script, split, answers, gold)
		},
	}, nil
}

// goldOf returns where split's labels are written for an evaluator: the
// gold file (and its id and label columns) of the split its items come
// from, else the task's first gold file; and the data file its items come
// from ("" when carved from nothing with a file).
func (t *Task) goldOf(split string) (GoldSpec, string, error) {
	sp, ok := t.Spec.Splits[split]
	for hops := 0; ok && sp.CarveFrom != "" && hops < 4; hops++ {
		sp, ok = t.Spec.Splits[sp.CarveFrom]
	}
	if !ok {
		return GoldSpec{}, "", fmt.Errorf("split %q is not defined", split)
	}
	g := sp.Gold
	if g == nil {
		for _, name := range []string{Test, Val, Train} {
			if s, ok := t.Spec.Splits[name]; ok && s.Gold != nil {
				g = s.Gold
				break
			}
		}
	}
	if g == nil {
		return GoldSpec{}, "", errors.New("evaluate.py reads its gold from data/private, and the task names no gold file to write it in")
	}
	out := *g
	if out.ID == "" {
		out.ID = t.Spec.Items.ID
	}
	if out.Label == "" {
		out.Label = t.Spec.Items.Label
	}
	if !strings.HasPrefix(out.File, "private/") {
		return GoldSpec{}, "", fmt.Errorf("gold file %s is not under private/: evaluate.py would find it with the public data", out.File)
	}
	return out, sp.File, nil
}

// layOutEval writes, under root, the copy of the task folder evaluate.py
// runs from and the generation folder it scores:
//
//	root/task/<script> and the .py files beside it
//	root/task/data/public/…  files no split reads, as they are; the files
//	                         splits read, holding only the items being
//	                         scored, without their label
//	root/task/data/private/<gold file>  the gold of exactly the ids being
//	                         scored, in the gold file's format and columns
//	                         (a val item carved from the train file gets a
//	                         row of those columns made from its train row)
//	root/gen/submission.<gold file's format>  the answers: the gold file's
//	                         id and label columns (or the task's named
//	                         submission file)
func (t *Task) layOutEval(root, script, split string, answers, gold map[string]string) (verify.Layout, error) {
	lay := verify.Layout{TaskDir: filepath.Join(root, "task"), Script: script, GenDir: filepath.Join(root, "gen")}
	g, srcFile, err := t.goldOf(split)
	if err != nil {
		return lay, err
	}
	ids := make([]string, 0, len(gold))
	for id := range gold {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	scored := make(map[string]bool, len(ids))
	for _, id := range ids {
		scored[id] = true
	}
	if err := t.copyScript(lay.TaskDir, script); err != nil {
		return lay, err
	}
	if err := t.writeEvalPublic(lay.TaskDir, scored); err != nil {
		return lay, err
	}
	goldTable, err := readRawTable(t.Data, g.File, g.ID)
	if err != nil {
		return lay, fmt.Errorf("gold: %w", err)
	}
	var src *rawTable
	if srcFile != "" && srcFile != g.File {
		if src, err = readRawTable(t.Data, srcFile, t.Spec.Items.ID); err != nil {
			return lay, err
		}
	}
	rows := make([]rawRow, 0, len(ids))
	idVals := make(map[string]any, len(ids))
	for _, id := range ids {
		if r, ok := goldTable.row(id); ok {
			rows = append(rows, r)
			idVals[id], _ = goldTable.value(r, g.ID)
			continue
		}
		var idVal, label any = id, gold[id]
		var srcRow rawRow
		if src != nil {
			if r, ok := src.row(id); ok {
				srcRow = r
				if v, ok := src.value(r, t.Spec.Items.ID); ok {
					idVal = v
				}
				if v, ok := src.value(r, t.Spec.Items.Label); ok {
					label = v
				}
			}
		}
		r, err := goldTable.projectRow(id, idVal, label, g.ID, g.Label, src, srcRow)
		if err != nil {
			return lay, err
		}
		rows = append(rows, r)
		idVals[id] = idVal
	}
	b, err := goldTable.encode(rows, "")
	if err != nil {
		return lay, err
	}
	if err := writeReadable(filepath.Join(lay.TaskDir, "data", filepath.FromSlash(g.File)), b); err != nil {
		return lay, err
	}
	sub, name, err := submission(goldTable.format, t.Spec.Submission, g, ids, idVals, answers)
	if err != nil {
		return lay, err
	}
	if err := writeReadable(filepath.Join(lay.GenDir, name), sub); err != nil {
		return lay, err
	}
	return lay, nil
}

// copyScript copies evaluate.py and the Python files beside it (helpers
// it may import) into the task copy.
func (t *Task) copyScript(taskDir, script string) error {
	dir := path.Dir(script)
	entries, err := fs.ReadDir(t.Files, dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".py") {
			continue
		}
		p := path.Join(dir, e.Name())
		b, err := fs.ReadFile(t.Files, p)
		if err != nil {
			return err
		}
		if err := writeReadable(filepath.Join(taskDir, filepath.FromSlash(p)), b); err != nil {
			return err
		}
	}
	return nil
}

// writeEvalPublic writes data/public for the evaluator: what no split
// reads as it is, each file a split reads restricted to the scored items
// without their label, no gold file, no Python (the script and its helpers
// are copied from the task folder).
func (t *Task) writeEvalPublic(taskDir string, scored map[string]bool) error {
	sources, golds := map[string]bool{}, map[string]bool{}
	for _, sp := range t.Spec.Splits {
		if sp.File != "" {
			sources[sp.File] = true
		}
		if sp.Gold != nil {
			golds[sp.Gold.File] = true
		}
	}
	return fs.WalkDir(t.Data, "public", func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == "public" {
			return fs.SkipDir
		}
		if err != nil || d.IsDir() || golds[p] || strings.HasSuffix(p, ".py") {
			return err
		}
		target := filepath.Join(taskDir, "data", filepath.FromSlash(p))
		if !sources[p] {
			b, err := fs.ReadFile(t.Data, p)
			if err != nil {
				return err
			}
			return writeReadable(target, b)
		}
		tbl, err := readRawTable(t.Data, p, t.Spec.Items.ID)
		if err != nil {
			return err
		}
		var keep []rawRow
		for _, r := range tbl.rows {
			if scored[r.id] {
				keep = append(keep, r)
			}
		}
		b, err := tbl.encode(keep, t.Spec.Items.Label)
		if err != nil {
			return err
		}
		return writeReadable(target, b)
	})
}

// submission writes the answers for ids as the task's submission: a CSV
// with the gold file's id and label columns, or JSON / JSONL records with
// those keys (ids keep their type from the gold file). The file is
// submission.<format>, or the task's named submission file.
func submission(format, named string, g GoldSpec, ids []string, idVals map[string]any, answers map[string]string) ([]byte, string, error) {
	name := "submission." + format
	if named != "" && strings.EqualFold(strings.TrimPrefix(path.Ext(named), "."), format) && path.Base(named) == named {
		name = named
	}
	tbl := &rawTable{file: name, format: format, header: []string{g.ID, g.Label}, cols: []string{g.ID, g.Label}}
	var rows []rawRow
	for _, id := range ids {
		ans, ok := answers[id]
		if !ok {
			continue // no answer: the evaluator counts it missing
		}
		if format == "csv" {
			rows = append(rows, rawRow{id: id, cells: []string{id, ans}})
			continue
		}
		idVal := idVals[id]
		if idVal == nil {
			idVal = id
		}
		rows = append(rows, rawRow{id: id, key: id, rec: map[string]any{g.ID: idVal, g.Label: ans}})
	}
	b, err := tbl.encode(rows, "")
	return b, name, err
}

// writeReadable writes a file the sandbox's unprivileged user can read,
// creating its folders (0755).
func writeReadable(p string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, b, 0o644)
}
