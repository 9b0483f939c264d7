// Package sftptest runs SFTP servers for tests: the real OpenSSH sshd
// (StartOpenSSH) and an in-process server with fault injection
// (StartInProcess).
package sftptest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"
)

// KeyKind names a key type for GenerateKey.
type KeyKind string

// Key kinds.
const (
	Ed25519 KeyKind = "ed25519"
	ECDSA   KeyKind = "ecdsa"
	RSA     KeyKind = "rsa"
)

// Key is a generated key pair.
type Key struct {
	Signer  ssh.Signer
	Private crypto.PrivateKey
	Path    string // OpenSSH private key file (mode 0600), if written
}

// Public returns the public key.
func (k Key) Public() ssh.PublicKey { return k.Signer.PublicKey() }

// GenerateKey makes a key of the given kind. With dir non-empty it writes
// the private key in OpenSSH format to dir/name (encrypted when passphrase
// is non-empty) and the public key to dir/name.pub.
func GenerateKey(t testing.TB, kind KeyKind, dir, name, passphrase string) Key {
	t.Helper()
	var priv crypto.PrivateKey
	var err error
	switch kind {
	case Ed25519:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case ECDSA:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RSA:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		t.Fatalf("sftptest: unknown key kind %q", kind)
	}
	if err != nil {
		t.Fatalf("sftptest: generating %s key: %v", kind, err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatalf("sftptest: %v", err)
	}
	k := Key{Signer: signer, Private: priv}
	if dir == "" {
		return k
	}
	var block *pem.Block
	if passphrase != "" {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "globex-test", []byte(passphrase))
	} else {
		block, err = ssh.MarshalPrivateKey(priv, "globex-test")
	}
	if err != nil {
		t.Fatalf("sftptest: marshal key: %v", err)
	}
	k.Path = filepath.Join(dir, name)
	if err := os.WriteFile(k.Path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatalf("sftptest: %v", err)
	}
	if err := os.WriteFile(k.Path+".pub", ssh.MarshalAuthorizedKey(signer.PublicKey()), 0o644); err != nil {
		t.Fatalf("sftptest: %v", err)
	}
	return k
}

// WriteKnownHosts writes a known_hosts file at path listing keys for
// host:port in the form OpenSSH uses ("[host]:port" unless port 22).
func WriteKnownHosts(t testing.TB, path, host string, port int, keys ...ssh.PublicKey) {
	t.Helper()
	var out []byte
	name := host
	if port != 22 {
		name = fmt.Sprintf("[%s]:%d", host, port)
	}
	for _, k := range keys {
		out = append(out, name+" "...)
		out = append(out, ssh.MarshalAuthorizedKey(k)...)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatalf("sftptest: %v", err)
	}
}
