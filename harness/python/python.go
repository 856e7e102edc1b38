package python

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sia-agent/sia/sandbox"
)

// ScriptName is the file the script is written to inside the working dir.
const ScriptName = "target_agent.py"

// LogName is the log file (stdout and stderr) beside the working dir: the
// script cannot see it, so it cannot swap it for a link.
const LogName = "agent.log"

// RunConfig is one run of a Python harness.
type RunConfig struct {
	// Script is target_agent.py's source.
	Script []byte
	// DatasetDir is passed as --dataset_dir: the harness's data view,
	// read-only.
	DatasetDir string
	// WorkingDir is passed as --working_dir; created if missing. The
	// script and its submission live here; it is the only place the
	// script may write.
	WorkingDir string
	// LogPath receives stdout and stderr (default: LogName beside
	// WorkingDir, outside what the script can reach).
	LogPath string
	// Timeout kills the script and everything it started (default 1h).
	Timeout time.Duration
	// Env is the script's whole environment beyond a minimal base (PATH,
	// HOME = the working dir, LANG, PYTHONUNBUFFERED,
	// PYTHONDONTWRITEBYTECODE). Nothing of sia's own is inherited, so API
	// keys in its environment stay out.
	Env map[string]string
	// Interpreter is the resolved Python (sandbox.ResolvePython).
	Interpreter sandbox.Interpreter
	// Sandbox starts the script; required.
	Sandbox *sandbox.Sandbox
	// Limits bound its resources (zero fields: sandbox.DefaultLimits).
	Limits sandbox.Limits
	// Gateway is the only network endpoint the script may reach (under
	// bubblewrap); nil: none.
	Gateway *sandbox.GatewayProxy
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
var ErrNoPython = sandbox.ErrNoPython

// Run writes the script into the working dir and runs it in the sandbox
// to completion or to the timeout. It returns an error when the script
// cannot start, exits non-zero, times out, outgrows its limits, or ctx
// ends; the result is filled in whenever the script started. Nothing the
// script started is running when Run returns.
func Run(ctx context.Context, cfg RunConfig) (*RunResult, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Hour
	}
	if cfg.Sandbox == nil {
		return nil, errors.New("run target_agent.py: no sandbox given")
	}
	if cfg.Interpreter.Exe == "" {
		return nil, fmt.Errorf("run %s: %w: none resolved", ScriptName, ErrNoPython)
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
	logPath := cfg.LogPath
	if logPath == "" {
		logPath = filepath.Join(filepath.Dir(work), LogName)
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create log: %w", err)
	}
	defer logFile.Close()

	env := map[string]string{
		"PATH":                    filepath.Dir(cfg.Interpreter.Exe) + ":/usr/local/bin:/usr/bin:/bin",
		"HOME":                    work,
		"LANG":                    "C.UTF-8",
		"PYTHONUNBUFFERED":        "1",
		"PYTHONDONTWRITEBYTECODE": "1",
		"TMPDIR":                  "/tmp",
	}
	for k, v := range cfg.Env {
		env[k] = v
	}
	mounts := append([]sandbox.Mount{{Path: data}, {Path: work, Writable: true}}, cfg.Interpreter.Mounts...)
	res, err := cfg.Sandbox.Run(ctx, sandbox.Policy{
		Argv:    []string{cfg.Interpreter.Exe, script, "--dataset_dir", data, "--working_dir", work},
		Dir:     work,
		Env:     env,
		Mounts:  mounts,
		Limits:  cfg.Limits,
		Timeout: cfg.Timeout,
		Gateway: cfg.Gateway,
	}, logFile)
	out := &RunResult{ExitCode: res.ExitCode, LogPath: logPath, Duration: res.Duration}
	var exit interface{ ExitCode() int }
	switch {
	case err == nil:
		return out, nil
	case errors.Is(err, sandbox.ErrTimeout):
		return out, fmt.Errorf("%s: killed at its %s timeout: %w", ScriptName, cfg.Timeout, context.DeadlineExceeded)
	case ctx.Err() != nil:
		return out, fmt.Errorf("%s: stopped: %w", ScriptName, ctx.Err())
	case errors.As(err, &exit):
		return out, fmt.Errorf("%s: exit status %d: %w", ScriptName, out.ExitCode, err)
	}
	return out, fmt.Errorf("%s: %w", ScriptName, err)
}
