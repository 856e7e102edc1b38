package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sia-agent/sia/llm/embedded"
)

const basesDir = "../../bases"

func readManifest(t *testing.T) []entry {
	t.Helper()
	es, err := readManifestFile(filepath.Join(basesDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestShippedBasesMatchTheirTasks: every shipped base is for its task's
// current corpus and configuration (else sia would silently pretrain on the
// first run again) and its file has the recorded hash; the demo's base
// ships.
func TestShippedBasesMatchTheirTasks(t *testing.T) {
	es := readManifest(t)
	demo := false
	for _, e := range es {
		demo = demo || e.Task == "demo"
		corpus, err := taskCorpus(e.Task)
		if err != nil {
			t.Fatal(err)
		}
		if key := embedded.CacheKey(corpus, embedded.DemoBase()); key != e.Key {
			t.Errorf("%s: shipped base is for key %s, the task's corpus and DemoBase now give %s: rerun go run ./llm/embedded/internal/mkbase", e.Task, e.Key, key)
		}
		sum, err := fileSHA256(filepath.Join(basesDir, e.File))
		if err != nil {
			t.Fatal(err)
		}
		if sum != e.SHA256 {
			t.Errorf("%s: %s has sha256 %s, manifest says %s", e.Task, e.File, sum, e.SHA256)
		}
		if e.MadeBy == "" {
			t.Errorf("%s: the manifest does not say how to reproduce it", e.Task)
		}
	}
	if !demo {
		t.Error("no shipped base for the demo task (the README's first command would pretrain)")
	}
}

// TestReproduce pretrains every shipped base that mkbase made again and
// compares the bytes (about a minute per base on two cores; set
// SIA_MKBASE_REPRO=1). Bases made otherwise name their own command
// (legacy.sh for the demo's).
func TestReproduce(t *testing.T) {
	if os.Getenv("SIA_MKBASE_REPRO") == "" {
		t.Skip("pretrains every shipped base again; set SIA_MKBASE_REPRO=1")
	}
	var es []entry
	var tasks []string
	for _, e := range readManifest(t) {
		if e.MadeBy == madeBy(e.Task) {
			es = append(es, e)
			tasks = append(tasks, e.Task)
		}
	}
	if len(es) == 0 {
		t.Skip("no shipped base was made by mkbase")
	}
	out := t.TempDir()
	if err := run(t.Context(), out, tasks, os.Stderr); err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		sum, err := fileSHA256(filepath.Join(out, e.File))
		if err != nil {
			t.Fatal(err)
		}
		if sum != e.SHA256 {
			t.Errorf("%s: pretrained again to sha256 %s, shipped %s", e.Task, sum, e.SHA256)
		}
	}
}
