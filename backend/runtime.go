package backend

import (
	"context"
	"errors"
	"fmt"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/harness/isolate"
	"github.com/sia-agent/sia/harness/python"
	"github.com/sia-agent/sia/sandbox"
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
	mode, err := sandbox.ParseMode(string(o.Sandbox))
	if err != nil {
		return nil, fmt.Errorf("--sandbox: %w", err)
	}
	sb, err := sandbox.New(ctx, mode)
	if err != nil && errors.Is(err, sandbox.ErrUnavailable) && mode == sandbox.ModeBwrap {
		return nil, fmt.Errorf("%w; install bubblewrap, or pass --sandbox none to run without isolation (the run is then marked unsandboxed)", err)
	}
	if err == nil && mode == sandbox.ModeNone {
		o.notify("--sandbox none: python code runs WITHOUT isolation; it can read anything this user can (sia show marks the run unsandboxed)")
	}
	return sb, err
}
