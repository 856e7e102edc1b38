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

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/verify"
)

// Item is one thing to solve. Fields hold JSON-compatible values (string,
// float64, bool, nil, []any, map[string]any); CSV columns are strings. An
// Item never carries its label.
type Item struct {
	ID     string         `json:"id"`
	Fields map[string]any `json:"fields"`
}

// Example is a labelled item of the train split.
type Example struct {
	Item
	Label string `json:"label"`
}

// Bundle is a task shipped inside the binary: its folder (task.yaml,
// task.md, reference/) and the Go code that scores or generates it.
type Bundle struct {
	Name  string
	Files fs.FS
	// Scorer and Aggregator implement the task's verifier; nil means the
	// spec's generic verifier.
	Scorer     verify.Scorer
	Aggregator verify.Aggregator
	// ParseSubmission reads a SIA-style submission file into answers by id;
	// nil means the generic CSV/JSON reader (ParseSubmission).
	ParseSubmission func(filename string, data []byte) (map[string]string, error)
	// Generate makes the task's data folder (public/, private/) from a seed;
	// nil for tasks whose data is downloaded.
	Generate func(seed int64) (fs.FS, error)
	// EvaluatePy is the task's scoring as a SIA evaluate.py (the same
	// scores as Scorer), written into the task folders `sia data
	// export-sia` makes; nil when the task has none.
	EvaluatePy []byte
	// Corpus is the pretraining corpus of the embedded base model for the
	// data of seed, as chats; nil means a generic corpus built from the
	// train split. It is never shown to a harness or an agent.
	Corpus func(seed int64) [][]llm.Message
}

// Registry holds the bundled tasks. It is built once by the caller (see
// task/bundled) and never mutated after.
type Registry struct {
	byName map[string]*Bundle
	names  []string
}

// NewRegistry builds a registry; duplicate names are an error.
func NewRegistry(bundles ...*Bundle) (*Registry, error) {
	r := &Registry{byName: map[string]*Bundle{}}
	for _, b := range bundles {
		if _, dup := r.byName[b.Name]; dup {
			return nil, fmt.Errorf("task %q registered twice", b.Name)
		}
		r.byName[b.Name] = b
		r.names = append(r.names, b.Name)
	}
	sort.Strings(r.names)
	return r, nil
}

// Names lists the bundled tasks in order.
func (r *Registry) Names() []string { return append([]string(nil), r.names...) }

// Bundle returns the named bundle.
func (r *Registry) Bundle(name string) (*Bundle, bool) {
	b, ok := r.byName[name]
	return b, ok
}

// ErrNotFound is returned for an unknown task name.
var ErrNotFound = errors.New("no such task")

// Task is an opened task: its spec, its files, and where its data lives.
type Task struct {
	Spec Spec
	// Files is the task folder: task.yaml, task.md, reference/, evaluate.py.
	Files fs.FS
	// Data is the data folder holding public/ and private/. Nil when the
	// data is missing (see MissingData).
	Data fs.FS
	// DataDir is Data's path on disk, "" when Data lives in memory.
	DataDir string
	// Dir is the task folder on disk for --task-dir tasks, "" for bundled.
	Dir    string
	Bundle *Bundle // nil for folder tasks

	eval *Evaluator // how evaluate.py runs; see WithEvaluator
}

// Options for opening a task.
type Options struct {
	// DataRoot is SIA_DATA_DIR: bundled task data lives in DataRoot/<name>.
	DataRoot string
	// Seed feeds generated tasks.
	Seed int64
}

// Open opens a bundled task by name.
func (r *Registry) Open(name string, opt Options) (*Task, error) {
	b, ok := r.byName[name]
	if !ok {
		if near := closest(name, r.names); near != "" {
			return nil, fmt.Errorf("task %q: %w; did you mean %q? (bundled: %s)", name, ErrNotFound, near, strings.Join(r.names, ", "))
		}
		return nil, fmt.Errorf("task %q: %w (bundled: %s)", name, ErrNotFound, strings.Join(r.names, ", "))
	}
	spec, err := loadSpec(b.Files, name)
	if err != nil {
		return nil, fmt.Errorf("task %q: %w", name, err)
	}
	t := &Task{Spec: spec, Files: b.Files, Bundle: b}
	switch {
	case b.Generate != nil:
		data, err := b.Generate(opt.Seed)
		if err != nil {
			return nil, fmt.Errorf("generate task %q data: %w", name, err)
		}
		t.Data = data
	case opt.DataRoot != "":
		dir := filepath.Join(opt.DataRoot, name)
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			t.Data, t.DataDir = os.DirFS(dir), dir
		}
	}
	return t, nil
}

// OpenDir opens a task folder in SIA's layout. A bundled verifier named in
// its task.yaml is looked up in r (which may be nil).
func OpenDir(dir string, r *Registry) (*Task, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("task dir: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("task dir %s: not a folder", dir)
	}
	files := os.DirFS(dir)
	spec, err := loadSpec(files, filepath.Base(dir))
	if err != nil {
		return nil, fmt.Errorf("task dir %s: %w", dir, err)
	}
	t := &Task{Spec: spec, Files: files, Dir: dir}
	if d := filepath.Join(dir, "data"); isDir(d) {
		t.Data, t.DataDir = os.DirFS(d), d
	}
	if r != nil {
		if b, ok := r.byName[spec.Verifier]; ok {
			t.Bundle = &Bundle{Name: b.Name, Scorer: b.Scorer, Aggregator: b.Aggregator, ParseSubmission: b.ParseSubmission}
		}
	}
	return t, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// loadSpec reads task.yaml, or infers the spec from a SIA task folder's
// files when it is absent (InferSIASpec).
func loadSpec(files fs.FS, fallbackName string) (Spec, error) {
	var spec Spec
	b, err := fs.ReadFile(files, "task.yaml")
	switch {
	case err == nil:
		if spec, err = ParseSpec(b); err != nil {
			return Spec{}, err
		}
	case errors.Is(err, fs.ErrNotExist):
		if spec, err = InferSIASpec(files, fallbackName); err != nil {
			return Spec{}, err
		}
	default:
		return Spec{}, err
	}
	if spec.Name == "" {
		spec.Name = fallbackName
	}
	if spec.Harness == "" {
		for _, p := range referenceHarnesses {
			if _, err := fs.Stat(files, p); err == nil {
				spec.Harness = p
				break
			}
		}
	}
	if spec.Runtime == "" {
		spec.Runtime = "starlark"
		if strings.HasSuffix(spec.Harness, ".py") {
			spec.Runtime = "python"
		}
	}
	if spec.Verifier == "" && findEvaluateScript(files) != "" {
		// A task.yaml that names no verifier leaves scoring to the
		// folder's own evaluate.py, as SIA would.
		spec.Verifier = "evaluate.py"
	}
	spec.applyDefaults()
	if err := spec.validate(); err != nil {
		return Spec{}, err
	}
	return spec, nil
}

// Doc returns the task description (task.md) harnesses and agents read:
// data/public/task.md, else task.md in the task folder.
func (t *Task) Doc() (string, error) {
	if t.Data != nil {
		if b, err := fs.ReadFile(t.Data, "public/task.md"); err == nil {
			return string(b), nil
		}
	}
	b, err := fs.ReadFile(t.Files, "task.md")
	if err != nil {
		return "", fmt.Errorf("task %q has no task.md: %w", t.Spec.Name, err)
	}
	return string(b), nil
}

// SampleTasks returns reference/SAMPLE_TASK_DESCRIPTIONS.md, the example
// task descriptions SIA gives its Meta-Agent; "" when the task has none.
func (t *Task) SampleTasks() string {
	if t.Files == nil {
		return ""
	}
	b, err := fs.ReadFile(t.Files, SampleTasksFile)
	if err != nil {
		return ""
	}
	return string(b)
}

// SampleExecution returns ../_shared/sample_agent_execution.json beside a
// task folder, the example trajectory SIA gives its Meta-Agent; "" when
// there is none (bundled tasks, folders without _shared/).
func (t *Task) SampleExecution() string {
	if t.Dir == "" {
		return ""
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(t.Dir), "_shared", SharedSampleExecution))
	if err != nil {
		return ""
	}
	return string(b)
}

// ReferenceHarness returns the reference harness's source and the file
// name a harness of its runtime is stored under.
func (t *Task) ReferenceHarness() (string, []byte, error) {
	if t.Spec.Harness == "" {
		return "", nil, fmt.Errorf("task %q has no reference harness", t.Spec.Name)
	}
	b, err := fs.ReadFile(t.Files, t.Spec.Harness)
	if err != nil {
		return "", nil, fmt.Errorf("task %q reference harness: %w", t.Spec.Name, err)
	}
	// The name a harness version is stored under for its runtime
	// (harness.FileFor), whatever the reference is called: SIA names its
	// reference_target_agent.py.
	name := path.Base(t.Spec.Harness)
	switch path.Ext(name) {
	case ".py":
		name = "target_agent.py"
	case ".star":
		name = "harness.star"
	}
	return name, b, nil
}

// Public returns the public data folder (nil when data is missing). This is
// everything a harness or an agent may read.
func (t *Task) Public() fs.FS {
	if t.Data == nil {
		return nil
	}
	sub, err := fs.Sub(t.Data, "public")
	if err != nil {
		return nil
	}
	return sub
}

// Layout describes the task's files for harnesses that read SIA's
// dataset_dir (the python runtime): the train split goes in the train
// split's public file, the items being solved in the test split's.
func (t *Task) Layout() (trainFile, itemsFile string) {
	rel := func(split string) string {
		sp, ok := t.Spec.Splits[split]
		if !ok || sp.File == "" {
			return ""
		}
		p, found := strings.CutPrefix(sp.File, "public/")
		if !found {
			return ""
		}
		return p
	}
	trainFile, itemsFile = rel(Train), rel(Test)
	if itemsFile == "" && trainFile != "" {
		itemsFile = "test" + path.Ext(trainFile)
	}
	return trainFile, itemsFile
}

// MissingData lists the data files the task needs that are absent.
func (t *Task) MissingData() []string {
	need := t.Spec.DataFiles
	if len(need) == 0 {
		for _, sp := range t.Spec.Splits {
			if sp.File != "" {
				need = append(need, sp.File)
			}
			if sp.Gold != nil {
				need = append(need, sp.Gold.File)
			}
		}
	}
	sort.Strings(need)
	var missing []string
	for i, p := range need {
		if i > 0 && need[i-1] == p {
			continue
		}
		if t.Data == nil {
			missing = append(missing, p)
			continue
		}
		if _, err := fs.Stat(t.Data, p); err != nil {
			missing = append(missing, p)
		}
	}
	return missing
}

// closest returns the name nearest to s by edit distance, when it is near
// enough to be a typo (at most a third of its length, and 3 edits).
func closest(s string, names []string) string {
	best, bestD := "", 4
	for _, n := range names {
		d := editDistance(strings.ToLower(s), strings.ToLower(n))
		if d < bestD && d*3 <= max(len(n), 3) {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the optimal-string-alignment distance between a and b
// in bytes: insertions, deletions, substitutions and swaps of two
// neighbours ("dmeo" is one edit from "demo").
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
