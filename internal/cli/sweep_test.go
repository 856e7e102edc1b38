package cli

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseSeeds(t *testing.T) {
	tests := []struct {
		in      string
		want    []int64
		wantErr string
	}{
		{"1-6", []int64{1, 2, 3, 4, 5, 6}, ""},
		{"1,3,5", []int64{1, 3, 5}, ""},
		{"1-3,7, 9-10", []int64{1, 2, 3, 7, 9, 10}, ""},
		{"4", []int64{4}, ""},
		{"3-1", nil, "range"},
		{"1-3,2", nil, "twice"},
		{"a-b", nil, "want seeds"},
		{"", nil, "want seeds"},
		{"1-5000", nil, "more than 1000"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseSeeds(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("%v (%v), want %v", got, err, tc.want)
			}
		})
	}
}

// TestSweepAndCompare runs a 3-seed sweep of a harness that never calls a
// model (nothing is pretrained), runs it again (nothing to do), extends it
// by a seed, refuses other flags under the same name, and compares it with
// a second sweep.
func TestSweepAndCompare(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sia processes")
	}
	h := filepath.Join(t.TempDir(), "letters.star")
	if err := os.WriteFile(h, []byte(letterHarness), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := t.TempDir()
	t.Setenv("SIA_CLI_TEST_MAIN", "1") // the sweep's runs are this test binary, as sia
	t.Setenv("SIA_CACHE_DIR", t.TempDir())
	args := []string{"sweep", "--task", "demo", "--mode", "harness", "--harness", h, "--max-gen", "2", "--runs-dir", runs, "--jobs", "2"}
	out, stderr, code := runCLI(t, nil, append(args, "--seeds", "1-3")...)
	if code != 0 {
		t.Fatalf("sweep: exit %d\n%s\n%s", code, stderr, out)
	}
	dir := filepath.Join(runs, "sweep_demo_harness")
	for _, s := range []string{"1", "2", "3"} {
		if _, err := os.Stat(filepath.Join(dir, "run_"+s, "best", "test_results.json")); err != nil {
			t.Errorf("seed %s: %v", s, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "logs", "run_"+s+".log")); err != nil {
			t.Errorf("seed %s log: %v", s, err)
		}
	}
	for _, want := range []string{"test: the final incumbent's held-out test score, by seed", "sweep_demo_harness", "mean", "SE", "3 runs (3 finished)", "selection val − fresh samples"} {
		if !strings.Contains(out, want) {
			t.Errorf("sweep summary lacks %q:\n%s", want, out)
		}
	}
	// Again, and with one more seed: only seed 4 runs.
	_, stderr, code = runCLI(t, nil, append(args, "--seeds", "1-4")...)
	if code != 0 || strings.Count(stderr, "finished before") != 3 || !strings.Contains(stderr, "seed 4: run --seed") {
		t.Fatalf("second sweep: exit %d\n%s", code, stderr)
	}
	// The same name with other flags is refused, before any run.
	_, stderr, code = runCLI(t, nil, append(args, "--seeds", "5", "--samples", "2")...)
	if code != ExitUsage || !strings.Contains(stderr, "pass --name") {
		t.Fatalf("other flags, same name: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "run_5")); err == nil {
		t.Error("a refused sweep started a run")
	}
	// A second sweep that differs in the harness's letter knob: paired by seed.
	hdir := t.TempDir()
	if err := os.WriteFile(filepath.Join(hdir, "harness.star"), []byte(letterHarness), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(hdir, "knobs.json"), []byte(`{"letter": "e"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	args2 := []string{"sweep", "--name", "e", "--task", "demo", "--mode", "harness", "--harness", hdir,
		"--max-gen", "1", "--runs-dir", runs, "--seeds", "1-3", "--jobs", "1"}
	if _, stderr, code := runCLI(t, nil, args2...); code != 0 {
		log, _ := os.ReadFile(filepath.Join(runs, "sweep_e", "logs", "run_1.log"))
		t.Fatalf("second sweep: exit %d\n%s\nrun_1.log:\n%s", code, stderr, log)
	}
	csvPath := filepath.Join(t.TempDir(), "cmp.csv")
	out, stderr, code = runCLI(t, nil, "compare", dir, "e", "--runs-dir", runs, "--metric", "val", "--csv", csvPath)
	if code != 0 {
		t.Fatalf("compare: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"val: ", "sweep_e − sweep_demo_harness:", "over 3 seeds", "paired SE"} {
		if !strings.Contains(out, want) {
			t.Errorf("compare lacks %q:\n%s", want, out)
		}
	}
	// Every header cell is apart from the next, "− label" cells included.
	if header := strings.SplitN(out, "\n", 4)[2]; !strings.Contains(header, "sweep_e  ") || strings.Contains(header, "harnesssweep") {
		t.Errorf("compare's header runs cells together: %q", header)
	}
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != 1+4+3 || rows[0][0] != "label" || rows[0][4] != "test" {
		t.Fatalf("csv %v (%v): want a header and 7 runs", rows, err)
	}
	_, stderr, code = runCLI(t, nil, "compare", filepath.Join(runs, "nothing"))
	if code == 0 || strings.Count(stderr, "\n") != 1 {
		t.Errorf("compare of a missing folder: exit %d %q", code, stderr)
	}
}

func TestPairedDiff(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	a := compareColumn{Label: "a", Runs: []runNumbers{{Seed: 1, Test: f(0.5)}, {Seed: 2, Test: f(0.6)}, {Seed: 3, Test: f(0.7)}, {Seed: 4, Test: f(0.1)}}}
	b := compareColumn{Label: "b", Runs: []runNumbers{{Seed: 1, Test: f(0.6)}, {Seed: 2, Test: f(0.6)}, {Seed: 3, Test: f(0.9)}, {Seed: 5, Test: f(0.9)}}}
	d := pairedDiff(a, b, "test")
	// seeds 1-3 in both: differences 0.1, 0, 0.2: mean 0.1, SE 0.1/√3
	if d.N != 3 || d.Wins != 2 || d.Ties != 1 || d.Losses != 0 || !close(d.Mean, 0.1) || !close(d.SE, 0.0577350269) {
		t.Errorf("%+v", d)
	}
}

func close(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
