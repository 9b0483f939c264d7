package sftpfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostKey is a server host key as seen on the wire.
type HostKey struct {
	Host string // as configured (name or IP)
	Port int
	// Type is the key type, e.g. "ssh-ed25519", "ecdsa-sha2-nistp256",
	// "ssh-rsa" (for RSA keys whatever the signature algorithm).
	Type string
	// Fingerprint is the OpenSSH SHA256 fingerprint, "SHA256:…".
	Fingerprint string
	Key         ssh.PublicKey
}

// String renders "ssh-ed25519 SHA256:…".
func (k HostKey) String() string { return k.Type + " " + k.Fingerprint }

// Sentinel errors for errors.Is on a *HostKeyError.
var (
	// ErrUnknownHost: the host (or its key type) has no entry in known_hosts.
	ErrUnknownHost = errors.New("host key unknown")
	// ErrHostKeyChanged: known_hosts holds a different key for the host.
	ErrHostKeyChanged = errors.New("host key changed")
	// ErrHostKeyRevoked: the key is marked @revoked in known_hosts.
	ErrHostKeyRevoked = errors.New("host key revoked")
)

// HostKeyError is a refused host key. Its message names the host, the
// offered fingerprint, and (for a changed key) the known fingerprints.
type HostKeyError struct {
	Kind       error // ErrUnknownHost, ErrHostKeyChanged or ErrHostKeyRevoked
	Addr       string
	KnownHosts string
	Offered    HostKey
	Known      []string // "ssh-ed25519 SHA256:… (known_hosts:3)"
	TrustHint  string
}

// Error implements error.
func (e *HostKeyError) Error() string {
	switch e.Kind {
	case ErrUnknownHost:
		return fmt.Sprintf("sftp %s: host key unknown: the server offers %s, which is not in %s; if this is the right server, check the fingerprint with its administrator and run `%s`",
			e.Addr, e.Offered, e.KnownHosts, e.TrustHint)
	case ErrHostKeyRevoked:
		return fmt.Sprintf("sftp %s: host key %s is marked @revoked in %s; refusing to connect", e.Addr, e.Offered, e.KnownHosts)
	default:
		return fmt.Sprintf("sftp %s: HOST KEY CHANGED (possible man-in-the-middle attack, refusing to connect): the server offers %s but %s knows %s; if the server's key was really replaced, remove the old line and run `%s`",
			e.Addr, e.Offered, e.KnownHosts, strings.Join(e.Known, ", "), e.TrustHint)
	}
}

// Unwrap lets errors.Is match the Kind sentinel.
func (e *HostKeyError) Unwrap() error { return e.Kind }

func newHostKey(host string, port int, k ssh.PublicKey) HostKey {
	return HostKey{Host: host, Port: port, Type: k.Type(), Fingerprint: ssh.FingerprintSHA256(k), Key: k}
}

// probeKey is a public key of a type no known_hosts line can hold; checking
// it makes knownhosts report every key known for a host.
type probeKey struct{}

func (probeKey) Type() string                            { return "globex-probe@invalid" }
func (probeKey) Marshal() []byte                         { return []byte("globex-probe") }
func (probeKey) Verify(_ []byte, _ *ssh.Signature) error { return errors.New("probe key") }

// knownKeys returns the keys that the known_hosts callback holds for addr.
func knownKeys(cb ssh.HostKeyCallback, addr string) ([]knownhosts.KnownKey, error) {
	err := cb(addr, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 22}, probeKey{})
	var ke *knownhosts.KeyError
	if errors.As(err, &ke) {
		return ke.Want, nil
	}
	if err == nil {
		return nil, errors.New("known_hosts accepted a probe key")
	}
	return nil, err
}

// algorithmsFor maps key types known for a host to host-key signature
// algorithms, in a stable order of preference.
func algorithmsFor(keys []knownhosts.KnownKey, allowSHA1 bool) []string {
	seen := map[string]bool{}
	var out []string
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	for _, pref := range preferredTypes {
		for _, k := range keys {
			if k.Key.Type() != pref {
				continue
			}
			if pref == ssh.KeyAlgoRSA {
				add(ssh.KeyAlgoRSASHA512)
				add(ssh.KeyAlgoRSASHA256)
				if allowSHA1 {
					add(ssh.KeyAlgoRSA)
				}
				continue
			}
			add(pref)
		}
	}
	return out
}

// preferredTypes orders key types; types not listed are not negotiated.
var preferredTypes = []string{
	ssh.KeyAlgoED25519,
	ssh.KeyAlgoECDSA521,
	ssh.KeyAlgoECDSA384,
	ssh.KeyAlgoECDSA256,
	ssh.KeyAlgoSKED25519,
	ssh.KeyAlgoSKECDSA256,
	ssh.KeyAlgoRSA,
}

// certAlgorithms are the host-certificate algorithms, offered when
// known_hosts trusts a certificate authority (@cert-authority).
func certAlgorithms(allowSHA1 bool) []string {
	a := []string{ssh.CertAlgoED25519v01, ssh.CertAlgoECDSA521v01, ssh.CertAlgoECDSA384v01, ssh.CertAlgoECDSA256v01,
		ssh.CertAlgoRSASHA512v01, ssh.CertAlgoRSASHA256v01}
	if allowSHA1 {
		a = append(a, ssh.CertAlgoRSAv01)
	}
	return a
}

// splitAuthorities separates the keys known for a host from the
// certificate authorities trusted for it (knownhosts reports both): it
// returns the keys and the number of authorities.
func splitAuthorities(keys []knownhosts.KnownKey) ([]knownhosts.KnownKey, int) {
	lines := map[string][]string{}
	var out []knownhosts.KnownKey
	n := 0
	for _, k := range keys {
		ls, ok := lines[k.Filename]
		if !ok {
			b, _ := os.ReadFile(k.Filename)
			ls = strings.Split(string(b), "\n")
			lines[k.Filename] = ls
		}
		if k.Line >= 1 && k.Line <= len(ls) && strings.HasPrefix(strings.TrimSpace(ls[k.Line-1]), "@cert-authority") {
			n++
			continue
		}
		out = append(out, k)
	}
	return out, n
}

// modernAlgorithms is offered for a host with no usable known key (the
// connection is then refused with the fingerprint of what it offers).
func modernAlgorithms(allowSHA1 bool) []string {
	a := []string{ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA521, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA256, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
	if allowSHA1 {
		a = append(a, ssh.KeyAlgoRSA)
	}
	return a
}

// hostKeyPolicy reads known_hosts and returns the verifying callback and the
// host-key algorithms to offer for cfg's host. The callback records the key
// it saw in *seen.
func hostKeyPolicy(cfg Config, seen *HostKey) (ssh.HostKeyCallback, []string, error) {
	if _, err := os.Stat(cfg.KnownHosts); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("sftp %s: known_hosts file %s does not exist; run `%s` to fetch and confirm the server's key", cfg.Addr(), cfg.KnownHosts, cfg.TrustHint)
		}
		return nil, nil, fmt.Errorf("sftp %s: known_hosts: %w", cfg.Addr(), err)
	}
	base, err := knownhosts.New(cfg.KnownHosts)
	if err != nil {
		return nil, nil, fmt.Errorf("sftp %s: known_hosts %s: %v", cfg.Addr(), cfg.KnownHosts, err)
	}
	addr := cfg.Addr()
	known, err := knownKeys(base, addr)
	if err != nil {
		return nil, nil, fmt.Errorf("sftp %s: known_hosts %s: %v", addr, cfg.KnownHosts, err)
	}
	known, authorities := splitAuthorities(known)
	algos := algorithmsFor(known, cfg.AllowSHA1RSA)
	if len(algos) == 0 {
		algos = modernAlgorithms(cfg.AllowSHA1RSA)
		// No key of this host is known, but a certificate authority for
		// it is: ask for a host certificate first.
		if authorities > 0 {
			algos = append(certAlgorithms(cfg.AllowSHA1RSA), algos...)
		}
	}
	cb := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		hk := newHostKey(cfg.Host, cfg.Port, key)
		if seen != nil {
			*seen = hk
		}
		err := base(addr, remote, key)
		if err == nil {
			return nil
		}
		e := &HostKeyError{Addr: addr, KnownHosts: cfg.KnownHosts, Offered: hk, TrustHint: cfg.TrustHint}
		var ke *knownhosts.KeyError
		var re *knownhosts.RevokedError
		switch {
		case errors.As(err, &re):
			e.Kind = ErrHostKeyRevoked
		case errors.As(err, &ke) && len(ke.Want) > 0:
			e.Kind = ErrHostKeyChanged
			for _, w := range ke.Want {
				e.Known = append(e.Known, fmt.Sprintf("%s %s (%s:%d)", w.Key.Type(), ssh.FingerprintSHA256(w.Key), filepath.Base(w.Filename), w.Line))
			}
		case errors.As(err, &ke):
			e.Kind = ErrUnknownHost
		default:
			return fmt.Errorf("sftp %s: checking host key: %v", addr, err)
		}
		return e
	}
	return cb, algos, nil
}

// errKeyFetched stops the handshake once FetchHostKeys has the key.
var errKeyFetched = errors.New("host key fetched")

// FetchHostKeys connects to host:port and returns the host keys the server
// offers (ed25519, ECDSA and RSA, as available), without authenticating and
// without trusting anything; like ssh-keyscan. Use it for `globex trust`.
func FetchHostKeys(ctx context.Context, host string, port int, timeout time.Duration) ([]HostKey, error) {
	if port == 0 {
		port = DefaultPort
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	addr := joinHostPort(host, port)
	groups := [][]string{
		{ssh.KeyAlgoED25519},
		{ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521},
		{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA},
	}
	var keys []HostKey
	var lastErr error
	for _, algos := range groups {
		var got ssh.PublicKey
		conf := &ssh.ClientConfig{
			User:              "globex-trust",
			HostKeyAlgorithms: algos,
			Timeout:           timeout,
			HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
				got = key
				return errKeyFetched
			},
		}
		nc, err := dialTCP(ctx, addr, timeout)
		if err != nil {
			return nil, fmt.Errorf("sftp %s: cannot connect: %w", addr, err)
		}
		stop := context.AfterFunc(ctx, func() { nc.Close() })
		_ = nc.SetDeadline(time.Now().Add(timeout))
		c, chans, reqs, err := ssh.NewClientConn(nc, addr, conf)
		stop()
		if err == nil { // cannot happen: the callback always refuses
			ssh.NewClient(c, chans, reqs).Close()
		}
		nc.Close()
		if got != nil {
			keys = append(keys, newHostKey(host, port, got))
			continue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		lastErr = err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("sftp %s: the server offered no host key: %v", addr, lastErr)
	}
	return keys, nil
}

func dialTCP(ctx context.Context, addr string, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	return d.DialContext(ctx, "tcp", addr)
}

// KnownHostsLine renders hk as a known_hosts line, with the host in
// "[host]:port" form for ports other than 22 and hashed (|1|salt|hash, as
// `ssh-keygen -H` does) when hashed is true.
func KnownHostsLine(hk HostKey, hashed bool) string {
	port := hk.Port
	if port == 0 {
		port = DefaultPort
	}
	host := knownhosts.Normalize(net.JoinHostPort(hk.Host, strconv.Itoa(port)))
	if hashed {
		host = knownhosts.HashHostname(host)
	}
	return knownhosts.Line([]string{host}, hk.Key)
}

// AddKnownHost appends hk to the known_hosts file at path, creating the file
// (mode 0600) and its folder (0700) if needed. It does nothing when the
// file already trusts exactly this key for the host. hashed selects a hashed
// host name.
func AddKnownHost(path string, hk HostKey, hashed bool) error {
	if hk.Key == nil {
		return errors.New("sftp: AddKnownHost: host key is empty")
	}
	port := hk.Port
	if port == 0 {
		port = DefaultPort
	}
	addr := joinHostPort(hk.Host, port)
	existing, err := os.ReadFile(path)
	switch {
	case err == nil:
		if cb, err := knownhosts.New(path); err == nil {
			if cb(addr, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}, hk.Key) == nil {
				return nil // already trusted
			}
		}
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("sftp: known_hosts: %w", err)
		}
	default:
		return fmt.Errorf("sftp: known_hosts: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sftp: known_hosts: %w", err)
	}
	var buf bytes.Buffer
	if len(existing) > 0 && existing[len(existing)-1] != '\n' {
		buf.WriteByte('\n')
	}
	buf.WriteString(KnownHostsLine(HostKey{Host: hk.Host, Port: port, Key: hk.Key}, hashed))
	buf.WriteByte('\n')
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("sftp: known_hosts %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sftp: known_hosts %s: %w", path, err)
	}
	return f.Close()
}
