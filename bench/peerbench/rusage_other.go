//go:build !unix

package main

import "os"

// usage returns the CPU times of the finished command; peak RSS is not
// reported on this system (0).
func usage(ps *os.ProcessState) resources {
	return resources{user: ps.UserTime(), sys: ps.SystemTime()}
}
