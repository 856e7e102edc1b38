// Command sia improves a task agent by rewriting its harness and training
// its weights, in one loop. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sia-agent/sia/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, os.Getenv)
	stop()
	os.Exit(code)
}
