package loop

import (
	"errors"
	"fmt"

	"github.com/sia-agent/sia/trajectory"
)

// ErrAllItemsFailed is returned when a rollout that must work — the first
// generation's, or the incumbent's on test — fails on every item: the
// model server is down, the harness cannot load, the setup raises. The
// run stops with the first error instead of reporting a score of 0; a
// resume redoes the rollout.
var ErrAllItemsFailed = errors.New("every item failed")

// failures counts the samples that ended in a harness error and returns
// the first error.
func failures(ts []trajectory.Trajectory) (n int, first string) {
	for _, t := range ts {
		if t.Error != "" {
			if n == 0 {
				first = t.Error
			}
			n++
		}
	}
	return n, first
}

// checkFailures warns when many samples failed, and fails when all did
// and fatal says a total failure cannot be a candidate's own fault.
func (r *runner) checkFailures(gen int, what string, ts []trajectory.Trajectory, fatal bool) error {
	n, first := failures(ts)
	switch {
	case len(ts) == 0 || n == 0:
		return nil
	case n == len(ts) && fatal:
		return fmt.Errorf("%s: %w (%d of %d); the first: %s", what, ErrAllItemsFailed, n, len(ts), first)
	case 2*n >= len(ts):
		r.progress(Progress{Kind: "notice", Gen: gen, Text: fmt.Sprintf("gen %d %s: %d of %d samples failed; the first: %s", gen, what, n, len(ts), first)})
	}
	return nil
}
