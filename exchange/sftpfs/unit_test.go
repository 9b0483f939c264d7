package sftpfs

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func TestValidate(t *testing.T) {
	ok := Config{Host: "h", User: "u", KeyFile: "k", KnownHosts: "kh"}
	cases := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"ok", func(*Config) {}, ""},
		{"password", func(c *Config) { c.KeyFile = ""; c.PasswordEnv = "PW" }, ""},
		{"host", func(c *Config) { c.Host = "" }, "host is empty"},
		{"user", func(c *Config) { c.User = "" }, "user is empty"},
		{"known_hosts", func(c *Config) { c.KnownHosts = "" }, "known_hosts is required"},
		{"auth", func(c *Config) { c.KeyFile = "" }, "set key_file or password_env"},
		{"port", func(c *Config) { c.Port = 70000 }, "port 70000"},
		{"two passphrases", func(c *Config) { c.PassphraseEnv = "A"; c.PassphraseFile = "f" }, "not both"},
		{"passphrase without key", func(c *Config) { c.KeyFile = ""; c.PasswordEnv = "P"; c.PassphraseEnv = "A" }, "key_file is empty"},
		{"strategy", func(c *Config) { c.RenameStrategy = "move" }, `rename_strategy "move"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mod(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
	d := ok.withDefaults()
	if d.Port != 22 || d.Timeout != 30*time.Second || d.MaxSessions != 2 || d.KeepAlive != 15*time.Second || d.TrustHint != DefaultTrustHint {
		t.Errorf("defaults: %+v", d)
	}
}

func TestTempName(t *testing.T) {
	if got := TempName("out/feed.xml"); got != "out/.feed.xml.globex-tmp" {
		t.Errorf("TempName = %q", got)
	}
	if !IsTemp(".feed.xml.globex-tmp") || IsTemp("feed.xml") || IsTemp("feed.globex-tmp") || !IsTemp(".feed.xml.123.globex-old") {
		t.Error("IsTemp")
	}
}

func TestRemotePaths(t *testing.T) {
	for _, tc := range []struct {
		dir, name, want string
		base            bool
	}{
		{"/export/globe", "a.xml", "/export/globe/a.xml", false},
		{"/export/globe", "in/./a.xml", "/export/globe/in/a.xml", false},
		{"/export/globe", "", "/export/globe", true},
		{"", "a.xml", "a.xml", false},
		{"", "", ".", true},
		{"/export", "../etc/passwd", "", false},
		{"/export", "a/../../x", "", false},
		{"/export", "/etc/passwd", "", false},
		{"/export", "", "", false},
	} {
		c := &Client{cfg: Config{Dir: tc.dir}}
		got, err := c.remote(tc.name, tc.base)
		if (err != nil) != (tc.want == "") || got != tc.want {
			t.Errorf("remote(%q in %q) = %q, %v; want %q", tc.name, tc.dir, got, err, tc.want)
		}
	}
}

// FuzzRemote: a name either is refused or maps inside Dir.
func FuzzRemote(f *testing.F) {
	for _, s := range []string{"a.xml", "../x", "a/../../b", "/abs", "a//b/", ".", "..", "a/..", "x/.."} {
		f.Add(s)
	}
	c := &Client{cfg: Config{Dir: "/export/globe"}}
	f.Fuzz(func(t *testing.T, name string) {
		got, err := c.remote(name, true)
		if err != nil {
			return
		}
		if clean := path.Clean(got); clean != "/export/globe" && !strings.HasPrefix(clean, "/export/globe/") {
			t.Fatalf("remote(%q) = %q escapes the base folder", name, got)
		}
	})
}

func genKey(t testing.TB) ssh.PublicKey {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKnownHostsLine(t *testing.T) {
	k := genKey(t)
	line := KnownHostsLine(HostKey{Host: "sftp.example.nl", Port: 2222, Key: k}, false)
	if !strings.HasPrefix(line, "[sftp.example.nl]:2222 ssh-ed25519 ") {
		t.Errorf("line %q", line)
	}
	line = KnownHostsLine(HostKey{Host: "sftp.example.nl", Port: 22, Key: k}, false)
	if !strings.HasPrefix(line, "sftp.example.nl ssh-ed25519 ") {
		t.Errorf("line %q", line)
	}
	dir := t.TempDir()
	kh := filepath.Join(dir, "a", "known_hosts")
	if err := AddKnownHost(kh, HostKey{Host: "sftp.example.nl", Port: 2222, Key: k}, true); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(kh)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 && os.PathSeparator == '/' {
		t.Errorf("known_hosts mode %o, want 600", perm)
	}
	cb, err := knownhosts.New(kh)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := knownKeys(cb, "sftp.example.nl:2222")
	if err != nil || len(keys) != 1 {
		t.Fatalf("knownKeys = %v, %v", keys, err)
	}
	if keys, _ := knownKeys(cb, "sftp.example.nl:22"); len(keys) != 0 {
		t.Errorf("port 22 matched a [host]:2222 entry")
	}
}

func TestAlgorithmsFor(t *testing.T) {
	ed := genKey(t)
	dir := t.TempDir()
	kh := filepath.Join(dir, "kh")
	content := "h " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(ed))) + "\n"
	if err := os.WriteFile(kh, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Host: "h", Port: 22, KnownHosts: kh}.withDefaults()
	_, algos, err := hostKeyPolicy(cfg, nil)
	if err != nil || strings.Join(algos, ",") != ssh.KeyAlgoED25519 {
		t.Fatalf("algos = %v, %v", algos, err)
	}
	cfg.Host = "unknown"
	_, algos, _ = hostKeyPolicy(cfg, nil)
	if strings.Contains(strings.Join(algos, ","), ssh.KeyAlgoRSA+",") || algos[len(algos)-1] == ssh.KeyAlgoRSA {
		t.Errorf("ssh-rsa offered without AllowSHA1RSA: %v", algos)
	}
	cfg.AllowSHA1RSA = true
	_, algos, _ = hostKeyPolicy(cfg, nil)
	if algos[len(algos)-1] != ssh.KeyAlgoRSA {
		t.Errorf("ssh-rsa not offered with AllowSHA1RSA: %v", algos)
	}
}

// FuzzKnownHosts: any known_hosts content yields algorithms or an error,
// never a panic.
func FuzzKnownHosts(f *testing.F) {
	f.Add("[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFv0p7rUu3yQ6c0c2Yk4q2oJm5m1xvXk1n8sQ0lS8cYB\n")
	f.Add("|1|Z75yXrksoM4FFK7F8DCBRlHoU4U=|ga1Re2ddA/PZFkAWgsebQKKTgPg= ssh-ed25519 AAAA\n")
	f.Add("@revoked * ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFv0p7rUu3yQ6c0c2Yk4q2oJm5m1xvXk1n8sQ0lS8cYB\n")
	f.Add("@cert-authority *.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFv0p7rUu3yQ6c0c2Yk4q2oJm5m1xvXk1n8sQ0lS8cYB\n")
	f.Add("# comment\n\n!neg,* ssh-rsa AAAA\n")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content string) {
		kh := filepath.Join(dir, "kh")
		if err := os.WriteFile(kh, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := Config{Host: "127.0.0.1", Port: 2222, KnownHosts: kh}.withDefaults()
		_, algos, err := hostKeyPolicy(cfg, nil)
		if err == nil && len(algos) == 0 {
			t.Fatal("no algorithms and no error")
		}
	})
}

func TestNewRejectsBadConfig(t *testing.T) {
	if _, err := New(Config{}, zerolog.Nop()); err == nil {
		t.Fatal("New accepted an empty config")
	}
}

func TestBackoff(t *testing.T) {
	if backoff(0) != 0 {
		t.Error("backoff(0)")
	}
	for n := 1; n < 20; n++ {
		d := backoff(n)
		if d <= 0 || d > 30*time.Second {
			t.Errorf("backoff(%d) = %s", n, d)
		}
	}
	if backoff(3) < 400*time.Millisecond {
		t.Errorf("backoff(3) = %s, want >= 400ms", backoff(3))
	}
}
