package python

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sia-agent/sia/sandbox"
)

// setup returns a resolved interpreter and a sandbox of the given mode,
// or skips the test saying what is missing.
func setup(t *testing.T, mode sandbox.Mode) (sandbox.Interpreter, *sandbox.Sandbox) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed; the python runtime tests need it (.ci/run installs it)")
	}
	it, err := sandbox.ResolvePython(t.Context(), "python3")
	if err != nil {
		t.Skip(err)
	}
	sb, err := sandbox.New(t.Context(), mode)
	if err != nil {
		t.Skipf("%v (.ci/run installs bubblewrap)", err)
	}
	return it, sb
}

// modes runs f under bubblewrap and without isolation.
func modes(t *testing.T, f func(t *testing.T, it sandbox.Interpreter, sb *sandbox.Sandbox)) {
	for _, m := range []sandbox.Mode{sandbox.ModeBwrap, sandbox.ModeNone} {
		t.Run(string(m), func(t *testing.T) {
			it, sb := setup(t, m)
			f(t, it, sb)
		})
	}
}

func dirs(t *testing.T) (data, work string) {
	t.Helper()
	data = t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "test.csv"), []byte("id\n1\n2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return data, filepath.Join(t.TempDir(), "gen_1")
}

const okScript = `
import argparse, os, sys
ap = argparse.ArgumentParser()
ap.add_argument("--dataset_dir"); ap.add_argument("--working_dir")
a = ap.parse_args()
rows = open(os.path.join(a.dataset_dir, "test.csv")).read().split()[1:]
with open(os.path.join(a.working_dir, "submission.csv"), "w") as f:
    f.write("id,answer\n" + "".join(r + ",x\n" for r in rows))
print("stdout line"); print("stderr line", file=sys.stderr)
print("env", sorted(k for k in os.environ if k.startswith(("OPENAI", "SIA_TEST"))))
print("cwd", os.getcwd() == a.working_dir)
`

func TestRunContract(t *testing.T) {
	modes(t, func(t *testing.T, it sandbox.Interpreter, sb *sandbox.Sandbox) {
		t.Setenv("SIA_TEST_SECRET", "must-not-leak")
		data, work := dirs(t)
		res, err := Run(t.Context(), RunConfig{Script: []byte(okScript), DatasetDir: data, WorkingDir: work, Timeout: time.Minute,
			Env: map[string]string{"OPENAI_BASE_URL": "http://127.0.0.1:1/v1", "OPENAI_API_KEY": "k"}, Interpreter: it, Sandbox: sb})
		if err != nil {
			b, _ := os.ReadFile(filepath.Join(filepath.Dir(work), LogName))
			t.Fatalf("%v\n%s", err, b)
		}
		if res.ExitCode != 0 || res.LogPath != filepath.Join(filepath.Dir(work), LogName) {
			t.Errorf("result %+v", res)
		}
		sub, err := os.ReadFile(filepath.Join(work, "submission.csv"))
		if err != nil || string(sub) != "id,answer\n1,x\n2,x\n" {
			t.Errorf("submission %q, %v", sub, err)
		}
		log, _ := os.ReadFile(res.LogPath)
		for _, want := range []string{"stdout line", "stderr line", "env ['OPENAI_API_KEY', 'OPENAI_BASE_URL']", "cwd True"} {
			if !strings.Contains(string(log), want) {
				t.Errorf("log lacks %q:\n%s", want, log)
			}
		}
		if b, _ := os.ReadFile(filepath.Join(work, ScriptName)); string(b) != okScript {
			t.Error("script not written to the working dir")
		}
	})
}

func TestRunFailures(t *testing.T) {
	it, sb := setup(t, sandbox.ModeBwrap)
	data, work := dirs(t)
	res, err := Run(t.Context(), RunConfig{Script: []byte("import sys\nprint('bye')\nsys.exit(3)\n"), DatasetDir: data, WorkingDir: work, Interpreter: it, Sandbox: sb})
	if err == nil || res == nil || res.ExitCode != 3 || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("exit 3: res %+v err %v", res, err)
	}
	_, err = Run(t.Context(), RunConfig{Script: []byte("pass"), DatasetDir: data, WorkingDir: work, Sandbox: sb})
	if !errors.Is(err, ErrNoPython) {
		t.Errorf("no interpreter: err %v, want ErrNoPython", err)
	}
	if _, err := sandbox.ResolvePython(t.Context(), "no-such-python-xyz"); !errors.Is(err, ErrNoPython) {
		t.Errorf("missing interpreter: err %v, want ErrNoPython", err)
	}
	_, err = Run(t.Context(), RunConfig{Script: []byte("pass"), WorkingDir: work, Interpreter: it, Sandbox: sb})
	if err == nil {
		t.Error("no dataset dir: no error")
	}
	_, err = Run(t.Context(), RunConfig{Script: []byte("pass"), DatasetDir: data, WorkingDir: work, Interpreter: it})
	if err == nil {
		t.Error("no sandbox: no error")
	}
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z'
}

func waitDead(pid int) bool {
	for range 100 {
		if !alive(pid) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

const spawnScript = `
import argparse, os, subprocess, time
ap = argparse.ArgumentParser()
ap.add_argument("--dataset_dir"); ap.add_argument("--working_dir")
a = ap.parse_args()
child = subprocess.Popen(["sleep", "313"])
with open(os.path.join(a.working_dir, "child.pid"), "w") as f:
    f.write(str(child.pid))
if EXIT_EARLY:
    os._exit(0)
time.sleep(300)
`

func TestTimeoutKillsProcessGroup(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: waits out real process timeouts; .ci/run runs it")
	}
	modes(t, func(t *testing.T, it sandbox.Interpreter, sb *sandbox.Sandbox) {
		tests := []struct {
			name      string
			exitEarly bool
			wantErr   error
		}{
			{"sleeping script and its child are killed at the timeout", false, context.DeadlineExceeded},
			{"a child left behind by a finished script is killed", true, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				data, work := dirs(t)
				script := strings.Replace(spawnScript, "EXIT_EARLY", map[bool]string{true: "True", false: "False"}[tc.exitEarly], 1)
				start := time.Now()
				res, err := Run(t.Context(), RunConfig{Script: []byte(script), DatasetDir: data, WorkingDir: work, Timeout: 2 * time.Second, Interpreter: it, Sandbox: sb})
				if !errors.Is(err, tc.wantErr) && !(tc.wantErr == nil && err == nil) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
				if d := time.Since(start); d > 10*time.Second {
					t.Errorf("run took %v", d)
				}
				if tc.wantErr != nil && res.ExitCode != -1 {
					t.Errorf("exit code %d, want -1 (killed)", res.ExitCode)
				}
				b, rerr := os.ReadFile(filepath.Join(work, "child.pid"))
				if rerr != nil {
					t.Fatalf("child pid file: %v", rerr)
				}
				pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
				if sb.Mode() == sandbox.ModeBwrap {
					// A pid inside the sandbox's own namespace: look for the
					// process by what it runs instead.
					noSleeper(t)
					return
				}
				if !waitDead(pid) {
					t.Errorf("grandchild %d still running", pid)
				}
			})
		}
	})
}

// noSleeper checks that no "sleep 313" started by these tests (a length no other test uses) is alive.
func noSleeper(t *testing.T) {
	t.Helper()
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && string(b) == "sleep\x00313\x00" {
			if pid, _ := strconv.Atoi(e.Name()); alive(pid) {
				t.Errorf("process %s (sleep 313) outlived its run", e.Name())
			}
		}
	}
}

func TestCancelStopsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: waits out a sandboxed process's cancellation; .ci/run runs it")
	}
	it, sb := setup(t, sandbox.ModeBwrap)
	data, work := dirs(t)
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	_, err := Run(ctx, RunConfig{Script: []byte("import time\ntime.sleep(300)\n"), DatasetDir: data, WorkingDir: work, Timeout: time.Minute, Interpreter: it, Sandbox: sb})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("err %v, want a stop caused by the caller's deadline", err)
	}
}
