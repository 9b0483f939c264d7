// Package crashpoint lets the crash tests kill globex at an exact step of
// its work. When the environment variable GLOBEX_CRASHPOINT names a point
// (optionally as name:N for the N-th time it is reached), Hit kills the
// process on the spot with no clean-up, like a power cut or SIGKILL. Unset,
// Hit costs one boolean check.
package crashpoint

import (
	"os"
	"strconv"
	"strings"
	"sync"
)

var (
	point   string
	nth     = 1
	enabled bool
	mu      sync.Mutex
	count   int
)

func init() {
	v := os.Getenv("GLOBEX_CRASHPOINT")
	if v == "" {
		return
	}
	point = v
	if name, n, ok := strings.Cut(v, ":"); ok {
		point = name
		if k, err := strconv.Atoi(n); err == nil && k > 0 {
			nth = k
		}
	}
	enabled = true
}

// Hit marks that the process reached the named point.
func Hit(name string) {
	if !enabled || name != point {
		return
	}
	mu.Lock()
	count++
	c := count
	mu.Unlock()
	if c == nth {
		kill()
	}
}
