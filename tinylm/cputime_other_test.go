//go:build !unix

package tinylm

import "time"

// cpuTime is unknown here; the per-CPU-second metrics are then left out.
func cpuTime() time.Duration { return 0 }
