package loop

import (
	"fmt"

	"github.com/sia-agent/sia/runstore"
)

// Extend reopens a run for more generations: it records a run_extended
// event to maxGen, which undoes the test score and the finish (the
// incumbent is scored on test again at the new end) and asks a last
// decision to stop again. Pass the result to Run with cfg.MaxGen = maxGen.
// maxGen must exceed the generations the run already has.
func Extend(store *runstore.Store, events []runstore.Event, maxGen int) ([]runstore.Event, error) {
	st, err := runstore.Replay(events, true) // the direction does not matter here
	if err != nil {
		return nil, fmt.Errorf("extend: %w", err)
	}
	if maxGen <= len(st.Gens) {
		return nil, fmt.Errorf("the run already has %d generations; --max-gen %d cannot extend it", len(st.Gens), maxGen)
	}
	e, err := store.Append(runstore.Event{Type: runstore.EvRunExtended, MaxGen: maxGen})
	if err != nil {
		return nil, err
	}
	return append(events, e), nil
}
