//go:build unix

package tinylm

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) the process has used, all
// threads together; benchmarks divide work by it to report throughput per
// CPU-second, which a busy machine disturbs far less than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
