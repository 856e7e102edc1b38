package sandbox

import (
	"os"
	"testing"
)

// TestMain lets the test binary stand in for the sia binary as the
// sandbox's gateway proxy.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == NetProxyArg {
		os.Exit(ServeNetProxy(os.Args[2:]))
	}
	os.Exit(m.Run())
}
