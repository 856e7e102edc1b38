package task

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

func openMem(t *testing.T, spec string, data fstest.MapFS) (*Task, error) {
	t.Helper()
	files := fstest.MapFS{"task.yaml": {Data: []byte(spec)}, "task.md": {Data: []byte("doc")},
		"reference/harness.star": {Data: []byte("def solve(item):\n    return 1\n")}}
	reg, err := NewRegistry(&Bundle{Name: "mem", Files: files, Generate: func(int64) (fs.FS, error) { return data, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return reg.Open("mem", Options{})
}

const csvSpec = `name: mem
splits:
  train: {file: public/train.csv}
  val: {carve_from: train, fraction: 0.25, seed: 4}
  test: {file: public/test.csv, gold: {file: private/test.csv}}
`

func csvData(n int) fstest.MapFS {
	var train strings.Builder
	train.WriteString("id,x,label\n")
	for i := range n {
		train.WriteString("a" + string(rune('a'+i)) + ",v,L" + string(rune('a'+i)) + "\n")
	}
	return fstest.MapFS{
		"public/train.csv": {Data: []byte(train.String())},
		"public/test.csv":  {Data: []byte("id,x\nq1,1\nq2,2\n")},
		"private/test.csv": {Data: []byte("id,label\nq1,yes\nq2,no\n")},
	}
}

func TestLoadSplits(t *testing.T) {
	tk, err := openMem(t, csvSpec, csvData(8))
	if err != nil {
		t.Fatal(err)
	}
	if tk.Spec.Runtime != "starlark" || tk.Spec.Metric != "accuracy" || !tk.Spec.HigherIsBetter() {
		t.Errorf("defaults: %+v", tk.Spec)
	}
	d, err := tk.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Train) != 6 || len(d.Items(Val)) != 2 || len(d.Items(Test)) != 2 {
		t.Fatalf("sizes train %d val %d test %d", len(d.Train), len(d.Items(Val)), len(d.Items(Test)))
	}
	seen := map[string]bool{}
	for _, e := range d.Train {
		seen[e.ID] = true
		if e.Label == "" || e.Fields["label"] != nil {
			t.Errorf("train example %+v", e)
		}
	}
	for _, it := range d.Items(Val) {
		if seen[it.ID] {
			t.Errorf("val item %s is also in train", it.ID)
		}
		if _, ok := it.Fields["label"]; ok {
			t.Errorf("val item %s carries its label", it.ID)
		}
		if d.Gold(Val)[it.ID] == "" {
			t.Errorf("no gold for val item %s", it.ID)
		}
	}
	if g := d.Gold(Test); g["q1"] != "yes" || g["q2"] != "no" {
		t.Errorf("test gold %v", g)
	}
	// The carve is deterministic.
	d2, _ := tk.Load(t.Context())
	for i, it := range d.Items(Val) {
		if d2.Items(Val)[i].ID != it.ID {
			t.Fatal("val carve differs between loads")
		}
	}
}

func TestSpecErrors(t *testing.T) {
	tests := []struct{ name, spec, want string }{
		{"unknown key", "name: x\nsplitz: {}\n", "field splitz not found"},
		{"no val", "name: x\nsplits:\n  test: {file: a.csv}\n", `split "val" is not defined`},
		{"both file and carve", "name: x\nsplits:\n  train: {file: a.csv}\n  val: {file: b.csv, carve_from: train, fraction: 0.1}\n  test: {file: c.csv}\n", "exactly one of"},
		{"bad fraction", "name: x\nsplits:\n  train: {file: a.csv}\n  val: {carve_from: train, fraction: 1.5}\n  test: {file: c.csv}\n", "fraction"},
		{"bad direction", "name: x\ndirection: up\nsplits:\n  val: {file: a.csv}\n  test: {file: c.csv}\n", "direction"},
		{"bad runtime", "name: x\nruntime: lua\nsplits:\n  val: {file: a.csv}\n  test: {file: c.csv}\n", "runtime"},
		{"unknown split", "name: x\nsplits:\n  val: {file: a.csv}\n  test: {file: c.csv}\n  dev: {file: d.csv}\n", "unknown split"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := openMem(t, tc.spec, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

func TestBadData(t *testing.T) {
	tests := []struct {
		name string
		data fstest.MapFS
		want string
	}{
		{"ragged csv", fstest.MapFS{"public/train.csv": {Data: []byte("id,x,label\na,1\n")}}, "wrong number of fields"},
		{"duplicate id", fstest.MapFS{"public/train.csv": {Data: []byte("id,x,label\na,1,L\na,2,L\n")}}, "duplicate id"},
		{"missing id column", fstest.MapFS{"public/train.csv": {Data: []byte("key,x,label\na,1,L\n")}}, `no "id" field`},
		{"missing file", fstest.MapFS{}, "train.csv"},
		{"carve too big", fstest.MapFS{"public/train.csv": {Data: []byte("id,label\na,L\n")},
			"public/test.csv": {Data: []byte("id\nq\n")}, "private/test.csv": {Data: []byte("id,label\nq,L\n")}}, "leaves val empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tk, err := openMem(t, csvSpec, tc.data)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tk.Load(t.Context())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

func TestReadRecordsJSONShapes(t *testing.T) {
	fsys := fstest.MapFS{
		"a.json":  {Data: []byte(`[{"id": 1, "q": "x"}, {"id": 2.5, "q": "y"}]`)},
		"b.json":  {Data: []byte(`{"k1": {"q": "x"}, "k2": "ans"}`)},
		"c.jsonl": {Data: []byte("{\"id\":\"a\"}\n\n{\"id\":\"b\"}\n")},
		"d.jsonl": {Data: []byte("{\"id\":\"a\"}\n{oops\n")},
	}
	recs, err := ReadRecords(fsys, "a.json", "")
	if err != nil || scalarString(recs[0]["id"]) != "1" || scalarString(recs[1]["id"]) != "2.5" {
		t.Errorf("array: %v %v", recs, err)
	}
	recs, err = ReadRecords(fsys, "b.json", "")
	if err != nil || len(recs) != 2 || recs[0]["id"] != "k1" || recs[1]["label"] != "ans" {
		t.Errorf("object: %v %v", recs, err)
	}
	recs, err = ReadRecords(fsys, "c.jsonl", "")
	if err != nil || len(recs) != 2 {
		t.Errorf("jsonl: %v %v", recs, err)
	}
	if _, err := ReadRecords(fsys, "d.jsonl", ""); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad jsonl: %v", err)
	}
}

func TestParseSubmission(t *testing.T) {
	tests := []struct {
		name, file, body string
		want             map[string]string
		wantErr          string
	}{
		{"csv label column", "s.csv", "id,label\na,1\nb,2\n", map[string]string{"a": "1", "b": "2"}, ""},
		{"csv answer column", "s.csv", "id,answer\na,x\n", map[string]string{"a": "x"}, ""},
		{"csv no answer column", "s.csv", "id,foo\na,x\n", nil, "no \"label\""},
		{"csv header only, wrong columns", "s.csv", "id,x\n", nil, "no \"label\""},
		{"csv no id column", "s.csv", "key,label\na,1\n", nil, "no \"id\" column"},
		{"csv empty", "s.csv", "", nil, "empty file"},
		{"json object", "s.json", `{"a": "x", "b": 3}`, map[string]string{"a": "x", "b": "3"}, ""},
		{"json array", "s.json", `[{"id": "a", "answer": "x"}]`, map[string]string{"a": "x"}, ""},
		{"bad json", "s.json", `[{"id": `, nil, "s.json"},
		{"bad extension", "s.txt", "", nil, "must be .csv or .json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSubmission(tc.file, []byte(tc.body), "id", "label")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s: %q want %q", k, got[k], v)
				}
			}
		})
	}
}

// Data that would make a score mean something else fails to load, naming
// the file and the ids.
func TestLoadRefusesAmbiguousData(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec string
		data fstest.MapFS
		want string
	}{
		{"an id in train and test", csvSpec, fstest.MapFS{
			"public/train.csv": {Data: []byte("id,x,label\na,1,A\nb,2,B\nc,3,C\nd,4,D\n")},
			"public/test.csv":  {Data: []byte("id,x\na,9\n")},
			"private/test.csv": {Data: []byte("id,label\na,Z\n")},
		}, `id "a" is in both`},
		{"gold lacking ids", csvSpec, fstest.MapFS{
			"public/train.csv": {Data: []byte("id,x,label\na,1,A\nb,2,B\nc,3,C\nd,4,D\n")},
			"public/test.csv":  {Data: []byte("id,x\nq1,9\nq2,8\n")},
			"private/test.csv": {Data: []byte("id,label\nq1,Z\n")},
		}, "no label for 1 of 2 items (e.g. q2)"},
		{"duplicate gold ids", csvSpec, fstest.MapFS{
			"public/train.csv": {Data: []byte("id,x,label\na,1,A\nb,2,B\nc,3,C\nd,4,D\n")},
			"public/test.csv":  {Data: []byte("id,x\nq1,9\n")},
			"private/test.csv": {Data: []byte("id,label\nq1,Z\nq1,Y\n")},
		}, `duplicate id "q1"`},
		{"duplicate item ids", csvSpec, fstest.MapFS{
			"public/train.csv": {Data: []byte("id,x,label\na,1,A\na,2,B\nc,3,C\nd,4,D\n")},
			"public/test.csv":  {Data: []byte("id,x\nq1,9\n")},
			"private/test.csv": {Data: []byte("id,label\nq1,Z\n")},
		}, `duplicate id "a"`},
		{"negative item timeout", "item_timeout_s: -1\n" + csvSpec, csvData(8), "item_timeout_s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk, err := openMem(t, tc.spec, tc.data)
			if err == nil {
				_, err = tk.Load(t.Context())
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestClosestTaskName(t *testing.T) {
	names := []string{"cipher", "demo", "gpqa", "lawbench", "longcot-chess", "spaceship-titanic"}
	for in, want := range map[string]string{"dmeo": "demo", "spaceship": "", "spaceship-titanc": "spaceship-titanic",
		"lawbnch": "lawbench", "cypher": "cipher", "xyz": "", "longcot_chess": "longcot-chess"} {
		if got := closest(in, names); got != want {
			t.Errorf("closest(%q) = %q, want %q", in, got, want)
		}
	}
}
