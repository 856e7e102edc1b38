package data

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/task/bundled"
)

const sharedData = "../../shared/data"

func TestImportSharedData(t *testing.T) {
	if _, err := os.Stat(sharedData); err != nil {
		t.Skipf("shared data absent (%v): skipping the import of the development copy", err)
	}
	root := t.TempDir()
	opt := ImportOptions{ChessKnight: 4, ChessMoves: 2}
	reps, err := Import(t.Context(), sharedData, root, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 3 {
		t.Fatalf("imported %d tasks, want 3 (no gpqa in the shared copy)", len(reps))
	}
	reg, err := bundled.Registry()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ train, val, test int }{
		// 7,823 rows: 782 to test, 7,041 left, 704 of them to val.
		"spaceship-titanic": {6337, 704, 782},
		// 300 dev + 333 single-charge 3-3 = 633: 127 to test, 506 left, 51 to val.
		"lawbench": {455, 51, 127},
		// train.json 40 generated: 10 to val; test 4 examples + 6 generated.
		"longcot-chess": {30, 10, 10},
	}
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			tk, err := reg.Open(name, task.Options{DataRoot: root})
			if err != nil {
				t.Fatal(err)
			}
			if m := tk.MissingData(); len(m) != 0 {
				t.Fatalf("missing %v", m)
			}
			ds, err := tk.Load(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			gold := ds.Gold(task.Test)
			if len(ds.Train) != w.train || len(ds.Items(task.Val)) != w.val || len(gold) != w.test {
				t.Fatalf("train %d val %d test %d, want %+v", len(ds.Train), len(ds.Items(task.Val)), len(gold), w)
			}
			// Held out: no test id in train or val; no label in test items.
			seen := map[string]bool{}
			for _, e := range ds.Train {
				seen[e.ID] = true
			}
			for _, it := range ds.Items(task.Val) {
				seen[it.ID] = true
			}
			for _, it := range ds.Items(task.Test) {
				if seen[it.ID] {
					t.Fatalf("test item %s also in train/val", it.ID)
				}
				if _, ok := it.Fields[tk.Spec.Items.Label]; ok {
					t.Fatalf("test item %s carries its label", it.ID)
				}
			}
			// Scoring gold against itself gives 1.
			v, _ := tk.Verifier(task.Test)
			res, err := v.Verify(t.Context(), gold, gold)
			if err != nil || res.Score != 1 {
				t.Fatalf("gold vs gold: %v %v", res.Score, err)
			}
		})
	}
	// The same seed gives the same layout.
	root2 := t.TempDir()
	if _, err := Import(t.Context(), sharedData, root2, opt); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"spaceship-titanic/private/test.csv", "lawbench/private/test.csv", "longcot-chess/private/answers.json"} {
		a, _ := os.ReadFile(filepath.Join(root, f))
		b, _ := os.ReadFile(filepath.Join(root2, f))
		if string(a) != string(b) || len(a) == 0 {
			t.Fatalf("%s differs between two imports with one seed", f)
		}
	}
}

func TestImportErrors(t *testing.T) {
	empty := t.TempDir()
	if _, err := Import(t.Context(), empty, t.TempDir(), ImportOptions{}); !errors.Is(err, ErrNoData) {
		t.Fatalf("empty source: err = %v", err)
	}
	// A broken task folder leaves the previous layout in place.
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "spaceship-titanic"), 0o755)
	os.WriteFile(filepath.Join(src, "spaceship-titanic", "train.csv"), []byte("a,b\n1,2\n"), 0o644)
	root := t.TempDir()
	prev := filepath.Join(root, "spaceship-titanic", "public", "train.csv")
	os.MkdirAll(filepath.Dir(prev), 0o755)
	os.WriteFile(prev, []byte("kept"), 0o644)
	_, err := Import(t.Context(), src, root, ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "PassengerId") {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(prev); string(b) != "kept" {
		t.Fatal("a failed import replaced the previous data")
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
	if _, err := Import(t.Context(), src, root, ImportOptions{Tasks: []string{"nope"}}); err == nil {
		t.Fatal("unknown task accepted")
	}
}
