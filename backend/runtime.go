package backend

import (
	"context"
	"errors"
	"fmt"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/harness/isolate"
	"github.com/sia-agent/sia/harness/python"
	"github.com/sia-agent/sia/sandbox"
	"github.com/sia-agent/sia/task"
)

// newRuntime returns the harness runtime of o's task.
func newRuntime(ctx context.Context, o *Options) (harness.Runtime, error) {
	switch kind := o.Task.Spec.Runtime; kind {
	case "starlark":
		// In a worker process (this binary, restarted as a harness worker):
		// a harness that exhausts memory fails its items, not the run.
		return &isolate.Runtime{}, nil
	case "python":
		sb, err := newSandbox(ctx, o)
		if err != nil {
			return nil, fmt.Errorf("python harnesses run sandboxed: %w", err)
		}
		layout := python.Layout{Submission: o.Task.Spec.Submission, Parse: o.Task.ParseSubmission}
		return &python.Runtime{Sandbox: sb, TempDir: o.ScratchDir, Layout: layout}, nil
	default:
		return nil, fmt.Errorf("unknown harness runtime %q (want starlark or python)", kind)
	}
}

// newSandbox builds the isolation --sandbox asks for. Without bubblewrap a
// python harness does not run unless the user said --sandbox none.
func newSandbox(ctx context.Context, o *Options) (*sandbox.Sandbox, error) {
	return Sandbox(ctx, string(o.Sandbox), func(line string) { o.notify("%s", line) })
}

// Sandbox builds the isolation a --sandbox mode ("bwrap" or "none") asks
// for, for untrusted python code: harnesses and a task's evaluate.py.
// notify (may be nil) is told when isolation is off.
func Sandbox(ctx context.Context, mode string, notify func(string)) (*sandbox.Sandbox, error) {
	m, err := sandbox.ParseMode(mode)
	if err != nil {
		return nil, fmt.Errorf("--sandbox: %w", err)
	}
	sb, err := sandbox.New(ctx, m)
	if err != nil && errors.Is(err, sandbox.ErrUnavailable) && m == sandbox.ModeBwrap {
		return nil, fmt.Errorf("%w; install bubblewrap, or pass --sandbox none to run without isolation (the run is then marked unsandboxed)", err)
	}
	if err == nil && m == sandbox.ModeNone && notify != nil {
		notify("--sandbox none: python code runs WITHOUT isolation; it can read anything this user can (sia show marks the run unsandboxed)")
	}
	return sb, err
}

// EvaluatorSandbox returns the sandbox a task's evaluate.py runs in, or
// nil when the task is not scored by its evaluate.py: rt's own sandbox
// when rt is a sandboxed python runtime (one sandbox per run), else one
// built for mode. It fails, before anything is written, where the sandbox
// cannot run.
func EvaluatorSandbox(ctx context.Context, t *task.Task, rt harness.Runtime, mode string, notify func(string)) (*sandbox.Sandbox, error) {
	if !t.UsesEvaluator() {
		return nil, nil
	}
	if py, ok := rt.(*python.Runtime); ok && py.Sandbox != nil {
		return py.Sandbox, nil
	}
	sb, err := Sandbox(ctx, mode, notify)
	if err != nil {
		return nil, fmt.Errorf("task %s is scored by its evaluate.py, which runs sandboxed: %w", t.Spec.Name, err)
	}
	return sb, nil
}
