package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"

	"globex/exchange/sftpfs"
	"globex/internal/config"
)

func sftpConfig(cfg *config.Config, ex *config.Exchange, s *config.SFTP) sftpfs.Config {
	return sftpfs.Config{
		Host: s.Host, Port: s.Port, User: s.User,
		KeyFile: s.KeyFile, PassphraseEnv: s.PassphraseEnv, PassphraseFile: s.PassphraseFile,
		PasswordEnv: s.PasswordEnv, KnownHosts: s.KnownHosts, Dir: s.Dir,
		AllowSHA1RSA: s.AllowSSHRSA, Timeout: s.Timeout, MaxSessions: s.MaxSessions,
		RenameStrategy: s.UploadStrategy,
		TrustHint:      fmt.Sprintf("globex trust -c %s %s", cfg.Path, ex.Name),
	}
}

func newSFTPClient(cfg *config.Config, ex *config.Exchange, s *config.SFTP, log zerolog.Logger) (*sftpfs.Client, error) {
	return sftpfs.New(sftpConfig(cfg, ex, s), log)
}

func checkSFTP(cfg *config.Config, ex *config.Exchange, what string, s *config.SFTP) []Finding {
	ctx, cancel := context.WithTimeout(context.Background(), s.Timeout+5*time.Second)
	defer cancel()
	c, err := sftpfs.Dial(ctx, sftpConfig(cfg, ex, s), zerolog.Nop())
	if err != nil {
		return []Finding{{false, fmt.Sprintf("%s: %v", what, err)}}
	}
	defer c.Close()
	if _, err := c.List(ctx, "."); err != nil {
		return []Finding{{false, fmt.Sprintf("%s: connected, but the folder %q cannot be listed: %v", what, s.Dir, err)}}
	}
	info := ""
	if ci, ok := c.Info(); ok {
		info = fmt.Sprintf(" (host key %s %s)", ci.HostKey.Type, ci.HostKey.Fingerprint)
	}
	return []Finding{{true, fmt.Sprintf("%s: sftp://%s@%s%s reachable, host key known%s", what, s.User, c.Config().Addr(), "/"+s.Dir, info)}}
}

// Trust shows the host key of an exchange's SFTP server and, with yes, adds
// it to the configured known_hosts file.
func Trust(ctx context.Context, cfg *config.Config, name string, yes bool, out io.Writer) (int, error) {
	ex, ok := cfg.Exchange(name)
	if !ok {
		return ExitUsage, fmt.Errorf("there is no exchange named %q in %s", name, cfg.Path)
	}
	var ends []*config.SFTP
	for _, s := range []*config.SFTP{ex.Source.SFTP, ex.Target.SFTP} {
		if s != nil {
			ends = append(ends, s)
		}
	}
	if len(ends) == 0 {
		return ExitUsage, fmt.Errorf("exchange %q has no sftp: block; nothing to trust", name)
	}
	for _, s := range ends {
		keys, err := sftpfs.FetchHostKeys(ctx, s.Host, s.Port, s.Timeout)
		if err != nil {
			return ExitRuntime, fmt.Errorf("cannot fetch the host key of %s:%d: %w", s.Host, s.Port, err)
		}
		if len(keys) == 0 {
			return ExitRuntime, errors.New("the server offered no host key")
		}
		fmt.Fprintf(out, "Host keys of %s port %d:\n", s.Host, s.Port)
		for _, k := range keys {
			fmt.Fprintf(out, "  %-22s %s\n", k.Type, k.Fingerprint)
		}
		if !yes {
			fmt.Fprintf(out, "Compare these fingerprints with what the server's administrator gives you (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub).\nIf they match, run again with --yes to add them to %s.\n", s.KnownHosts)
			continue
		}
		for _, k := range keys {
			if err := sftpfs.AddKnownHost(s.KnownHosts, k, false); err != nil {
				return ExitRuntime, fmt.Errorf("writing %s: %w", s.KnownHosts, err)
			}
		}
		fmt.Fprintf(out, "Added to %s.\n", s.KnownHosts)
	}
	return ExitOK, nil
}
