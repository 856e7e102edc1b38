package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sia-agent/sia/sandbox"
)

// Streams are the command's input and outputs.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// app is what every command shares.
type app struct {
	streams Streams
	env     Env
}

// Main runs the CLI and returns the exit code. A failure prints one
// "sia: <message>" line to stderr.
func Main(ctx context.Context, args []string, s Streams, getenv func(string) string) int {
	if isWorker(args) {
		return serveWorker(ctx)
	}
	if isNetProxy(args) {
		return sandbox.ServeNetProxy(args[1:])
	}
	root := NewRoot(s, getenv)
	root.SetArgs(defaultToRun(root, args))
	err := root.ExecuteContext(ctx)
	if err != nil {
		msg := err.Error()
		if errors.Is(err, context.Canceled) {
			msg = "interrupted (resume with --resume)"
		}
		fmt.Fprintf(s.Err, "sia: %s\n", msg)
	}
	return exitCode(err)
}

// NewRoot builds the command tree.
func NewRoot(s Streams, getenv func(string) string) *cobra.Command {
	a := &app{streams: s, env: Env{get: getenv}}
	root := &cobra.Command{
		Use:   "sia",
		Short: "Self-improving agents: rewrite the harness and train the weights, in one loop",
		Long: `sia improves a task agent with two levers in one loop: its harness (the code around
the model) and its weights (LoRA adapters trained with RL on its own rollouts).

With no subcommand, sia runs the loop: "sia --task lawbench --max_gen 5 --run_id 1"
is "sia run --task lawbench --max-gen 5 --run-id 1".

Environment:
` + envHelp(),
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.SetVersionTemplate("sia {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usage(err) })
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.SetIn(s.In)
	root.AddCommand(newRunCmd(a), newTasksCmd(a), newShowCmd(a), newVerifyCmd(a), newModelCmd(a), newDataCmd(a))
	root.AddCommand(newWebCmd(a), newPlotCmd(a))
	root.AddCommand(newSweepCmd(a), newCompareCmd(a))
	setNormalize(root)
	return root
}

func envHelp() string {
	var b strings.Builder
	for _, v := range envVars {
		fmt.Fprintf(&b, "  %-22s %s\n", v.name, v.help)
	}
	return b.String()
}

// setNormalize makes SIA's underscore spellings (--max_gen, --run_id,
// --task_dir) aliases of ours on every command.
func setNormalize(c *cobra.Command) {
	c.SetGlobalNormalizationFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		return pflag.NormalizedName(strings.ReplaceAll(name, "_", "-"))
	})
	for _, sub := range c.Commands() {
		setNormalize(sub)
	}
}

// defaultToRun inserts "run" when the first argument is a flag and not a
// root-level one, so the reference CLI's spelling works unchanged.
func defaultToRun(root *cobra.Command, args []string) []string {
	if len(args) == 0 {
		return args
	}
	first := args[0]
	if !strings.HasPrefix(first, "-") {
		return args
	}
	switch first {
	case "-h", "--help", "--version":
		return args
	}
	return append([]string{"run"}, args...)
}

// isTerminal reports whether w is a terminal (for progress bars).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
