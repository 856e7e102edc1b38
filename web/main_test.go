package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/sia-agent/sia/report/reporttest"
)

// fixtureRuns holds run_1, a real run (report/reporttest: the loop on the
// demo task with the demo's pretrained base, a harness edit, then a weight
// update), shared read-only by the tests here. Tests that change files
// copy it first.
var fixtureRuns string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "web-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fixtureRuns = dir
	code := 1
	if _, err := reporttest.MakeRun(context.Background(), dir, reporttest.Options{}); err != nil {
		fmt.Fprintln(os.Stderr, "make run:", err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// copyDir copies a folder tree.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if info.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
