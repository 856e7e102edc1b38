//go:build unix

package gateway

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user+system) this process has used, so the
// benchmark can report a load-independent cost per rollout.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
