package loop

import (
	"fmt"
	"os"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/trajectory"
)

// firstMissing finds the first event whose files are gone from the run
// folder (deleted by hand after the run, say) and names what is missing;
// -1 when every recorded step still has its files. Adapters are checked
// and retrained by repairAdapters instead.
func (r *runner) firstMissing(events []runstore.Event) (int, string) {
	exists := func(rel string) bool {
		_, err := os.Stat(r.d.Store.Path(rel))
		return err == nil
	}
	// An extension undoes the confirmation and test before it, and a new
	// incumbent's best/ no longer holds their files: only those after the
	// last extension must still be there.
	lastExtended := -1
	for i, e := range events {
		if e.Type == runstore.EvRunExtended {
			lastExtended = i
		}
	}
	for i, e := range events {
		var need string
		switch e.Type {
		case runstore.EvHarnessReady:
			if _, err := harness.ReadSource(r.d.Store.GenDir(e.Gen)); err != nil {
				return i, runstore.GenDirName(e.Gen) + "'s harness"
			}
		case runstore.EvRolloutDone:
			if _, err := trajectory.StatPath(r.d.Store.Path(runstore.GenFile(e.Gen, runstore.RolloutsFile))); err != nil {
				return i, runstore.GenFile(e.Gen, runstore.RolloutsFile)
			}
		case runstore.EvVerified:
			need = runstore.GenFile(e.Gen, runstore.ResultsFile)
			if e.Selection != nil && exists(need) {
				need = runstore.GenFile(e.Gen, runstore.SelectionFile)
			}
		case runstore.EvDecided:
			if e.Action == "harness" || e.Action == "weights" {
				need = runstore.GenFile(e.Gen+1, runstore.DecisionFile)
			}
		case runstore.EvConfirmed:
			if i > lastExtended {
				need = runstore.BestFile(runstore.FreshResultsFile)
			}
		case runstore.EvTestScored:
			if i > lastExtended {
				need = runstore.BestFile(runstore.TestResultsFile)
			}
		}
		if need != "" && !exists(need) {
			return i, need
		}
	}
	return -1, ""
}

// repairFiles redoes a run from its first step whose files are gone: the
// event log is cut back to just before it, and the loop runs that step
// again (with the same seeds, to the same result for the builtin agents).
func (r *runner) repairFiles() error {
	i, what := r.firstMissing(r.events)
	if i < 0 {
		return nil
	}
	e := r.events[i]
	r.progress(Progress{Kind: "notice", Text: fmt.Sprintf("%s is missing from the run folder: redoing from that step (%s, gen %d)", what, e.Type, e.Gen)})
	if err := r.d.Store.Truncate(r.events, i); err != nil {
		return err
	}
	return r.replay(r.events[:i])
}
