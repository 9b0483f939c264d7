package sftpfs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"globex/exchange/sftpfs"
	"globex/exchange/sftpfs/sftptest"
)

func opensshConfig(s *sftptest.Server) sftpfs.Config {
	return sftpfs.Config{
		Host: s.Host, Port: s.Port, User: s.User,
		KeyFile: s.KeyFile, KnownHosts: s.KnownHosts, Dir: s.Root,
		Timeout: 10 * time.Second,
	}
}

func inprocConfig(s *sftptest.InProcServer) sftpfs.Config {
	return sftpfs.Config{
		Host: s.Host, Port: s.Port, User: s.User,
		KeyFile: s.KeyFile, KnownHosts: s.KnownHosts, Dir: s.Root,
		Timeout: 5 * time.Second,
	}
}

func testLogger(t testing.TB) zerolog.Logger {
	if testing.Verbose() {
		return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.DebugLevel)
	}
	return zerolog.Nop()
}

func newClient(t testing.TB, cfg sftpfs.Config) *sftpfs.Client {
	t.Helper()
	c, err := sftpfs.New(cfg, testLogger(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// pattern returns n deterministic, poorly compressible bytes.
func pattern(n int) []byte {
	b := make([]byte, n)
	var x uint32 = 2463534242
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func download(t testing.TB, c *sftpfs.Client, name string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	n, sum, err := c.Download(ctxT(t, 20*time.Second), name, &buf)
	if err != nil {
		t.Fatalf("Download %s: %v", name, err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("Download %s: n=%d but wrote %d", name, n, buf.Len())
	}
	return buf.Bytes(), sum
}

// noTemps fails if dir holds upload temporaries or moved-aside files.
func noTemps(t testing.TB, dir string) {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		if strings.Contains(de.Name(), ".globex-") {
			t.Errorf("leftover %s in %s", de.Name(), dir)
		}
	}
}

func mustContain(t testing.TB, msg string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("error %q does not contain %q", msg, p)
		}
	}
}
