//go:build unix

package main

import (
	"os"
	"runtime"
	"syscall"
)

// usage returns the peak RSS and CPU times of the finished command,
// descendants included.
func usage(ps *os.ProcessState) resources {
	var r resources
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if ok {
		r.maxRSS = maxrssBytes(int64(ru.Maxrss))
	}
	r.user, r.sys = ps.UserTime(), ps.SystemTime()
	// The command is this process's only child: RUSAGE_CHILDREN covers it
	// and whatever it waited for, should wait4 not have included them.
	var ch syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ch) == nil {
		r.maxRSS = max(r.maxRSS, maxrssBytes(int64(ch.Maxrss)))
	}
	return r
}

// maxrssBytes converts ru_maxrss: kilobytes on Linux and the BSDs, bytes
// on macOS.
func maxrssBytes(v int64) int64 {
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return v
	}
	return v * 1024
}
