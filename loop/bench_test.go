package loop

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/sia-agent/sia/agent"
)

// BenchmarkGenerationOverhead measures what the loop itself costs per
// generation — run store writes, fsyncs, replay, verification, the builtin
// feedback agent, best/ and context.md — with a trivial harness (x*m+o, no
// model) and the exact-match verifier over 12 val items × 2 samples.
// Reported as ns per generation.
func BenchmarkGenerationOverhead(b *testing.B) {
	taskDir := writeTaskB(b, knobCode)
	gens := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runDir := filepath.Join(b.TempDir(), fmt.Sprintf("run_%d", i))
		st, err := runLoop(b.Context(), taskDir, runDir, agent.ModeHarness, 5, false, false)
		if err != nil {
			b.Fatal(err)
		}
		gens += len(st.Gens) // the search stops early at a perfect score
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(gens), "ns/gen")
}
