package loop

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sia-agent/sia/agent"
)

// A finished run whose files were deleted resumes by redoing the steps
// those files came from, to the same result.
func TestResumeRedoesDeletedFiles(t *testing.T) {
	taskDir := writeTask(t, modelCode)
	runDir := filepath.Join(t.TempDir(), "run")
	if _, err := runLoop(t.Context(), taskDir, runDir, agent.ModeHarness, 3, false, false); err != nil {
		t.Fatal(err)
	}
	want := canonical(t, runDir)
	for _, rel := range []string{"gen_2/rollouts.jsonl", "gen_1/results.json", "best/test_results.json"} {
		t.Run(rel, func(t *testing.T) {
			if err := os.Remove(filepath.Join(runDir, rel)); err != nil {
				t.Fatal(err)
			}
			if _, err := runLoop(t.Context(), taskDir, runDir, agent.ModeHarness, 3, true, false); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(runDir, rel)); err != nil {
				t.Errorf("%s was not redone: %v", rel, err)
			}
			if got := canonical(t, runDir); got != want {
				t.Errorf("after redoing %s:\n%s\nwant\n%s", rel, got, want)
			}
		})
	}
}
