package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunFolderIsPortable makes a run with a weight update and checks that
// its folder can be shared and moved: files are 0644 and folders 0755, no
// file names the machine's paths (the run folder, the base model cache),
// and the moved folder reads and resumes where it lands.
func TestRunFolderIsPortable(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the loop with a weight update")
	}
	root := t.TempDir()
	cache, runs := filepath.Join(root, "cache"), filepath.Join(root, "runs")
	env := map[string]string{"SIA_CACHE_DIR": cache, "SIA_DATA_DIR": filepath.Join(root, "data")}
	_, stderr, code := runCLI(t, env, "run", "--task", "demo", "--mode", "weights", "--max-gen", "2", "--samples", "2",
		"--train-items", "8", "--train-samples", "2", "--parallel", "2", "--runs-dir", runs)
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	dir := filepath.Join(runs, "run_1")
	adapters := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o644)
		if d.IsDir() {
			want = 0o755
		}
		if d.Name() == "run.lock" {
			return nil // held by a running process only
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", p, got, want)
		}
		if d.IsDir() {
			return nil
		}
		if d.Name() == "adapter_config.json" {
			adapters++
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, local := range []string{root, cache, runs} {
			if strings.Contains(string(b), local) {
				t.Errorf("%s names a path of this machine (%s)", p, local)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if adapters == 0 {
		t.Fatal("the run wrote no adapter: nothing portable was checked")
	}
	moved := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runCLI(t, env, "show", moved)
	if code != 0 || !strings.Contains(out, "held-out test") {
		t.Fatalf("show of the moved run: exit %d: %s%s", code, out, stderr)
	}
	_, stderr, code = runCLI(t, env, "run", "--resume", moved, "--max-gen", "3")
	if code != 0 {
		t.Fatalf("resume of the moved run: exit %d: %s", code, stderr)
	}
}
