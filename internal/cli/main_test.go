package cli

import (
	"context"
	"os"
	"testing"
)

// TestMain lets the test binary stand in for the sia binary: as a harness
// worker (harness/isolate restarts "this executable" as one), and as sia
// itself when a test sets SIA_CLI_TEST_MAIN=1 (sia sweep starts its runs
// with this executable).
func TestMain(m *testing.M) {
	ServeWorkerIfAsked()
	if os.Getenv("SIA_CLI_TEST_MAIN") == "1" {
		os.Exit(Main(context.Background(), os.Args[1:], Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, os.Getenv))
	}
	os.Exit(m.Run())
}
