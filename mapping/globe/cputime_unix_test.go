//go:build unix

package globe_test

import (
	"syscall"
	"time"
)

// cpuTime returns the process's user+system CPU time, to report figures
// that stay meaningful on a loaded machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
