package task

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Paths of a task folder in SIA's layout (sia/layout.py's names).
const (
	PublicDir  = "data/public"
	PrivateDir = "data/private"
	// SampleTasksFile holds a few example task descriptions for the
	// Meta-Agent.
	SampleTasksFile = "reference/SAMPLE_TASK_DESCRIPTIONS.md"
	// SharedSampleExecution is the sample trajectory SIA keeps beside the
	// task folders, in ../_shared/.
	SharedSampleExecution = "sample_agent_execution.json"
)

// referenceHarnesses are the reference harness names looked for, in order:
// SIA's own name, the plain one, then ours.
var referenceHarnesses = []string{"reference/reference_target_agent.py", "reference/target_agent.py", "reference/harness.star"}

// evaluateScripts are where SIA looks for a task's evaluator, in order
// (sia/layout.py find_evaluate_script).
var evaluateScripts = []string{PublicDir + "/evaluate.py", "evaluate.py"}

// Carves of an inferred val split. The seed is fixed so that every run of
// the same folder holds out the same items.
const (
	inferSeed          = 7
	inferTrainFraction = 0.1 // of the labelled train file
	inferTestFraction  = 0.2 // of the test items, when there is no labelled train file
)

// labelNames are preferred label columns when the gold file has several
// columns the items file lacks.
var labelNames = []string{"label", "answer", "target", "correct_answer_letter", "correct_answer", "solution", "y"}

// dataFile is a public or private data file the inference looked at.
type dataFile struct {
	rel  string // relative to the data folder: public/x.csv
	name string // base name
	stem string // name without extension
	recs []map[string]any
	cols map[string]bool
}

func readDataFiles(files fs.FS, dir string) ([]*dataFile, error) {
	entries, err := fs.ReadDir(files, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*dataFile
	for _, e := range entries {
		name := e.Name()
		ext := strings.ToLower(path.Ext(name))
		if e.IsDir() || (ext != ".csv" && ext != ".json" && ext != ".jsonl") {
			continue
		}
		if strings.HasPrefix(strings.ToLower(name), "sample_submission") {
			continue // a format example, not data
		}
		recs, err := ReadRecords(files, dir+"/"+name, "")
		if err != nil {
			// A JSON file that is not records (classes.json: a list of
			// names) is not a data file the splits could read.
			if ext == ".json" {
				continue
			}
			return nil, err
		}
		f := &dataFile{rel: strings.TrimPrefix(dir, "data/") + "/" + name, name: name,
			stem: strings.TrimSuffix(name, path.Ext(name)), recs: recs, cols: map[string]bool{}}
		for _, r := range recs {
			for k := range r {
				f.cols[k] = true
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// InferSIASpec describes a SIA task folder that has no task.yaml, from its
// files: the items to solve (data/public/test.*, else the public file
// named like a private one, else the only public data file besides
// train.*), their gold (the private file of the same name, else the only
// private data file), the id column (shared by both, "id" or a name ending
// in "id" first), the label column (what the gold file has and the items
// lack), and a labelled train file (data/public/train.* holding both). Val
// is carved from the train file when there is one, else from the test
// items; the split notes say which. The verifier is the folder's
// evaluate.py when it has one.
func InferSIASpec(files fs.FS, name string) (Spec, error) {
	pub, err := readDataFiles(files, PublicDir)
	if err != nil {
		return Spec{}, fmt.Errorf("read %s: %w", PublicDir, err)
	}
	priv, err := readDataFiles(files, PrivateDir)
	if err != nil {
		return Spec{}, fmt.Errorf("read %s: %w", PrivateDir, err)
	}
	const hint = "add a task.yaml naming the splits (docs/tasks.md)"
	if len(pub) == 0 {
		return Spec{}, fmt.Errorf("no task.yaml and no data file (csv, json, jsonl) in %s; %s", PublicDir, hint)
	}
	if len(priv) == 0 {
		return Spec{}, fmt.Errorf("no task.yaml and no gold file in %s: nothing to score against; %s", PrivateDir, hint)
	}
	items, err := pickItems(pub, priv)
	if err != nil {
		return Spec{}, fmt.Errorf("%w; %s", err, hint)
	}
	gold := pickGold(items, priv)
	if gold == nil {
		return Spec{}, fmt.Errorf("cannot tell which of %s holds the gold of %s; %s", names(priv), items.rel, hint)
	}
	idCol, err := pickID(items, gold)
	if err != nil {
		return Spec{}, fmt.Errorf("%w; %s", err, hint)
	}
	var train *dataFile
	for _, f := range pub {
		if f != items && isTrainName(f.stem) && f.cols[idCol] {
			train = f
			break
		}
	}
	labelCol, err := pickLabel(items, gold, train, idCol)
	if err != nil {
		return Spec{}, fmt.Errorf("%w; %s", err, hint)
	}
	if train != nil && !train.cols[labelCol] {
		train = nil // not labelled: an ordinary public file
	}

	s := Spec{Name: name, Items: ItemsSpec{ID: idCol, Label: labelCol}, Splits: map[string]SplitSpec{}}
	s.Splits[Test] = SplitSpec{File: items.rel, Gold: &GoldSpec{File: gold.rel, ID: idCol, Label: labelCol},
		Note: fmt.Sprintf("inferred (no task.yaml): the items of %s, scored against %s (%s → %s)", items.rel, gold.rel, idCol, labelCol)}
	switch {
	case train != nil && len(train.recs) >= 2:
		s.Splits[Train] = SplitSpec{File: train.rel,
			Note: fmt.Sprintf("inferred: the labelled rows of %s, less the val carve", train.rel)}
		s.Splits[Val] = carveSpec(Train, len(train.recs), inferTrainFraction,
			fmt.Sprintf("inferred: a seeded {amount} of %s (labelled public data; seed %d), taken out of train", train.rel, inferSeed))
	case len(items.recs) >= 2:
		why := "there is no labelled train file"
		if train != nil {
			why = "the train file has a single row"
		}
		s.Splits[Val] = carveSpec(Test, len(items.recs), inferTestFraction,
			fmt.Sprintf("inferred: %s, so val is a seeded {amount} of the items of %s (seed %d), removed from test so the two never overlap; test is scored on the rest", why, items.rel, inferSeed))
		if train != nil {
			s.Splits[Train] = SplitSpec{File: train.rel, Note: fmt.Sprintf("inferred: the labelled rows of %s", train.rel)}
		}
	default:
		return Spec{}, fmt.Errorf("%s holds one item and there is no labelled train file: no val split can be held out; %s", items.rel, hint)
	}
	s.Verifier = "exact"
	if script := findEvaluateScript(files); script != "" {
		s.Verifier = "evaluate.py"
		s.Description = fmt.Sprintf("SIA task folder scored by its %s (no task.yaml: splits inferred)", script)
	} else {
		s.Description = fmt.Sprintf("SIA task folder without evaluate.py: answers are scored by exact match on %s (no task.yaml: splits inferred)", labelCol)
	}
	return s, nil
}

// carveSpec describes a split carved from another one: a fraction when that
// leaves at least one item, else one item. note says {amount} where the
// amount goes.
func carveSpec(from string, n int, frac float64, note string) SplitSpec {
	sp := SplitSpec{CarveFrom: from, Seed: inferSeed}
	if int(float64(n)*frac+0.5) >= 1 {
		sp.Fraction = frac
		sp.Note = strings.Replace(note, "{amount}", fmt.Sprintf("%g %%", frac*100), 1)
	} else {
		sp.Count = 1
		sp.Note = strings.Replace(note, "{amount}", "single item", 1)
	}
	return sp
}

func isTrainName(stem string) bool { return strings.HasPrefix(strings.ToLower(stem), "train") }

func names(files []*dataFile) string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.rel
	}
	return strings.Join(out, ", ")
}

// pickItems finds the public file of items to solve.
func pickItems(pub, priv []*dataFile) (*dataFile, error) {
	var tests []*dataFile
	for _, f := range pub {
		if strings.EqualFold(f.stem, "test") {
			tests = append(tests, f)
		}
	}
	if len(tests) == 1 {
		return tests[0], nil
	}
	var named []*dataFile
	for _, f := range pub {
		for _, p := range priv {
			if f.name == p.name {
				named = append(named, f)
				break
			}
		}
	}
	if len(named) == 1 {
		return named[0], nil
	}
	var rest []*dataFile
	for _, f := range pub {
		if !isTrainName(f.stem) {
			rest = append(rest, f)
		}
	}
	if len(rest) == 1 {
		return rest[0], nil
	}
	return nil, fmt.Errorf("cannot tell which public file holds the items to solve (%s)", names(pub))
}

func pickGold(items *dataFile, priv []*dataFile) *dataFile {
	for _, p := range priv {
		if p.name == items.name {
			return p
		}
	}
	for _, p := range priv {
		if p.stem == items.stem {
			return p
		}
	}
	if len(priv) == 1 {
		return priv[0]
	}
	return nil
}

// pickID finds the column items and gold share that names each record.
func pickID(items, gold *dataFile) (string, error) {
	var shared []string
	for c := range gold.cols {
		if items.cols[c] && everyHas(gold.recs, c) && everyHas(items.recs, c) {
			shared = append(shared, c)
		}
	}
	sort.Strings(shared)
	if len(shared) == 0 {
		return "", fmt.Errorf("%s and %s share no column to match items with their gold", items.rel, gold.rel)
	}
	for _, c := range shared {
		if c == "id" {
			return c, nil
		}
	}
	var ids []string
	for _, c := range shared {
		if l := strings.ToLower(c); strings.HasSuffix(l, "id") && unique(items.recs, c) {
			ids = append(ids, c)
		}
	}
	if len(ids) == 1 {
		return ids[0], nil
	}
	if len(shared) == 1 {
		return shared[0], nil
	}
	return "", fmt.Errorf("cannot tell the id column of %s: %s could each be it", items.rel, strings.Join(shared, ", "))
}

// pickLabel finds the gold column that holds the answers.
func pickLabel(items, gold, train *dataFile, idCol string) (string, error) {
	var cands []string
	for c := range gold.cols {
		if c != idCol && !items.cols[c] {
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 { // the items file repeats every gold column
		for c := range gold.cols {
			if c != idCol {
				cands = append(cands, c)
			}
		}
	}
	sort.Strings(cands)
	if len(cands) == 1 {
		return cands[0], nil
	}
	if train != nil {
		var inTrain []string
		for _, c := range cands {
			if train.cols[c] {
				inTrain = append(inTrain, c)
			}
		}
		if len(inTrain) == 1 {
			return inTrain[0], nil
		}
	}
	for _, want := range labelNames {
		for _, c := range cands {
			if strings.EqualFold(c, want) {
				return c, nil
			}
		}
	}
	if len(cands) == 0 {
		return "", fmt.Errorf("%s has no column besides %q to hold the answers", gold.rel, idCol)
	}
	return "", fmt.Errorf("cannot tell the label column of %s: %s could each be it", gold.rel, strings.Join(cands, ", "))
}

func everyHas(recs []map[string]any, col string) bool {
	for _, r := range recs {
		if v, ok := r[col]; !ok || scalarString(v) == "" {
			return false
		}
	}
	return len(recs) > 0
}

func unique(recs []map[string]any, col string) bool {
	seen := make(map[string]bool, len(recs))
	for _, r := range recs {
		k := scalarString(r[col])
		if seen[k] {
			return false
		}
		seen[k] = true
	}
	return true
}

// findEvaluateScript returns the task folder's evaluate.py as SIA finds it,
// or "".
func findEvaluateScript(files fs.FS) string {
	for _, p := range evaluateScripts {
		if st, err := fs.Stat(files, p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}
