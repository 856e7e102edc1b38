package cli

import (
	"os"
	"testing"
)

// TestMain lets the test binary stand in for the sia binary as a harness
// worker (harness/isolate restarts "this executable" as one).
func TestMain(m *testing.M) {
	ServeWorkerIfAsked()
	os.Exit(m.Run())
}
