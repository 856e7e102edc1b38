package bundled

import (
	"io/fs"
	"os"
	"slices"
	"testing"

	"github.com/sia-agent/sia/task"
)

// TestRegistry checks every registered task, and that the registry and the
// task folders here agree: a folder with a task.yaml is registered under
// its folder's name, and every registered name has its folder.
func TestRegistry(t *testing.T) {
	r, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	names := r.Names()
	if len(names) == 0 || !slices.IsSorted(names) {
		t.Fatalf("names %v: want a sorted, non-empty list", names)
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var folders []string
	for _, e := range entries {
		if _, err := os.Stat(e.Name() + "/task.yaml"); e.IsDir() && err == nil {
			folders = append(folders, e.Name())
		}
	}
	if !slices.Equal(folders, names) {
		t.Fatalf("task folders %v, registered %v: register each folder's Bundle in bundled.go, under the folder's name", folders, names)
	}
	// Every task opens without data, names its missing files, and has a
	// reference harness and a Go verifier.
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			tk, err := r.Open(name, task.Options{DataRoot: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if tk.Spec.Name != name {
				t.Fatalf("spec name %q", tk.Spec.Name)
			}
			if _, src, err := tk.ReferenceHarness(); err != nil || len(src) == 0 {
				t.Fatalf("reference harness: %v (%d bytes)", err, len(src))
			}
			if doc, err := tk.Doc(); err != nil || len(doc) < 200 {
				t.Fatalf("task.md: %v (%d bytes)", err, len(doc))
			}
			if tk.Bundle.Scorer == nil {
				t.Fatal("no Go scorer")
			}
			if tk.Bundle.Generate == nil && len(tk.MissingData()) == 0 {
				t.Fatal("no data present yet nothing reported missing")
			}
			// Fields a bundled task never reads would mislead its reader.
			yaml, err := fs.ReadFile(tk.Files, "task.yaml")
			if err != nil {
				t.Fatal(err)
			}
			raw, err := task.ParseSpec(yaml)
			if err != nil {
				t.Fatal(err)
			}
			if raw.Verifier != "" {
				t.Errorf("task.yaml sets verifier: %s, but a bundled task is scored by its Bundle's Scorer: remove it", raw.Verifier)
			}
			if raw.Generator != "" {
				t.Errorf("task.yaml sets generator: %s, which nothing reads (a bundled task's data comes from Bundle.Generate): remove it", raw.Generator)
			}
		})
	}
}
