package starlark

import (
	"testing"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/trajectory"
)

// BenchmarkSolveTrivial measures the runtime's per-call overhead: a fresh
// thread, the item dict, limits, and a trivial solve.
func BenchmarkSolveTrivial(b *testing.B) {
	h, err := New(Config{}).LoadHarness(b.Context(), src("def solve(item):\n    return item['q']\n", nil), harness.Env{})
	if err != nil {
		b.Fatal(err)
	}
	it := item("x", map[string]any{"q": "hello", "n": 3.0})
	for b.Loop() {
		if _, err := h.Solve(b.Context(), it, harness.Sample{Rec: trajectory.NewRecorder()}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStarlarkSteps reports how many Starlark steps run per second,
// to size the default step limit.
func BenchmarkStarlarkSteps(b *testing.B) {
	code := "def solve(item):\n    x = 0\n    for i in range(1000000):\n        x += i\n    return x\n"
	h, err := New(Config{}).LoadHarness(b.Context(), src(code, nil), harness.Env{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := h.Solve(b.Context(), item("x", nil), harness.Sample{}); err != nil {
			b.Fatal(err)
		}
	}
}
