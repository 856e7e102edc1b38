package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/sia-agent/sia/harness/isolate"
	"github.com/sia-agent/sia/harness/starlark"
	"github.com/sia-agent/sia/sandbox"
)

// isWorker reports whether args ask this process to be a harness worker
// (harness/isolate starts the sia binary that way).
func isWorker(args []string) bool { return len(args) > 0 && args[0] == isolate.WorkerArg }

// serveWorker runs the Starlark harness worker on stdin and stdout.
func serveWorker(ctx context.Context) int {
	err := isolate.Serve(ctx, os.Stdin, os.Stdout, func(log func(string)) isolate.Inner {
		return starlark.New(starlark.Config{OnSetupLog: log})
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "sia harness worker: %v\n", err)
		return 1
	}
	return 0
}

// isNetProxy reports whether args ask this process to be a sandbox's
// gateway proxy (harness/python starts the sia binary that way, inside
// the sandbox).
func isNetProxy(args []string) bool { return len(args) > 0 && args[0] == sandbox.NetProxyArg }

// ServeWorkerIfAsked makes a test binary that runs the CLI in-process
// able to stand in for the sia binary as a harness worker or a sandbox's
// gateway proxy: call it first in TestMain. It returns only when the
// process is neither.
func ServeWorkerIfAsked() {
	switch args := os.Args[1:]; {
	case isWorker(args):
		os.Exit(serveWorker(context.Background()))
	case isNetProxy(args):
		os.Exit(sandbox.ServeNetProxy(args[1:]))
	}
}
