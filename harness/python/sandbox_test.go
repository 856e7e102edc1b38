package python

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The sandbox masks hidden folders and makes everything but the working dir
// read-only.
func TestSandboxMasksHiddenAndReadOnly(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed (.ci/run installs it)")
	}
	if !SandboxAvailable() {
		t.Skip("bubblewrap (bwrap) is not installed or cannot run here (.ci/run installs it)")
	}
	root := t.TempDir()
	private := filepath.Join(root, "private")
	outside := filepath.Join(root, "outside")
	for _, d := range []string{private, outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(private, "test.csv"), []byte("id,label\nq1,SECRET\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(root, "dataset")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	script := `import os, argparse
p = argparse.ArgumentParser(); p.add_argument("--dataset_dir"); p.add_argument("--working_dir"); a = p.parse_args()
out = []
out.append("private=" + ",".join(os.listdir(` + pyQuote(private) + `)))
try:
    open(` + pyQuote(filepath.Join(outside, "x")) + `, "w").write("escaped")
    out.append("outside=written")
except OSError:
    out.append("outside=refused")
open(os.path.join(a.working_dir, "result.txt"), "w").write(";".join(out))
`
	work := filepath.Join(root, "work")
	res, err := Run(t.Context(), RunConfig{Script: []byte(script), DatasetDir: data, WorkingDir: work, Timeout: 30 * time.Second,
		Sandbox: true, Hidden: []string{private}})
	if err != nil {
		b, _ := os.ReadFile(filepath.Join(work, LogName))
		t.Fatalf("%v (exit %v)\n%s", err, res, b)
	}
	got, err := os.ReadFile(filepath.Join(work, "result.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "private=;outside=refused" {
		t.Errorf("sandboxed script saw %q, want the private folder empty and writes outside refused", got)
	}
	if _, err := os.Stat(filepath.Join(outside, "x")); err == nil {
		t.Error("the script wrote outside its working dir")
	}
}

func pyQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }
