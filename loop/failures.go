package loop

import (
	"errors"
	"fmt"
)

// ErrAllItemsFailed is returned when a rollout that must work — the first
// generation's, or the incumbent's on test — fails on every item: the
// model server is down, the harness cannot load, the setup raises. The
// run stops with the first error instead of reporting a score of 0; a
// resume redoes the rollout.
var ErrAllItemsFailed = errors.New("every item failed")

// checkFailures warns when many samples of a tallied rollout failed, and
// fails when all did and fatal says a total failure cannot be a
// candidate's own fault.
func (r *runner) checkFailures(gen int, what string, tl *tally, fatal bool) error {
	n, total, first := tl.failed, tl.n, tl.firstErr
	switch {
	case total == 0 || n == 0:
		return nil
	case n == total && fatal:
		return fmt.Errorf("%s: %w (%d of %d); the first: %s", what, ErrAllItemsFailed, n, total, first)
	case 2*n >= total:
		r.progress(Progress{Kind: "notice", Gen: gen, Text: fmt.Sprintf("gen %d %s: %d of %d samples failed; the first: %s", gen, what, n, total, first)})
	}
	return nil
}
