package app

import (
	"context"
	"fmt"
	"io"

	"globex/internal/config"
)

// Trust shows the host key of an exchange's SFTP server and, with yes, adds
// it to the configured known_hosts file.
func Trust(ctx context.Context, cfg *config.Config, name string, yes bool, out io.Writer) (int, error) {
	ex, ok := cfg.Exchange(name)
	if !ok {
		return ExitUsage, fmt.Errorf("there is no exchange named %q in %s", name, cfg.Path)
	}
	if ex.Source.SFTP == nil && ex.Target.SFTP == nil {
		return ExitUsage, fmt.Errorf("exchange %q has no sftp: block; nothing to trust", name)
	}
	return ExitRuntime, fmt.Errorf("SFTP is not available in this build yet")
}
