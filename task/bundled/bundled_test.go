package bundled

import (
	"testing"

	"github.com/sia-agent/sia/task"
)

func TestRegistry(t *testing.T) {
	r, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cipher", "cipher-split", "demo", "gpqa", "lawbench", "longcot-chess", "spaceship-titanic"}
	got := r.Names()
	if len(got) != len(want) {
		t.Fatalf("names %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("names %v, want %v", got, want)
		}
	}
	// Every task opens without data, names its missing files, and has a
	// reference harness and a Go verifier.
	for _, name := range want {
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
		})
	}
}
