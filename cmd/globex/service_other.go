//go:build !windows

package main

import "context"

// serviceContext is a no-op outside Windows: SIGINT and SIGTERM stop globex.
func serviceContext(parent context.Context) (context.Context, bool, func()) {
	return parent, false, func() {}
}
