// Package sftpfs is globex's SFTP end: it lists, downloads, uploads, claims
// (renames) and removes files on an SFTP server with the rigour of OpenSSH.
//
// The server's host key is always verified against a known_hosts file; the
// host-key algorithms offered to the server are derived from the keys known
// for that host, so a host known only by its ed25519 key negotiates ed25519
// (the x/crypto trap of golang/go#29286). RSA with SHA-1 signatures is used
// only with Config.AllowSHA1RSA.
//
// A Client is safe for concurrent use. It connects lazily, keeps the
// connection alive with keepalive@openssh.com requests, bounds every call
// with a timeout (closing the connection to unblock a hung call), and
// reconnects after transport errors with exponential backoff and jitter.
// Uploads go to a temporary name and are renamed into place only after
// their size was verified, so a consumer never sees a half file.
package sftpfs

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Upload rename strategies for Config.RenameStrategy.
const (
	// StrategyAuto uses posix-rename@openssh.com when the server offers it
	// and StrategyRename otherwise. It is the default.
	StrategyAuto = ""
	// StrategyPosixRename uploads to a temporary name and atomically
	// replaces the target with posix-rename@openssh.com; it fails when the
	// server does not offer that extension.
	StrategyPosixRename = "posix-rename"
	// StrategyRename uploads to a temporary name and uses plain
	// SSH_FXP_RENAME, which fails when the target exists; an existing target
	// is moved aside only after the new temporary file is complete, and
	// removed after the new file is in place.
	StrategyRename = "rename"
	// StrategyDirect writes straight into the target name. A consumer may
	// see a partial file; use only when the server forbids renames.
	StrategyDirect = "direct"
)

// Defaults applied by Config.withDefaults.
const (
	DefaultPort        = 22
	DefaultTimeout     = 30 * time.Second
	DefaultMaxSessions = 2
	DefaultKeepAlive   = 15 * time.Second
	// DefaultTrustHint is the command named in unknown-host errors when
	// Config.TrustHint is empty.
	DefaultTrustHint = "globex trust -c FILE EXCHANGE"
)

// Config describes one SFTP end point. The zero values of the optional
// fields select the documented defaults.
type Config struct {
	Host string // host name or IP address
	Port int    // default 22
	User string

	// KeyFile is an OpenSSH (or PEM) private key. If it is encrypted, its
	// passphrase comes from the environment variable PassphraseEnv or from
	// the file PassphraseFile (one trailing newline is ignored).
	KeyFile, PassphraseEnv, PassphraseFile string
	// PasswordEnv names an environment variable holding the password for
	// password (and keyboard-interactive) authentication. With both a key
	// and a password, the key is tried first.
	PasswordEnv string

	// KnownHosts is the OpenSSH known_hosts file holding the server's key.
	// Required. It is re-read on every connect, so `globex trust` takes
	// effect without a restart.
	KnownHosts string

	// Dir is the remote base folder; all names are relative to it and may
	// not leave it. Empty means the login folder.
	Dir string

	// AllowSHA1RSA permits the legacy ssh-rsa (RSA with SHA-1) signature
	// algorithm for the host key and for client authentication.
	AllowSHA1RSA bool

	// Timeout bounds each call (for transfers: the time without progress)
	// and each connect; default 30s.
	Timeout time.Duration
	// MaxSessions bounds the concurrent SFTP sessions (and so concurrent
	// calls) over the one SSH connection; default 2.
	MaxSessions int
	// RenameStrategy selects how Upload puts a file in place: "" (auto),
	// "posix-rename", "rename" or "direct"; see the Strategy constants.
	RenameStrategy string
	// KeepAlive is the interval of keepalive@openssh.com requests; default
	// 15s, negative disables them.
	KeepAlive time.Duration
	// TrustHint is the command an operator should run to trust an unknown
	// host key, quoted in the error; default DefaultTrustHint. The runtime
	// sets it to e.g. "globex trust -c /etc/globex.yaml webshop-orders".
	TrustHint string
}

// Addr returns "host:port" (with brackets for IPv6 literals).
func (c Config) Addr() string {
	p := c.Port
	if p == 0 {
		p = DefaultPort
	}
	return joinHostPort(c.Host, p)
}

func joinHostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		return fmt.Sprintf("[%s]:%d", host, port)
	}
	return fmt.Sprintf("%s:%d", host, port)
}

func (c Config) withDefaults() Config {
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = DefaultKeepAlive
	}
	if c.TrustHint == "" {
		c.TrustHint = DefaultTrustHint
	}
	return c
}

// Validate checks the configuration without touching the network or the
// files. Each problem is named with the configuration key it concerns.
func (c Config) Validate() error {
	var errs []error
	if c.Host == "" {
		errs = append(errs, errors.New("sftp: host is empty"))
	}
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("sftp: port %d is out of range 1-65535", c.Port))
	}
	if c.User == "" {
		errs = append(errs, errors.New("sftp: user is empty"))
	}
	if c.KnownHosts == "" {
		errs = append(errs, errors.New("sftp: known_hosts is required: the server's key must be known (run `globex trust` to add it)"))
	}
	if c.KeyFile == "" && c.PasswordEnv == "" {
		errs = append(errs, errors.New("sftp: set key_file or password_env"))
	}
	if c.PassphraseEnv != "" && c.PassphraseFile != "" {
		errs = append(errs, errors.New("sftp: set passphrase_env or passphrase_file, not both"))
	}
	if (c.PassphraseEnv != "" || c.PassphraseFile != "") && c.KeyFile == "" {
		errs = append(errs, errors.New("sftp: a passphrase is set but key_file is empty"))
	}
	switch c.RenameStrategy {
	case StrategyAuto, StrategyPosixRename, StrategyRename, StrategyDirect:
	default:
		errs = append(errs, fmt.Errorf("sftp: rename_strategy %q is not one of posix-rename, rename, direct", c.RenameStrategy))
	}
	if c.MaxSessions < 0 {
		errs = append(errs, fmt.Errorf("sftp: max_sessions %d is negative", c.MaxSessions))
	}
	return errors.Join(errs...)
}

// authMethods loads the key and password named by the configuration. It
// returns a description of the methods for error messages ("publickey
// (keys/id_ed25519), password (env GLOBEX_PW)"), which never contains a
// secret.
func (c Config) authMethods() ([]ssh.AuthMethod, string, error) {
	var methods []ssh.AuthMethod
	var desc []string
	if c.KeyFile != "" {
		signer, err := c.loadSigner()
		if err != nil {
			return nil, "", err
		}
		methods = append(methods, ssh.PublicKeys(signer))
		desc = append(desc, fmt.Sprintf("publickey (%s key from %s)", signer.PublicKey().Type(), c.KeyFile))
	}
	if c.PasswordEnv != "" {
		pw, ok := os.LookupEnv(c.PasswordEnv)
		if !ok || pw == "" {
			return nil, "", fmt.Errorf("sftp: password_env: environment variable %s is unset or empty", c.PasswordEnv)
		}
		methods = append(methods,
			ssh.Password(pw),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, echos []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range questions {
					if !echos[i] { // a hidden prompt is the password prompt
						answers[i] = pw
					}
				}
				return answers, nil
			}))
		desc = append(desc, fmt.Sprintf("password (from env %s)", c.PasswordEnv))
	}
	return methods, strings.Join(desc, ", "), nil
}

// loadSigner reads KeyFile and decrypts it with the configured passphrase.
func (c Config) loadSigner() (ssh.Signer, error) {
	pemBytes, err := os.ReadFile(c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("sftp: key_file: %w", err)
	}
	var (
		raw    any
		source string
	)
	switch {
	case c.PassphraseEnv != "":
		pp, ok := os.LookupEnv(c.PassphraseEnv)
		if !ok || pp == "" {
			return nil, fmt.Errorf("sftp: passphrase_env: environment variable %s is unset or empty", c.PassphraseEnv)
		}
		source = "environment variable " + c.PassphraseEnv
		raw, err = ssh.ParseRawPrivateKeyWithPassphrase(pemBytes, []byte(pp))
	case c.PassphraseFile != "":
		b, rerr := os.ReadFile(c.PassphraseFile)
		if rerr != nil {
			return nil, fmt.Errorf("sftp: passphrase_file: %w", rerr)
		}
		pp := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		if pp == "" {
			return nil, fmt.Errorf("sftp: passphrase_file %s is empty", c.PassphraseFile)
		}
		source = "file " + c.PassphraseFile
		raw, err = ssh.ParseRawPrivateKeyWithPassphrase(pemBytes, []byte(pp))
	default:
		raw, err = ssh.ParseRawPrivateKey(pemBytes)
	}
	if err != nil {
		var missing *ssh.PassphraseMissingError
		switch {
		case errors.As(err, &missing):
			return nil, fmt.Errorf("sftp: key_file %s is encrypted: set passphrase_env or passphrase_file", c.KeyFile)
		case errors.Is(err, x509.IncorrectPasswordError):
			return nil, fmt.Errorf("sftp: key_file %s: the passphrase from %s is wrong", c.KeyFile, source)
		case source != "" && (strings.Contains(err.Error(), "not an encrypted key") || strings.Contains(err.Error(), "not password protected")):
			// A passphrase was configured for a plain key: accept the key.
			raw, err = ssh.ParseRawPrivateKey(pemBytes)
			if err != nil {
				return nil, fmt.Errorf("sftp: key_file %s: %v", c.KeyFile, err)
			}
		default:
			return nil, fmt.Errorf("sftp: key_file %s is not a usable private key: %v", c.KeyFile, err)
		}
	}
	signer, err := ssh.NewSignerFromKey(raw)
	if err != nil {
		return nil, fmt.Errorf("sftp: key_file %s: %v", c.KeyFile, err)
	}
	if signer.PublicKey().Type() == ssh.KeyAlgoRSA && !c.AllowSHA1RSA {
		// Never sign with SHA-1 unless allowed: restrict to rsa-sha2-*.
		if as, ok := signer.(ssh.AlgorithmSigner); ok {
			ms, err := ssh.NewSignerWithAlgorithms(as, []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256})
			if err != nil {
				return nil, fmt.Errorf("sftp: key_file %s: %v", c.KeyFile, err)
			}
			signer = ms
		}
	}
	return signer, nil
}
