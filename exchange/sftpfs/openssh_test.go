package sftpfs_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"globex/exchange/sftpfs"
	"globex/exchange/sftpfs/sftptest"
)

// TestOpenSSHRoundTrip drives every call against the real OpenSSH server.
func TestOpenSSHRoundTrip(t *testing.T) {
	s := sftptest.StartOpenSSH(t)
	c := newClient(t, opensshConfig(s))
	ctx := ctxT(t, 30*time.Second)

	if err := c.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	info, ok := c.Info()
	if !ok || info.HostKeyAlgorithm != ssh.KeyAlgoED25519 || !info.PosixRename {
		t.Errorf("Info = %+v, %v; want ed25519 and posix-rename", info, ok)
	}
	if info.HostKey.Fingerprint != ssh.FingerprintSHA256(s.HostKeys[0]) {
		t.Errorf("host key %s, want %s", info.HostKey.Fingerprint, ssh.FingerprintSHA256(s.HostKeys[0]))
	}

	if err := c.MkdirAll(ctx, "out/feeds"); err != nil {
		t.Fatalf("MkdirAll: %v", err)
	}
	data := pattern(3<<20 + 17)
	if err := c.Upload(ctx, "out/feeds/items.csv", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	got, sum := download(t, c, "out/feeds/items.csv")
	if !bytes.Equal(got, data) || sum != sha(data) {
		t.Fatalf("download differs (sum %s want %s)", sum, sha(data))
	}
	// Replace: atomically (posix-rename), no temp left.
	data2 := []byte("sku;qty\nA;1\n")
	if err := c.Upload(ctx, "out/feeds/items.csv", bytes.NewReader(data2), -1); err != nil {
		t.Fatalf("Upload replace: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(s.Root, "out/feeds/items.csv")); !bytes.Equal(b, data2) {
		t.Fatalf("after replace: %q", b)
	}
	noTemps(t, filepath.Join(s.Root, "out/feeds"))

	ents, err := c.List(ctx, "out")
	if err != nil || len(ents) != 1 || ents[0].Name != "feeds" || !ents[0].IsDir {
		t.Fatalf("List = %+v, %v", ents, err)
	}
	e, err := c.Stat(ctx, "out/feeds/items.csv")
	if err != nil || e.Size != int64(len(data2)) || e.IsDir || e.ModTime.Location() != time.UTC {
		t.Fatalf("Stat = %+v, %v", e, err)
	}

	// Claim: rename into a processing folder; never clobber.
	writeFile(t, filepath.Join(s.Root, "in/order-1.json"), []byte(`{"id":1}`))
	writeFile(t, filepath.Join(s.Root, "in/processing/order-2.json"), []byte(`{"id":2}`))
	writeFile(t, filepath.Join(s.Root, "in/order-2.json"), []byte(`{"id":"2b"}`))
	if err := c.Rename(ctx, "in/order-1.json", "in/processing/order-1.json"); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	err = c.Rename(ctx, "in/order-2.json", "in/processing/order-2.json")
	if !errors.Is(err, fs.ErrExist) || sftpfs.IsTransient(err) {
		t.Fatalf("Rename onto existing: %v, want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(filepath.Join(s.Root, "in/processing/order-2.json")); string(b) != `{"id":2}` {
		t.Fatalf("existing target clobbered: %q", b)
	}
	if err := c.Remove(ctx, "in/order-2.json"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	_, err = c.Stat(ctx, "in/order-2.json")
	if !errors.Is(err, fs.ErrNotExist) || sftpfs.IsTransient(err) {
		t.Fatalf("Stat removed: %v", err)
	}
	mustContain(t, err.Error(), s.User+"@"+s.Addr(), "stat", "in/order-2.json", "no such file")

	_, _, err = c.Download(ctx, "missing.xml", &bytes.Buffer{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Download missing: %v", err)
	}
	if _, err := c.List(ctx, "../etc"); err == nil {
		t.Fatal("List ../etc: want an error")
	}
}

// TestOpenSSHRenameStrategies uploads over an existing file with plain
// SSH_FXP_RENAME (which OpenSSH refuses onto an existing name) and direct.
func TestOpenSSHRenameStrategies(t *testing.T) {
	s := sftptest.StartOpenSSH(t)
	for _, strategy := range []string{sftpfs.StrategyRename, sftpfs.StrategyDirect, sftpfs.StrategyPosixRename} {
		t.Run(strategy, func(t *testing.T) {
			cfg := opensshConfig(s)
			cfg.RenameStrategy = strategy
			c := newClient(t, cfg)
			ctx := ctxT(t, 20*time.Second)
			name := "feed-" + strategy + ".xml"
			for i, body := range []string{"<old/>", "<new>longer</new>"} {
				if err := c.Upload(ctx, name, strings.NewReader(body), int64(len(body))); err != nil {
					t.Fatalf("upload %d: %v", i, err)
				}
				if b, _ := os.ReadFile(filepath.Join(s.Root, name)); string(b) != body {
					t.Fatalf("upload %d: content %q", i, b)
				}
			}
			noTemps(t, s.Root)
		})
	}
}

// TestOpenSSHHostKeyAlgorithms: the server has ed25519, ECDSA and RSA keys;
// known_hosts holds only one of them. Plain x/crypto with knownhosts fails
// (golang/go#29286); globex negotiates the known type.
func TestOpenSSHHostKeyAlgorithms(t *testing.T) {
	s := sftptest.StartOpenSSHWith(t, sftptest.OpenSSHOptions{RSA: true})
	dir := t.TempDir()
	wantAlgo := []string{ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoRSASHA512}
	for i, hk := range s.HostKeys {
		kh := filepath.Join(dir, hk.Type())
		sftptest.WriteKnownHosts(t, kh, s.Host, s.Port, hk)
		t.Run(hk.Type(), func(t *testing.T) {
			cfg := opensshConfig(s)
			cfg.KnownHosts = kh
			c := newClient(t, cfg)
			if err := c.Ping(ctxT(t, 10*time.Second)); err != nil {
				t.Fatalf("Ping with only %s known: %v", hk.Type(), err)
			}
			info, _ := c.Info()
			if info.HostKeyAlgorithm != wantAlgo[i] || info.HostKey.Type != hk.Type() {
				t.Errorf("negotiated %s (%s), want %s", info.HostKeyAlgorithm, info.HostKey.Type, wantAlgo[i])
			}
		})
	}
	// The trap this avoids: default algorithms prefer ECDSA, so a host
	// known only by ed25519 is refused by plain x/crypto.
	cb, err := knownhosts.New(filepath.Join(dir, ssh.KeyAlgoED25519))
	if err != nil {
		t.Fatal(err)
	}
	signer := loadSigner(t, s.KeyFile)
	_, err = ssh.Dial("tcp", s.Addr(), &ssh.ClientConfig{User: s.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: cb, Timeout: 5 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "key mismatch") {
		t.Logf("note: plain x/crypto did not hit golang/go#29286 here: %v", err)
	}
}

func loadSigner(t testing.TB, path string) ssh.Signer {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sg, err := ssh.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return sg
}

// TestOpenSSHTrust: unknown host refused with its fingerprint; FetchHostKeys
// + AddKnownHost (plain and hashed) then connects.
func TestOpenSSHTrust(t *testing.T) {
	s := sftptest.StartOpenSSHWith(t, sftptest.OpenSSHOptions{})
	for _, hashed := range []bool{false, true} {
		kh := filepath.Join(t.TempDir(), "sub", "known_hosts")
		cfg := opensshConfig(s)
		cfg.KnownHosts = kh
		cfg.TrustHint = "globex trust -c globex.yaml shop"
		c := newClient(t, cfg)
		err := c.Ping(ctxT(t, 10*time.Second))
		if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "globex trust -c globex.yaml shop") {
			t.Fatalf("missing known_hosts: %v", err)
		}
		keys, err := sftpfs.FetchHostKeys(ctxT(t, 10*time.Second), s.Host, s.Port, 5*time.Second)
		if err != nil {
			t.Fatalf("FetchHostKeys: %v", err)
		}
		if len(keys) != len(s.HostKeys) {
			t.Fatalf("FetchHostKeys = %v, want %d keys", keys, len(s.HostKeys))
		}
		for i, k := range keys {
			if k.Fingerprint != ssh.FingerprintSHA256(s.HostKeys[i]) || !strings.HasPrefix(k.Fingerprint, "SHA256:") {
				t.Errorf("key %d: %s, want %s", i, k, ssh.FingerprintSHA256(s.HostKeys[i]))
			}
		}
		// Unknown host: the file exists but lacks this host.
		writeFile(t, kh, []byte("other.example "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.HostKeys[0])))+"\n"))
		err = c.Ping(ctxT(t, 10*time.Second))
		if !errors.Is(err, sftpfs.ErrUnknownHost) || sftpfs.IsTransient(err) {
			t.Fatalf("unknown host: %v", err)
		}
		mustContain(t, err.Error(), s.Addr(), keys[0].Fingerprint, "globex trust -c globex.yaml shop")

		if err := sftpfs.AddKnownHost(kh, keys[0], hashed); err != nil {
			t.Fatalf("AddKnownHost: %v", err)
		}
		if err := sftpfs.AddKnownHost(kh, keys[0], hashed); err != nil { // idempotent
			t.Fatalf("AddKnownHost again: %v", err)
		}
		b, _ := os.ReadFile(kh)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != 2 {
			t.Fatalf("known_hosts has %d lines, want 2:\n%s", len(lines), b)
		}
		wantPrefix := "[127.0.0.1]:"
		if hashed {
			wantPrefix = "|1|"
		}
		if !strings.HasPrefix(lines[1], wantPrefix) {
			t.Errorf("line %q does not start with %q", lines[1], wantPrefix)
		}
		if err := c.Ping(ctxT(t, 10*time.Second)); err != nil {
			t.Fatalf("after trust: %v", err)
		}
		// OpenSSH itself accepts the line.
		if ok := opensshAccepts(t, s, kh); !ok {
			t.Errorf("ssh-keygen -F does not find the host in %s", kh)
		}
	}
}

// opensshAccepts asks ssh-keygen -F whether known_hosts has the host.
func opensshAccepts(t testing.TB, s *sftptest.Server, kh string) bool {
	path, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Log("ssh-keygen not installed; skipping the OpenSSH cross-check")
		return true
	}
	out, err := exec.Command(path, "-F", "["+s.Host+"]:"+strconv.Itoa(s.Port), "-f", kh).CombinedOutput()
	return err == nil && strings.Contains(string(out), "found")
}

// TestOpenSSHChangedKey: known_hosts holds another ed25519 key for the host.
func TestOpenSSHChangedKey(t *testing.T) {
	s := sftptest.StartOpenSSH(t)
	other := sftptest.GenerateKey(t, sftptest.Ed25519, "", "", "")
	kh := filepath.Join(t.TempDir(), "known_hosts")
	sftptest.WriteKnownHosts(t, kh, s.Host, s.Port, other.Public())
	cfg := opensshConfig(s)
	cfg.KnownHosts = kh
	c := newClient(t, cfg)
	err := c.Ping(ctxT(t, 10*time.Second))
	if !errors.Is(err, sftpfs.ErrHostKeyChanged) || sftpfs.IsTransient(err) {
		t.Fatalf("changed key: %v", err)
	}
	mustContain(t, err.Error(), s.Addr(), "HOST KEY CHANGED", ssh.FingerprintSHA256(other.Public()), ssh.FingerprintSHA256(s.HostKeys[0]))
}

// fixtures is the repository's testdata/sftp folder.
var fixtures = filepath.Join("..", "..", "testdata", "sftp")

// TestOpenSSHPassphraseKey: encrypted client keys made by ssh-keygen (an
// OpenSSH-format ed25519 key and a legacy PEM RSA key), passphrase from the
// environment and from a file; wrong and missing passphrases are named
// without revealing them.
func TestOpenSSHPassphraseKey(t *testing.T) {
	s := sftptest.StartOpenSSH(t)
	keys := []struct{ file, secret string }{
		{"id_ed25519_enc", "test-passphrase-ed"},
		{"id_rsa_pem_enc", "test-passphrase-rsa"},
	}
	for _, key := range keys {
		b, err := os.ReadFile(filepath.Join(fixtures, key.file+".pub"))
		if err != nil {
			t.Fatal(err)
		}
		pub, _, _, _, err := ssh.ParseAuthorizedKey(b)
		if err != nil {
			t.Fatal(err)
		}
		s.Authorize(pub)
		dir := t.TempDir()
		ppFile := filepath.Join(dir, "pp")
		writeFile(t, ppFile, []byte(key.secret+"\r\n"))
		badFile := filepath.Join(dir, "bad")
		writeFile(t, badFile, []byte("wrong-"+key.secret+"\n"))
		t.Setenv("GLOBEX_TEST_PP", key.secret)
		t.Setenv("GLOBEX_TEST_PP_BAD", "nope-"+key.secret)

		cases := []struct {
			name, env, file string
			wantErr         string
		}{
			{"env", "GLOBEX_TEST_PP", "", ""},
			{"file", "", ppFile, ""},
			{"missing", "", "", "is encrypted"},
			{"wrong-env", "GLOBEX_TEST_PP_BAD", "", "GLOBEX_TEST_PP_BAD is wrong"},
			{"wrong-file", "", badFile, "passphrase from file"},
			{"unset-env", "GLOBEX_TEST_PP_UNSET", "", "GLOBEX_TEST_PP_UNSET is unset"},
		}
		for _, tc := range cases {
			t.Run(key.file+"/"+tc.name, func(t *testing.T) {
				cfg := opensshConfig(s)
				cfg.KeyFile, cfg.PassphraseEnv, cfg.PassphraseFile = filepath.Join(fixtures, key.file), tc.env, tc.file
				c := newClient(t, cfg)
				err := c.Ping(ctxT(t, 10*time.Second))
				if tc.wantErr == "" {
					if err != nil {
						t.Fatalf("Ping: %v", err)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || sftpfs.IsTransient(err) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), key.secret) {
					t.Fatalf("error reveals the passphrase: %v", err)
				}
			})
		}
	}
}

// TestKnownHostsFromSSHKeygen: lines hashed by ssh-keygen -H are matched.
func TestKnownHostsFromSSHKeygen(t *testing.T) {
	kh := filepath.Join(t.TempDir(), "known_hosts")
	b, err := os.ReadFile(filepath.Join(fixtures, "known_hosts_hashed"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, kh, b)
	for _, tc := range []struct {
		pub, host string
		port      int
	}{{"id_ed25519_enc.pub", "127.0.0.1", 2222}, {"id_rsa_pem_enc.pub", "sftp.example.nl", 22}} {
		pb, _ := os.ReadFile(filepath.Join(fixtures, tc.pub))
		pub, _, _, _, err := ssh.ParseAuthorizedKey(pb)
		if err != nil {
			t.Fatal(err)
		}
		// Already known: AddKnownHost must not append.
		if err := sftpfs.AddKnownHost(kh, sftpfs.HostKey{Host: tc.host, Port: tc.port, Key: pub}, true); err != nil {
			t.Fatal(err)
		}
	}
	if after, _ := os.ReadFile(kh); !bytes.Equal(after, b) {
		t.Fatalf("known_hosts changed:\n%s", after)
	}
}

// TestOpenSSHAuthFailure names user, host and method, not secrets.
func TestOpenSSHAuthFailure(t *testing.T) {
	s := sftptest.StartOpenSSH(t)
	stranger := sftptest.GenerateKey(t, sftptest.Ed25519, t.TempDir(), "id_x", "")
	cfg := opensshConfig(s)
	cfg.KeyFile = stranger.Path
	t.Setenv("GLOBEX_TEST_PW", "hunter2-Secret")
	cfg.PasswordEnv = "GLOBEX_TEST_PW"
	c := newClient(t, cfg)
	err := c.Ping(ctxT(t, 10*time.Second))
	if err == nil || sftpfs.IsTransient(err) {
		t.Fatalf("Ping = %v, want a permanent auth error", err)
	}
	mustContain(t, err.Error(), s.User+"@"+s.Addr(), "authentication", "publickey", stranger.Path, "GLOBEX_TEST_PW")
	if strings.Contains(err.Error(), "hunter2-Secret") {
		t.Fatalf("error reveals the password: %v", err)
	}
}

// TestOpenSSHSHA1RSA: a server that signs its RSA host key only with SHA-1
// is refused unless AllowSHA1RSA.
func TestOpenSSHSHA1RSA(t *testing.T) {
	s := sftptest.StartOpenSSHWith(t, sftptest.OpenSSHOptions{RSA: true, Extra: "HostKeyAlgorithms ssh-rsa"})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	sftptest.WriteKnownHosts(t, kh, s.Host, s.Port, s.HostKeys...)
	cfg := opensshConfig(s)
	cfg.KnownHosts = kh
	err := newClient(t, cfg).Ping(ctxT(t, 10*time.Second))
	if err == nil || sftpfs.IsTransient(err) {
		t.Fatalf("SHA-1 only server accepted without opt-in: %v", err)
	}
	mustContain(t, err.Error(), "allow_sha1_rsa")
	cfg.AllowSHA1RSA = true
	c := newClient(t, cfg)
	if err := c.Ping(ctxT(t, 10*time.Second)); err != nil {
		t.Fatalf("with AllowSHA1RSA: %v", err)
	}
	if info, _ := c.Info(); info.HostKeyAlgorithm != ssh.KeyAlgoRSA {
		t.Errorf("negotiated %s", info.HostKeyAlgorithm)
	}
}

// A known_hosts that trusts a certificate authority (@cert-authority) and
// lists no key of the host: the client asks for a host certificate and
// accepts one signed by that authority, and only by that one.
func TestOpenSSHHostCertificate(t *testing.T) {
	ca := sftptest.GenerateKey(t, sftptest.Ed25519, "", "ca", "")
	s := sftptest.StartOpenSSHWith(t, sftptest.OpenSSHOptions{HostCA: ca.Signer})
	writeCA := func(name string, pub ssh.PublicKey) string {
		path := filepath.Join(t.TempDir(), name)
		line := "@cert-authority " + knownhosts.Normalize(s.Addr()) + " " + string(ssh.MarshalAuthorizedKey(pub))
		writeFile(t, path, []byte("# the site's SSH certificate authority\n"+line))
		return path
	}
	cfg := opensshConfig(s)
	cfg.KnownHosts = writeCA("known_hosts", ca.Public())
	c := newClient(t, cfg)
	if err := c.Ping(ctxT(t, 30*time.Second)); err != nil {
		t.Fatalf("Ping with a host certificate: %v", err)
	}
	if info, _ := c.Info(); !strings.Contains(info.HostKeyAlgorithm, "-cert-v01@openssh.com") {
		t.Errorf("host key algorithm %q, want a certificate", info.HostKeyAlgorithm)
	}

	other := sftptest.GenerateKey(t, sftptest.Ed25519, "", "other", "")
	cfg.KnownHosts = writeCA("known_hosts_other", other.Public())
	c2, err := sftpfs.New(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := c2.Ping(ctxT(t, 30*time.Second)); err == nil {
		t.Fatal("a certificate of another authority was accepted")
	}
}
