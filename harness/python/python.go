package python

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"time"
)

// ScriptName is the file the script is written to inside the working dir.
const ScriptName = "target_agent.py"

// LogName is the log file (stdout and stderr) inside the working dir.
const LogName = "agent.log"

// RunConfig is one run of a Python harness.
type RunConfig struct {
	// Script is target_agent.py's source.
	Script []byte
	// DatasetDir is passed as --dataset_dir: the task's public data.
	DatasetDir string
	// WorkingDir is passed as --working_dir; created if missing. The
	// script, its log and its submission live here.
	WorkingDir string
	// Timeout kills the whole process group when it passes (default 1h).
	Timeout time.Duration
	// Env is the script's whole environment beyond a minimal base: PATH and
	// HOME (inherited, so interpreter shims such as pyenv's work), LANG,
	// PYTHONUNBUFFERED and PYTHONDONTWRITEBYTECODE. Nothing else is
	// inherited, so API keys in sia's own environment stay out.
	Env map[string]string
	// Python is the interpreter (default "python3" on PATH).
	Python string
	// Sandbox runs the script under bubblewrap (bwrap): the filesystem is
	// read-only but for the working dir and a private /tmp, Hidden folders
	// are masked with empty ones, and the script gets its own PID
	// namespace. Run fails when Sandbox is set and bwrap is missing.
	Sandbox bool
	// Hidden lists folders the sandbox masks (e.g. the task's private data).
	Hidden []string
}

// SandboxAvailable reports whether bwrap can run here.
func SandboxAvailable() bool {
	path, err := exec.LookPath("bwrap")
	if err != nil {
		return false
	}
	return exec.Command(path, "--ro-bind", "/", "/", "--dev", "/dev", "--", "/bin/true").Run() == nil
}

// sandboxArgs wraps argv in a bwrap invocation.
func sandboxArgs(bwrap, work, data string, hidden, argv []string) []string {
	args := []string{bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"}
	for _, h := range hidden {
		if st, err := os.Stat(h); err == nil && st.IsDir() {
			args = append(args, "--tmpfs", h)
		}
	}
	args = append(args, "--bind", work, work, "--ro-bind", data, data,
		"--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--chdir", work, "--")
	return append(args, argv...)
}

// RunResult describes a finished run.
type RunResult struct {
	// ExitCode is the script's exit status; -1 when it was killed.
	ExitCode int
	// LogPath is the file holding its stdout and stderr.
	LogPath  string
	Duration time.Duration
}

// ErrNoPython is returned when the interpreter cannot be found.
var ErrNoPython = errors.New("python interpreter not found")

// waitDelay bounds how long Wait may take after the kill.
const waitDelay = 5 * time.Second

// Run writes the script into the working dir and runs it to completion or
// to the timeout. It returns an error when the script cannot start, exits
// non-zero, times out, or ctx ends; the result is filled in whenever the
// script started. Whatever happens, the script's process group is killed
// before Run returns, so no child outlives the call (a process that leaves
// the group with setsid escapes this; harnesses must not do that).
func Run(ctx context.Context, cfg RunConfig) (*RunResult, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Hour
	}
	if cfg.Python == "" {
		cfg.Python = "python3"
	}
	py, err := exec.LookPath(cfg.Python)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrNoPython, cfg.Python, err)
	}
	if cfg.WorkingDir == "" || cfg.DatasetDir == "" {
		return nil, fmt.Errorf("run %s: dataset dir and working dir are required", ScriptName)
	}
	work, err := filepath.Abs(cfg.WorkingDir)
	if err != nil {
		return nil, fmt.Errorf("working dir %q: %w", cfg.WorkingDir, err)
	}
	data, err := filepath.Abs(cfg.DatasetDir)
	if err != nil {
		return nil, fmt.Errorf("dataset dir %q: %w", cfg.DatasetDir, err)
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, fmt.Errorf("create working dir: %w", err)
	}
	script := filepath.Join(work, ScriptName)
	if err := os.WriteFile(script, cfg.Script, 0o644); err != nil {
		return nil, fmt.Errorf("write %s: %w", ScriptName, err)
	}
	logPath := filepath.Join(work, LogName)
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create log: %w", err)
	}
	defer logFile.Close()

	runCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	argv := []string{py, script, "--dataset_dir", data, "--working_dir", work}
	if cfg.Sandbox {
		bwrap, err := exec.LookPath("bwrap")
		if err != nil {
			return nil, fmt.Errorf("sandbox: bubblewrap (bwrap) is not installed: %w", err)
		}
		argv = sandboxArgs(bwrap, work, data, cfg.Hidden, argv)
	}
	cmd := exec.CommandContext(runCtx, argv[0], argv[1:]...)
	cmd.Dir = work
	cmd.Env = environ(cfg.Env)
	// A file (not a pipe) as stdout/stderr: Wait then never blocks on a
	// grandchild that still holds the descriptor.
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killGroup(cmd.Process.Pid) }
	cmd.WaitDelay = waitDelay

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", ScriptName, err)
	}
	waitErr := cmd.Wait()
	// The script may have exited leaving children in its group; end them.
	_ = killGroup(cmd.Process.Pid)
	res := &RunResult{ExitCode: cmd.ProcessState.ExitCode(), LogPath: logPath, Duration: time.Since(start)}
	switch {
	case runCtx.Err() != nil && ctx.Err() == nil:
		return res, fmt.Errorf("%s: killed at its %s timeout (log: %s): %w", ScriptName, cfg.Timeout, logPath, context.DeadlineExceeded)
	case ctx.Err() != nil:
		return res, fmt.Errorf("%s: stopped: %w", ScriptName, ctx.Err())
	case waitErr != nil:
		return res, fmt.Errorf("%s: exit status %d (log: %s): %w", ScriptName, res.ExitCode, logPath, waitErr)
	}
	return res, nil
}

// killGroup sends SIGKILL to the process group led by pid.
func killGroup(pid int) error {
	err := syscall.Kill(-pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// environ is the script's environment: a minimal base plus extra, sorted.
func environ(extra map[string]string) []string {
	env := map[string]string{
		"PATH":                    os.Getenv("PATH"),
		"HOME":                    os.Getenv("HOME"),
		"LANG":                    "C.UTF-8",
		"PYTHONUNBUFFERED":        "1",
		"PYTHONDONTWRITEBYTECODE": "1",
	}
	for k, v := range extra {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}
