package dataview

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sia-agent/sia/task"
)

// A task laid out as spaceship-titanic is: val carved from the labelled
// public train file, test unlabelled in public with gold in private, plus
// files no split reads, a second public source file of val rows (labels
// included, as a careless task might ship), and a gold file misplaced
// under public/.
const spec = `name: mem
items: {id: pid, label: y}
splits:
  train: {file: public/train.csv}
  val: {carve_from: train, count: 3, seed: 5}
  test: {file: public/test.csv, gold: {file: private/test.csv}}
`

func open(t *testing.T, spec string, data fstest.MapFS) (*task.Task, *task.Dataset) {
	t.Helper()
	files := fstest.MapFS{"task.yaml": {Data: []byte(spec)}, "task.md": {Data: []byte("doc")},
		"reference/harness.star": {Data: []byte("def solve(item):\n    return 1\n")}}
	reg, err := task.NewRegistry(&task.Bundle{Name: "mem", Files: files, Generate: func(int64) (fs.FS, error) { return data, nil }})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := reg.Open("mem", task.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := tk.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return tk, d
}

func fixture() fstest.MapFS {
	var train strings.Builder
	train.WriteString("pid,x,y\n")
	for i := range 10 {
		fmt.Fprintf(&train, "p%d,feat%d,LABEL-p%d\n", i, i, i)
	}
	return fstest.MapFS{
		"public/train.csv":             {Data: []byte(train.String())},
		"public/test.csv":              {Data: []byte("pid,x\nq1,f1\nq2,f2\n")},
		"public/sample_submission.csv": {Data: []byte("pid,y\nq1,False\nq2,False\n")},
		"public/task.md":               {Data: []byte("the task")},
		"private/test.csv":             {Data: []byte("pid,y\nq1,LABEL-q1\nq2,LABEL-q2\n")},
	}
}

// allText is every byte of every file in a view.
func allText(t *testing.T, fsys fs.FS) string {
	t.Helper()
	var b strings.Builder
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		b.WriteString(p + "\n" + string(data) + "\n")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func ids(items []task.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

func TestViewHidesHeldOutLabels(t *testing.T) {
	tk, d := open(t, spec, fixture())
	b, err := New(tk, d)
	if err != nil {
		t.Fatal(err)
	}
	val, test := d.Items(task.Val), d.Items(task.Test)
	if len(val) != 3 || len(d.Train) != 7 {
		t.Fatalf("fixture: %d val, %d train", len(val), len(d.Train))
	}
	for _, tc := range []struct {
		name    string
		solving []task.Item
		holdOut []string
	}{
		{"val", val, nil},
		{"test", test, nil},
		{"a cross-validation fold of train", []task.Item{d.Train[0].Item, d.Train[1].Item}, []string{d.Train[2].ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := b.View(Request{Solving: tc.solving, HoldOut: tc.holdOut})
			if err != nil {
				t.Fatal(err)
			}
			text := allText(t, v.Files)
			// No label of a val item, a test item, an item being solved or
			// a held-out train example appears anywhere.
			var hidden []string
			for _, it := range val {
				hidden = append(hidden, it.ID)
			}
			hidden = append(hidden, ids(tc.solving)...)
			hidden = append(hidden, tc.holdOut...)
			for _, id := range hidden {
				if strings.Contains(text, "LABEL-"+id+"\n") {
					t.Errorf("the label of %s is in the view:\n%s", id, text)
				}
			}
			if strings.Contains(text, "LABEL-q") {
				t.Errorf("a test label is in the view:\n%s", text)
			}
			// ctx.train and train.csv agree, and hold every other train example.
			for _, e := range v.Train {
				if slices.Contains(hidden, e.ID) {
					t.Errorf("train example %s should be hidden", e.ID)
				}
				if !strings.Contains(text, e.ID+",feat") || !strings.Contains(text, "LABEL-"+e.ID+"\n") {
					t.Errorf("train example %s is missing from train.csv", e.ID)
				}
			}
			if want := len(d.Train) - countIn(d.Train, hidden); len(v.Train) != want {
				t.Errorf("%d train examples, want %d", len(v.Train), want)
			}
			// The items file holds exactly the items being solved, unlabelled.
			items, err := task.ReadRecords(v.Files, "test.csv", "")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range items {
				got = append(got, task.IDString(r["pid"]))
				if _, ok := r["y"]; ok {
					t.Errorf("items file has a label column: %v", r)
				}
			}
			if !slices.Equal(got, ids(tc.solving)) {
				t.Errorf("items file ids %v, want %v", got, ids(tc.solving))
			}
			// Files no split reads are as they were.
			if b, _ := fs.ReadFile(v.Files, "task.md"); string(b) != "the task" {
				t.Errorf("task.md = %q", b)
			}
		})
	}
}

func countIn(train []task.Example, ids []string) int {
	n := 0
	for _, e := range train {
		if slices.Contains(ids, e.ID) {
			n++
		}
	}
	return n
}

// A second source file of labelled val rows, and gold under public/: the
// view keeps only what the request allows.
func TestViewFiltersEverySourceFile(t *testing.T) {
	const spec = `name: mem
splits:
  train: {file: public/train.jsonl}
  val: {file: public/val.jsonl, gold: {file: public/val_gold.jsonl}}
  test: {file: public/test.jsonl, gold: {file: private/test.jsonl}}
`
	data := fstest.MapFS{
		"public/train.jsonl":    {Data: []byte(`{"id":"t1","q":"a","label":"LT1"}` + "\n" + `{"id":"t2","q":"b","label":"LT2"}` + "\n")},
		"public/val.jsonl":      {Data: []byte(`{"id":"v1","q":"c","label":"LV1"}` + "\n" + `{"id":"v2","q":"d","label":"LV2"}` + "\n")},
		"public/val_gold.jsonl": {Data: []byte(`{"id":"v1","label":"LV1"}` + "\n" + `{"id":"v2","label":"LV2"}` + "\n")},
		"public/test.jsonl":     {Data: []byte(`{"id":"x1","q":"e"}` + "\n")},
		"private/test.jsonl":    {Data: []byte(`{"id":"x1","label":"LX1"}` + "\n")},
	}
	tk, d := open(t, spec, data)
	b, err := New(tk, d)
	if err != nil {
		t.Fatal(err)
	}
	for _, solving := range [][]task.Item{d.Items(task.Val), d.Items(task.Test)} {
		v, err := b.View(Request{Solving: solving})
		if err != nil {
			t.Fatal(err)
		}
		text := allText(t, v.Files)
		for _, l := range []string{"LV1", "LV2", "LX1"} {
			if strings.Contains(text, l) {
				t.Errorf("solving %v: %s in the view:\n%s", ids(solving), l, text)
			}
		}
		if _, err := fs.Stat(v.Files, "val_gold.jsonl"); err == nil {
			t.Error("a gold file under public/ is in the view")
		}
		recs, err := task.ReadRecords(v.Files, "val.jsonl", "")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if !slices.Contains(ids(solving), task.IDString(r["id"])) {
				t.Errorf("val.jsonl keeps %v, which is not being solved", r)
			}
		}
		if !strings.Contains(text, "LT1") || !strings.Contains(text, "LT2") {
			t.Errorf("train labels missing:\n%s", text)
		}
	}
}

// Column order and formats survive the rewrite.
func TestViewKeepsFormats(t *testing.T) {
	tk, d := open(t, spec, fixture())
	b, _ := New(tk, d)
	v, err := b.View(Request{Solving: d.Items(task.Test)})
	if err != nil {
		t.Fatal(err)
	}
	train, _ := fs.ReadFile(v.Files, "train.csv")
	if !strings.HasPrefix(string(train), "pid,x,y\n") {
		t.Errorf("train.csv header: %q", strings.SplitN(string(train), "\n", 2)[0])
	}
	test, _ := fs.ReadFile(v.Files, "test.csv")
	if string(test) != "pid,x\nq1,f1\nq2,f2\n" {
		t.Errorf("test.csv = %q", test)
	}
	rows := []map[string]any{{"id": "a", "n": 1.5}}
	out, err := encode("x.json", nil, rows)
	if err != nil {
		t.Fatal(err)
	}
	var back []map[string]any
	if err := json.Unmarshal(out, &back); err != nil || back[0]["n"] != 1.5 {
		t.Errorf("json round trip: %s %v", out, err)
	}
}
