package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func parseRun(t *testing.T, args ...string) (*runOptions, error) {
	t.Helper()
	o := &runOptions{}
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	bindRunFlags(fs, o)
	fs.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		return pflag.NormalizedName(strings.ReplaceAll(name, "_", "-"))
	})
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return o, o.validate()
}

func TestRunFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(*runOptions) bool
	}{
		{"defaults", []string{"--task", "demo"}, "", func(o *runOptions) bool {
			return o.MaxGen == 3 && o.RunID == "1" && o.Mode == "auto" && o.RunsDir == "runs" && o.Samples == 1 &&
				o.MetaProfile == "builtin" && o.TargetProfile == "embedded" && o.Trainer == "auto" && !o.Resume
		}},
		{"SIA aliases", []string{"--task", "lawbench", "--max_gen", "5", "--run_id", "7"}, "", func(o *runOptions) bool {
			return o.MaxGen == 5 && o.RunID == "7"
		}},
		{"task_dir alias", []string{"--task_dir", "/x"}, "", func(o *runOptions) bool { return o.TaskDir == "/x" }},
		{"all flags", []string{"--task", "demo", "--mode", "harness", "--samples", "3", "--parallel", "2", "--seed", "9",
			"--resume", "--algorithm", "grpo", "--trainer", "none", "--item-timeout", "5s", "--budget-usd", "1.5"}, "",
			func(o *runOptions) bool {
				return o.Mode == "harness" && o.Samples == 3 && o.Parallel == 2 && o.Seed == 9 && o.Resume &&
					o.Algorithm == "grpo" && o.Trainer == "none" && o.ItemTimeout.Seconds() == 5 && o.BudgetUSD == 1.5
			}},
		{"no task", nil, "exactly one of --task", nil},
		{"both task forms", []string{"--task", "a", "--task-dir", "b"}, "exactly one of --task", nil},
		{"bad mode", []string{"--task", "a", "--mode", "both"}, "--mode", nil},
		{"bad algorithm", []string{"--task", "a", "--algorithm", "sgd"}, "unknown algorithm", nil},
		{"bad trainer", []string{"--task", "a", "--trainer", "gpu"}, "--trainer", nil},
		{"bad adapter server", []string{"--task", "a", "--adapter-server", "sglang"}, "--adapter-server \"sglang\": want auto or vllm", nil},
		{"bad max-gen", []string{"--task", "a", "--max-gen", "0"}, "--max-gen", nil},
		{"bad run id", []string{"--task", "a", "--run-id", "../x"}, "--run-id", nil},
		{"dpo nll", []string{"--task", "a", "--dpo-nll", "0.5"}, "", func(o *runOptions) bool { return o.DPONLL == 0.5 }},
		{"bad dpo nll", []string{"--task", "a", "--dpo-nll", "-1"}, "--dpo-nll", nil},
		{"selection defaults", []string{"--task", "a"}, "", func(o *runOptions) bool {
			return o.Accept == "any" && o.ConfirmFrac == 0.25 && o.Candidates == 1 && o.CandidateBudget == 0 && o.LeverChoice == "bandit"
		}},
		{"selection flags", []string{"--task", "a", "--accept", "0.05", "--confirm-frac", "0", "--candidates", "4", "--candidate-budget", "96", "--lever-choice", "rules"}, "",
			func(o *runOptions) bool {
				return o.Accept == "0.05" && o.ConfirmFrac == 0 && o.Candidates == 4 && o.CandidateBudget == 96 && o.LeverChoice == "rules"
			}},
		{"bad accept", []string{"--task", "a", "--accept", "sometimes"}, "--accept", nil},
		{"accept out of range", []string{"--task", "a", "--accept", "0.7"}, "--accept", nil},
		{"bad confirm frac", []string{"--task", "a", "--confirm-frac", "0.9"}, "--confirm-frac", nil},
		{"bad candidates", []string{"--task", "a", "--candidates", "0"}, "--candidates", nil},
		{"bad lever choice", []string{"--task", "a", "--lever-choice", "coin"}, "--lever-choice", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseRun(t, tc.args...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(o) {
				t.Errorf("options %+v", o)
			}
		})
	}
}

func TestDefaultToRun(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--task", "x"}, "run --task x"},
		{[]string{"show", "d"}, "show d"},
		{[]string{"--help"}, "--help"},
		{nil, ""},
	}
	for _, tc := range tests {
		got := strings.Join(defaultToRun(nil, tc.args), " ")
		if got != tc.want {
			t.Errorf("%v → %q, want %q", tc.args, got, tc.want)
		}
	}
}

func runCLI(t *testing.T, env map[string]string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, Streams{In: strings.NewReader(""), Out: &out, Err: &errb},
		func(k string) string { return env[k] })
	return out.String(), errb.String(), code
}

func TestOneLineErrors(t *testing.T) {
	_, stderr, code := runCLI(t, nil, "run", "--task", "no-such-task")
	if code == 0 || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "sia: ") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
	_, stderr, code = runCLI(t, nil, "show", t.TempDir())
	if code == 0 || !strings.Contains(stderr, "not a run folder") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
}

func TestHelpListsEnv(t *testing.T) {
	out, _, code := runCLI(t, nil, "--help")
	if code != 0 || !strings.Contains(out, "SIA_DATA_DIR") || !strings.Contains(out, "run") {
		t.Fatalf("help: %d %q", code, out)
	}
}

func TestTasksJSON(t *testing.T) {
	out, stderr, code := runCLI(t, map[string]string{"SIA_DATA_DIR": t.TempDir()}, "tasks", "--json")
	if code != 0 {
		t.Fatalf("%d %s", code, stderr)
	}
	var v struct {
		FormatVersion int `json:"format_version"`
		Tasks         []struct {
			Name string `json:"name"`
		} `json:"tasks"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.FormatVersion != 1 {
		t.Fatalf("%v %q", err, out)
	}
}

func TestMissingAPIKeyFailsBeforeAnyWork(t *testing.T) {
	runs := t.TempDir()
	env := map[string]string{"SIA_CONFIG_DIR": t.TempDir(), "SIA_CACHE_DIR": t.TempDir()}
	for _, args := range [][]string{
		{"run", "--task", "demo", "--meta-profile", "anthropic", "--runs-dir", runs},
		{"run", "--task", "demo", "--target-profile", "openai", "--runs-dir", runs},
	} {
		_, stderr, code := runCLI(t, env, args...)
		if code == 0 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "_API_KEY") {
			t.Errorf("%v: code %d stderr %q", args, code, stderr)
		}
	}
	if entries, _ := os.ReadDir(runs); len(entries) != 0 {
		t.Errorf("a run folder was created before the configuration was checked: %v", entries)
	}
}

func TestWeightsModeNeedsATrainer(t *testing.T) {
	runs := t.TempDir()
	_, stderr, code := runCLI(t, map[string]string{"SIA_CACHE_DIR": t.TempDir()}, "run", "--task", "demo", "--mode", "weights", "--trainer", "none", "--runs-dir", runs)
	if code == 0 || !strings.Contains(stderr, "needs a trainer") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
	if entries, _ := os.ReadDir(runs); len(entries) != 0 {
		t.Errorf("run folder created: %v", entries)
	}
}

// TestRunFromGivenHarness starts a run from a harness folder (a run's best/
// layout: harness.star + knobs.json) instead of the Meta-Agent's. The
// harness never calls the model, so nothing is pretrained.
// letterHarness answers every demo item by filling its gaps with one letter
// (a knob): it never calls the model, so nothing is pretrained.
const letterHarness = "KNOBS = {\"letter\": [\"a\", \"e\"]}\n\ndef setup(ctx):\n    pass\n\ndef solve(item):\n    return item[\"pattern\"].replace(\"_\", knobs[\"letter\"])\n"

func TestRunFromGivenHarness(t *testing.T) {
	dir := t.TempDir()
	code := letterHarness
	if err := os.WriteFile(filepath.Join(dir, "harness.star"), []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "knobs.json"), []byte(`{"letter": "e"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := t.TempDir()
	env := map[string]string{"SIA_CACHE_DIR": t.TempDir()}
	_, stderr, exit := runCLI(t, env, "run", "--task", "demo", "--mode", "harness", "--max-gen", "1", "--harness", dir, "--runs-dir", runs)
	if exit != 0 {
		t.Fatalf("exit %d: %s", exit, stderr)
	}
	got, err := os.ReadFile(filepath.Join(runs, "run_1", "gen_1", "harness.star"))
	if err != nil || string(got) != code {
		t.Fatalf("gen 1 harness %q (%v), want the given one", got, err)
	}
	knobs, err := os.ReadFile(filepath.Join(runs, "run_1", "gen_1", "knobs.json"))
	if err != nil || !strings.Contains(string(knobs), `"letter": "e"`) {
		t.Fatalf("gen 1 knobs %s (%v), want the given ones", knobs, err)
	}
	var cfg struct {
		InitialHarness string `json:"initial_harness"`
	}
	b, _ := os.ReadFile(filepath.Join(runs, "run_1", "run.json"))
	if err := json.Unmarshal(b, &cfg); err != nil || cfg.InitialHarness != dir {
		t.Errorf("run.json initial_harness %q (%v), want %q", cfg.InitialHarness, err, dir)
	}

	py := filepath.Join(t.TempDir(), "agent.py")
	if err := os.WriteFile(py, []byte("print(1)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runs2 := t.TempDir()
	_, stderr, exit = runCLI(t, env, "run", "--task", "demo", "--harness", py, "--runs-dir", runs2)
	if exit == 0 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "runs starlark harnesses") {
		t.Fatalf("a python harness for a starlark task: exit %d stderr %q", exit, stderr)
	}
	if entries, _ := os.ReadDir(runs2); len(entries) != 0 {
		t.Errorf("run folder created before the harness was checked: %v", entries)
	}
}

// TestResumeExtendsARun finishes a 1-generation run, then resumes it with
// --max-gen 3: the run goes on from where it stopped. Lowering --max-gen is
// refused.
func TestResumeExtendsARun(t *testing.T) {
	h := filepath.Join(t.TempDir(), "letters.star")
	if err := os.WriteFile(h, []byte(letterHarness), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := t.TempDir()
	env := map[string]string{"SIA_CACHE_DIR": t.TempDir()}
	args := []string{"run", "--task", "demo", "--mode", "harness", "--harness", h, "--runs-dir", runs}
	if _, stderr, exit := runCLI(t, env, append(args, "--max-gen", "1")...); exit != 0 {
		t.Fatalf("exit %d: %s", exit, stderr)
	}
	out, stderr, exit := runCLI(t, env, append(args, "--max-gen", "3", "--resume")...)
	if exit != 0 || !strings.Contains(stderr, "extended to 3 generations") {
		t.Fatalf("extend: exit %d: %s", exit, stderr)
	}
	if _, err := os.Stat(filepath.Join(runs, "run_1", "gen_2", "knobs.json")); err != nil {
		t.Fatalf("no gen 2 after extending: %v\n%s", err, out)
	}
	var cfg struct {
		MaxGen int `json:"max_gen"`
	}
	b, _ := os.ReadFile(filepath.Join(runs, "run_1", "run.json"))
	if err := json.Unmarshal(b, &cfg); err != nil || cfg.MaxGen != 3 {
		t.Errorf("run.json max_gen %d (%v), want 3", cfg.MaxGen, err)
	}
	_, stderr, exit = runCLI(t, env, append(args, "--max-gen", "2", "--resume")...)
	if exit != ExitUsage || !strings.Contains(stderr, "was started with --max-gen 3, not 2") {
		t.Fatalf("lowering --max-gen: exit %d: %s", exit, stderr)
	}
}

// sia run --resume RUN_DIR needs no flag again: the run's own are in
// run.json; a flag that contradicts them is refused, naming both values.
func TestResumeFromTheRunFolder(t *testing.T) {
	h := t.TempDir()
	if err := os.WriteFile(filepath.Join(h, "harness.star"), []byte(letterHarness), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := t.TempDir()
	env := map[string]string{"SIA_CACHE_DIR": t.TempDir()}
	first, stderr, exit := runCLI(t, env, "run", "--task", "demo", "--mode", "harness", "--harness", h, "--runs-dir", runs,
		"--run-id", "7", "--seed", "3", "--samples", "2", "--max-gen", "2")
	if exit != 0 {
		t.Fatalf("exit %d: %s", exit, stderr)
	}
	dir := filepath.Join(runs, "run_7")
	again, stderr, exit := runCLI(t, env, "run", "--resume", dir)
	if exit != 0 {
		t.Fatalf("resume by folder: exit %d: %s", exit, stderr)
	}
	if strings.TrimSpace(again) != strings.TrimSpace(first) {
		t.Errorf("resuming a finished run changed its summary:\n%s\nwant\n%s", again, first)
	}
	_, stderr, exit = runCLI(t, env, "run", "--resume", dir, "--seed", "4")
	if exit != ExitUsage || !strings.Contains(stderr, "--seed 3, not 4") {
		t.Errorf("contradicting flag: exit %d: %s", exit, stderr)
	}
	_, stderr, exit = runCLI(t, env, "run", dir)
	if exit != ExitUsage || !strings.Contains(stderr, "goes with --resume") {
		t.Errorf("folder without --resume: exit %d: %s", exit, stderr)
	}
}

// Bad input fails with one line, before any run folder exists.
func TestBadInputFailsBeforeAnyWork(t *testing.T) {
	runs := t.TempDir()
	env := map[string]string{"SIA_CACHE_DIR": t.TempDir()}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--item-timeout", "-1s"}, "--item-timeout"},
		{[]string{"--sandbox", "docker"}, "bubblewrap"},
		{[]string{"--train-rounds", "0"}, "--train-rounds"},
		{[]string{"--budget-usd", "-1"}, "--budget-usd"},
	} {
		args := append([]string{"run", "--task", "demo", "--runs-dir", runs}, tc.args...)
		_, stderr, code := runCLI(t, env, args...)
		if code == 0 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: code %d stderr %q", tc.args, code, stderr)
		}
	}
	if entries, _ := os.ReadDir(runs); len(entries) != 0 {
		t.Errorf("a run folder was created: %v", entries)
	}
}

// sia verify never overwrites its input, and a submission for the wrong
// split is an error, not a score of 0.
func TestVerifyProtectsItsInput(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "results.json")
	body := `[{"id": "val-000", "word": "x"}]`
	if err := os.WriteFile(sub, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, nil, "verify", "--task", "demo", "--submission", sub, "--split", "val")
	if code == 0 || !strings.Contains(stderr, "overwrite the submission") {
		t.Errorf("code %d stderr %q", code, stderr)
	}
	if b, _ := os.ReadFile(sub); string(b) != body {
		t.Errorf("the submission changed: %q", b)
	}
	other := filepath.Join(dir, "sub.json")
	if err := os.WriteFile(other, []byte(`[{"id": "nope-1", "word": "x"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = runCLI(t, nil, "verify", "--task", "demo", "--submission", other, "--split", "val", "--out", filepath.Join(dir, "r.json"))
	if code == 0 || !strings.Contains(stderr, "none of the submission's 1 ids") || strings.Contains(stderr, "map[") {
		t.Errorf("code %d stderr %q", code, stderr)
	}
}

// pythonTask is a SIA-contract task whose harness answers x+1 without a
// model.
func pythonTask(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var train, test, gold strings.Builder
	train.WriteString("id,x,label\n")
	test.WriteString("id,x\n")
	gold.WriteString("id,label\n")
	for i := range 10 {
		fmt.Fprintf(&train, "t%d,%d,%d\n", i, i, i+1)
	}
	for i := range 3 {
		fmt.Fprintf(&test, "q%d,%d\n", i, 50+i)
		fmt.Fprintf(&gold, "q%d,%d\n", i, 51+i)
	}
	files := map[string]string{
		"task.yaml": "name: pyplus\nruntime: python\nsubmission: submission.csv\nsplits:\n  train: {file: public/train.csv}\n" +
			"  val: {carve_from: train, count: 3, seed: 1}\n  test: {file: public/test.csv, gold: {file: private/test.csv}}\n",
		"task.md": "Answer x+1.\n",
		"reference/target_agent.py": `import csv, os, sys
ds, wd = sys.argv[sys.argv.index("--dataset_dir")+1], sys.argv[sys.argv.index("--working_dir")+1]
rows = list(csv.DictReader(open(os.path.join(ds, "test.csv"))))
with open(os.path.join(wd, "submission.csv"), "w") as f:
    f.write("id,label\n" + "".join("%s,%d\n" % (r["id"], int(r["x"]) + 1) for r in rows))
`,
		"data/public/train.csv": train.String(), "data/public/test.csv": test.String(), "data/private/test.csv": gold.String(),
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Without bubblewrap a python harness runs only when the user says
// --sandbox none, and the run says so.
func TestNoSandboxNoSilentRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs python harnesses through sia run; .ci/run runs it")
	}
	real, err := exec.Command("python3", "-c", "import os, sys; print(os.path.realpath(sys.executable))").Output()
	if err != nil {
		t.Skip("python3 is not installed (.ci/run installs it)")
	}
	py := strings.TrimSpace(string(real)) // the interpreter itself, not a pyenv shim
	bin := t.TempDir()                    // a PATH with the tools sia needs, but no bwrap
	for _, tool := range []string{"prlimit", "setpriv", "sh"} {
		if p, err := exec.LookPath(tool); err == nil {
			os.Symlink(p, filepath.Join(bin, tool))
		}
	}
	os.Symlink(py, filepath.Join(bin, "python3"))
	t.Setenv("PATH", bin)
	taskDir, runs := pythonTask(t), t.TempDir()
	_, stderr, code := runCLI(t, nil, "run", "--task-dir", taskDir, "--max-gen", "1", "--mode", "harness", "--runs-dir", runs)
	if code == 0 || !strings.Contains(stderr, "--sandbox none") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("without bwrap: code %d stderr %q", code, stderr)
	}
	if entries, _ := os.ReadDir(runs); len(entries) != 0 {
		t.Fatalf("a run folder was created: %v", entries)
	}
	out, stderr, code := runCLI(t, nil, "run", "--task-dir", taskDir, "--max-gen", "1", "--mode", "harness", "--runs-dir", runs, "--sandbox", "none")
	if code != 0 || !strings.Contains(out, "UNSANDBOXED") || !strings.Contains(out, "held-out test: 1.0000") {
		t.Fatalf("--sandbox none: code %d\n%s\n%s", code, out, stderr)
	}
	out, _, _ = runCLI(t, nil, "show", filepath.Join(runs, "run_1"))
	if !strings.Contains(out, "UNSANDBOXED") {
		t.Errorf("sia show does not mark the run:\n%s", out)
	}
}

// Exit codes say what happened: 2 for a bad call, 3 for a run whose
// rollout failed on every item, 130 for an interrupt.
func TestExitCodes(t *testing.T) {
	runs := t.TempDir()
	env := map[string]string{"SIA_CACHE_DIR": t.TempDir()}
	_, stderr, code := runCLI(t, env, "run", "--bogus")
	if code != ExitUsage {
		t.Errorf("unknown flag: code %d (%q), want %d", code, stderr, ExitUsage)
	}
	_, stderr, code = runCLI(t, env, "run", "--task", "demo", "--mode", "both", "--runs-dir", runs)
	if code != ExitUsage {
		t.Errorf("bad --mode: code %d (%q), want %d", code, stderr, ExitUsage)
	}
	_, stderr, code = runCLI(t, env, "run", "--task", "dmeo", "--runs-dir", runs)
	if code != ExitError || !strings.Contains(stderr, `did you mean "demo"`) {
		t.Errorf("mistyped task: code %d %q", code, stderr)
	}
	out, _, code := runCLI(t, env, "--version")
	if code != ExitOK || !strings.HasPrefix(out, "sia ") {
		t.Errorf("--version: code %d %q", code, out)
	}

	dir := t.TempDir()
	broken := "def setup(ctx):\n    fail('the model server is down')\n\ndef solve(item):\n    return 'x'\n"
	if err := os.WriteFile(filepath.Join(dir, "harness.star"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = runCLI(t, env, "run", "--task", "demo", "--harness", dir, "--max-gen", "2", "--runs-dir", runs, "--run-id", "broken")
	if code != ExitAllFailed || !strings.Contains(stderr, "every item failed") || !strings.Contains(stderr, "the model server is down") {
		t.Errorf("every item failing: code %d, stderr %q", code, stderr)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var o, e bytes.Buffer
	code = Main(ctx, []string{"run", "--task", "demo", "--harness", dir, "--runs-dir", runs, "--run-id", "int"},
		Streams{In: strings.NewReader(""), Out: &o, Err: &e}, func(k string) string { return env[k] })
	if code != ExitInterrupted || !strings.Contains(e.String(), "interrupted (resume with sia run --resume)") {
		t.Errorf("interrupted: code %d %q", code, e.String())
	}
}

// sia tasks fits 100 columns and says how to get missing data.
func TestTasksFitsAndHelps(t *testing.T) {
	out, _, code := runCLI(t, map[string]string{"SIA_DATA_DIR": t.TempDir()}, "tasks")
	if code != 0 {
		t.Fatal(code)
	}
	for _, line := range strings.Split(out, "\n") {
		if n := len([]rune(line)); n > 100 {
			t.Errorf("%d columns: %q", n, line)
		}
	}
	if !strings.Contains(out, "lawbench: sia data pull lawbench, or sia data import DIR") {
		t.Errorf("no hint for missing data:\n%s", out)
	}
}
