package python

import (
	"os"
	"testing"

	"github.com/sia-agent/sia/sandbox"
)

// TestMain lets the test binary stand in for the sia binary as a
// sandbox's gateway proxy.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == sandbox.NetProxyArg {
		os.Exit(sandbox.ServeNetProxy(os.Args[2:]))
	}
	os.Exit(m.Run())
}
