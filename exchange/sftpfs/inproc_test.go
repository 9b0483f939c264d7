package sftpfs_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"globex/exchange/sftpfs"
	"globex/exchange/sftpfs/sftptest"
)

func TestHostKeyRefusedNothingTouched(t *testing.T) {
	s := sftptest.StartInProcess(t, nil)
	writeFile(t, filepath.Join(s.Root, "order.json"), []byte("{}"))
	wrong := sftptest.GenerateKey(t, sftptest.Ed25519, "", "", "")
	s.SetHostKeys(wrong.Signer) // known_hosts still has the original key

	c := newClient(t, inprocConfig(s))
	ctx := ctxT(t, 10*time.Second)
	_, err := c.List(ctx, "")
	if !errors.Is(err, sftpfs.ErrHostKeyChanged) || sftpfs.IsTransient(err) {
		t.Fatalf("List with a wrong host key: %v", err)
	}
	mustContain(t, err.Error(), s.Addr(), ssh.FingerprintSHA256(wrong.Public()), "HOST KEY CHANGED")
	for _, op := range []func() error{
		func() error { return c.Remove(ctx, "order.json") },
		func() error { return c.Rename(ctx, "order.json", "x.json") },
		func() error { return c.Upload(ctx, "feed.xml", strings.NewReader("x"), 1) },
	} {
		if err := op(); !errors.Is(err, sftpfs.ErrHostKeyChanged) {
			t.Errorf("op with a wrong host key: %v", err)
		}
	}
	if n := s.Requests(); n != 0 {
		t.Errorf("the server saw %d SFTP requests; want none", n)
	}
	if _, err := os.Stat(filepath.Join(s.Root, "order.json")); err != nil {
		t.Errorf("order.json touched: %v", err)
	}
}

// TestSeveralKeyTypes: the server offers ECDSA, RSA and ed25519 (x/crypto's
// default order would pick ECDSA); only ed25519 is known.
func TestSeveralKeyTypes(t *testing.T) {
	s := sftptest.StartInProcess(t, nil)
	ed := sftptest.GenerateKey(t, sftptest.Ed25519, "", "", "")
	ec := sftptest.GenerateKey(t, sftptest.ECDSA, "", "", "")
	s.SetHostKeys(ec.Signer, ed.Signer)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	// Hashed entry for the ed25519 key only, plus an unrelated host.
	if err := sftpfs.AddKnownHost(kh, sftpfs.HostKey{Host: "other.example", Port: 22, Key: ec.Public()}, false); err != nil {
		t.Fatal(err)
	}
	if err := sftpfs.AddKnownHost(kh, sftpfs.HostKey{Host: s.Host, Port: s.Port, Key: ed.Public()}, true); err != nil {
		t.Fatal(err)
	}
	cfg := inprocConfig(s)
	cfg.KnownHosts = kh
	c := newClient(t, cfg)
	if err := c.Ping(ctxT(t, 10*time.Second)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if info, _ := c.Info(); info.HostKeyAlgorithm != ssh.KeyAlgoED25519 {
		t.Errorf("negotiated %s, want ssh-ed25519", info.HostKeyAlgorithm)
	}
}

func TestPasswordAuth(t *testing.T) {
	s := sftptest.StartInProcess(t, nil)
	const pw = "Zomer2026!geheim"
	s.SetPassword(pw)
	cfg := inprocConfig(s)
	cfg.KeyFile = ""
	cfg.PasswordEnv = "GLOBEX_TEST_SFTP_PW"

	t.Setenv("GLOBEX_TEST_SFTP_PW", pw)
	c := newClient(t, cfg)
	if err := c.Ping(ctxT(t, 10*time.Second)); err != nil {
		t.Fatalf("password login: %v", err)
	}

	t.Setenv("GLOBEX_TEST_SFTP_PW", "wrong-"+pw)
	err := newClient(t, cfg).Ping(ctxT(t, 10*time.Second))
	if err == nil || sftpfs.IsTransient(err) {
		t.Fatalf("wrong password: %v", err)
	}
	mustContain(t, err.Error(), "authentication", "password (from env GLOBEX_TEST_SFTP_PW)", s.User+"@"+s.Addr())
	if strings.Contains(err.Error(), pw) {
		t.Fatalf("error reveals the password: %v", err)
	}

	t.Setenv("GLOBEX_TEST_SFTP_PW", "")
	err = newClient(t, cfg).Ping(ctxT(t, 10*time.Second))
	if err == nil || !strings.Contains(err.Error(), "GLOBEX_TEST_SFTP_PW is unset or empty") {
		t.Fatalf("empty password env: %v", err)
	}
}

func TestDownloadCutAndReconnect(t *testing.T) {
	s := sftptest.StartInProcess(t, nil)
	data := pattern(4 << 20)
	writeFile(t, filepath.Join(s.Root, "big.xml"), data)
	var cut atomic.Bool
	s.SetFaults(sftptest.Faults{Read: func(_ string, off int64) error {
		if off >= 1<<20 && cut.CompareAndSwap(false, true) {
			s.CutConnections()
			return errors.New("cut")
		}
		return nil
	}})
	c := newClient(t, inprocConfig(s))
	var buf bytes.Buffer
	n, _, err := c.Download(ctxT(t, 10*time.Second), "big.xml", &buf)
	switch {
	case err == nil:
		// The cut came before any byte reached the writer, so the client
		// was allowed to retry on a new connection: the result must be whole.
		if n != int64(len(data)) || !bytes.Equal(buf.Bytes(), data) {
			t.Fatalf("retried download is not whole: n=%d", n)
		}
	case !sftpfs.IsTransient(err):
		t.Fatalf("cut download: n=%d err=%v, want a transient error", n, err)
	}
	if !cut.Load() {
		t.Fatal("the fault was never injected")
	}
	got, sum := download(t, c, "big.xml") // reconnects
	if !bytes.Equal(got, data) || sum != sha(data) {
		t.Fatal("download after reconnect differs")
	}
	if s.Accepted() < 2 {
		t.Errorf("accepted %d connections; want a reconnect", s.Accepted())
	}
}

func TestUploadCutLeavesNoHalfFile(t *testing.T) {
	s := sftptest.StartInProcess(t, nil)
	writeFile(t, filepath.Join(s.Root, "feed.xml"), []byte("<old/>"))
	var cut atomic.Bool
	s.SetFaults(sftptest.Faults{Write: func(_ string, off int64) error {
		if off >= 512<<10 && cut.CompareAndSwap(false, true) {
			s.CutConnections()
			return errors.New("cut")
		}
		return nil
	}})
	c := newClient(t, inprocConfig(s))
	data := pattern(2 << 20)
	err := c.Upload(ctxT(t, 10*time.Second), "feed.xml", bytes.NewReader(data), int64(len(data)))
	if err == nil || !sftpfs.IsTransient(err) {
		t.Fatalf("cut upload: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(s.Root, "feed.xml")); string(b) != "<old/>" {
		t.Fatalf("target changed by a failed upload: %d bytes", len(b))
	}
	// The next call (after reconnecting) removes the stale temp file.
	if err := c.Ping(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	noTemps(t, s.Root)
	if err := c.Upload(ctxT(t, 10*time.Second), "feed.xml", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("upload after reconnect: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(s.Root, "feed.xml")); !bytes.Equal(b, data) {
		t.Fatal("upload content differs")
	}
	noTemps(t, s.Root)
}

func TestUploadSizeMismatchAndRenameRefused(t *testing.T) {
	s := sftptest.StartInProcess(t, nil)
	writeFile(t, filepath.Join(s.Root, "feed.xml"), []byte("<old/>"))
	c := newClient(t, inprocConfig(s))
	ctx := ctxT(t, 10*time.Second)
	err := c.Upload(ctx, "feed.xml", strings.NewReader("<new/>"), 99)
	if !errors.Is(err, sftpfs.ErrSizeMismatch) || sftpfs.IsTransient(err) {
		t.Fatalf("size mismatch: %v", err)
	}
	s.SetFaults(sftptest.Faults{Before: func(method, _ string) error {
		if method == "PosixRename" || method == "Rename" {
			return sftp.ErrSSHFxPermissionDenied
		}
		return nil
	}})
	err = c.Upload(ctx, "feed.xml", strings.NewReader("<new/>"), 6)
	if !errors.Is(err, fs.ErrPermission) || sftpfs.IsTransient(err) {
		t.Fatalf("rename refused: %v", err)
	}
	mustContain(t, err.Error(), "upload", "feed.xml", "permission denied")
	if b, _ := os.ReadFile(filepath.Join(s.Root, "feed.xml")); string(b) != "<old/>" {
		t.Fatalf("target changed: %q", b)
	}
	noTemps(t, s.Root)
	err = c.Rename(ctx, "feed.xml", "claimed.xml")
	if !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("claim refused: %v", err)
	}
}

func TestPermissionDenied(t *testing.T) {
	s := sftptest.StartInProcess(t, &sftptest.Faults{Before: func(method, _ string) error {
		if method == "List" {
			return sftp.ErrSSHFxPermissionDenied
		}
		return nil
	}})
	c := newClient(t, inprocConfig(s))
	_, err := c.List(ctxT(t, 10*time.Second), "in")
	if !errors.Is(err, fs.ErrPermission) || sftpfs.IsTransient(err) {
		t.Fatalf("List: %v", err)
	}
	mustContain(t, err.Error(), "list", filepath.ToSlash(filepath.Join(s.Root, "in")), "permission denied")
}

// TestRestartDuringPoll: the server goes down and comes back while a List
// is retrying.
func TestRestartDuringPoll(t *testing.T) {
	s := sftptest.StartInProcess(t, nil)
	writeFile(t, filepath.Join(s.Root, "a.xml"), []byte("<a/>"))
	c := newClient(t, inprocConfig(s))
	ctx := ctxT(t, 10*time.Second)
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(400 * time.Millisecond)
		s.Start()
	}()
	ents, err := c.List(ctx, "")
	wg.Wait()
	if err != nil || len(ents) != 1 || ents[0].Name != "a.xml" {
		t.Fatalf("List across a restart = %+v, %v", ents, err)
	}
}

// TestServerDown: an unreachable server is a transient error, quickly.
func TestServerDown(t *testing.T) {
	s := sftptest.StartInProcess(t, nil)
	s.Stop()
	cfg := inprocConfig(s)
	cfg.Timeout = time.Second
	c := newClient(t, cfg)
	start := time.Now()
	err := c.Ping(ctxT(t, 10*time.Second))
	if err == nil || !sftpfs.IsTransient(err) {
		t.Fatalf("Ping to a stopped server: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s", d)
	}
	mustContain(t, err.Error(), s.Addr(), "ping")
}

// TestTimeout: a server that stops answering is cut off after
// Config.Timeout and the next call reconnects.
func TestTimeout(t *testing.T) {
	s := sftptest.StartInProcess(t, nil)
	writeFile(t, filepath.Join(s.Root, "a.xml"), []byte("<a/>"))
	release := make(chan struct{})
	var hang atomic.Bool
	hang.Store(true)
	s.SetFaults(sftptest.Faults{Before: func(method, _ string) error {
		if method == "Stat" && hang.Load() {
			<-release
		}
		return nil
	}})
	t.Cleanup(func() { close(release) })
	cfg := inprocConfig(s)
	cfg.Timeout = 300 * time.Millisecond
	c := newClient(t, cfg)
	start := time.Now()
	_, err := c.Stat(ctxT(t, 10*time.Second), "a.xml")
	if !errors.Is(err, os.ErrDeadlineExceeded) || !sftpfs.IsTransient(err) {
		t.Fatalf("Stat on a hung server: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("timeout took %s", d)
	}
	hang.Store(false)
	if e, err := c.Stat(ctxT(t, 10*time.Second), "a.xml"); err != nil || e.Size != 4 {
		t.Fatalf("Stat after timeout = %+v, %v", e, err)
	}

	// A slow but progressing download is not cut off.
	data := pattern(1 << 20)
	writeFile(t, filepath.Join(s.Root, "slow.xml"), data)
	s.SetFaults(sftptest.Faults{Read: func(string, int64) error { time.Sleep(15 * time.Millisecond); return nil }})
	cfg.MaxSessions = 1
	got, _ := download(t, c, "slow.xml")
	if !bytes.Equal(got, data) {
		t.Fatal("slow download differs")
	}
}

func TestContextCancel(t *testing.T) {
	s := sftptest.StartInProcess(t, nil)
	release := make(chan struct{})
	s.SetFaults(sftptest.Faults{Before: func(method, _ string) error {
		if method == "List" {
			<-release
		}
		return nil
	}})
	t.Cleanup(func() { close(release) })
	c := newClient(t, inprocConfig(s))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.List(ctx, "")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("List: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancel took %s", d)
	}
}

func TestGrowingFile(t *testing.T) {
	s := sftptest.StartInProcess(t, nil)
	p := filepath.Join(s.Root, "orders.csv")
	writeFile(t, p, pattern(256<<10))
	var grown atomic.Bool
	s.SetFaults(sftptest.Faults{Read: func(string, int64) error {
		if grown.CompareAndSwap(false, true) {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.Write([]byte("more,rows\n"))
			return err
		}
		return nil
	}})
	c := newClient(t, inprocConfig(s))
	_, _, err := c.Download(ctxT(t, 10*time.Second), "orders.csv", &bytes.Buffer{})
	if !errors.Is(err, sftpfs.ErrChanged) || sftpfs.IsTransient(err) {
		t.Fatalf("Download of a growing file: %v", err)
	}
	// Listed size and a later stable download agree.
	ents, err := c.List(ctxT(t, 10*time.Second), "")
	if err != nil || len(ents) != 1 {
		t.Fatal(ents, err)
	}
	n, _, err := c.Download(ctxT(t, 10*time.Second), "orders.csv", &bytes.Buffer{})
	if err != nil || n != ents[0].Size {
		t.Fatalf("stable download n=%d size=%d err=%v", n, ents[0].Size, err)
	}
}

func TestKeepAliveAndSessionBound(t *testing.T) {
	s := sftptest.StartInProcess(t, nil)
	writeFile(t, filepath.Join(s.Root, "a.xml"), []byte("<a/>"))
	var inFlight, peak atomic.Int32
	s.SetFaults(sftptest.Faults{Before: func(method, _ string) error {
		if method == "Stat" {
			n := inFlight.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(30 * time.Millisecond)
			inFlight.Add(-1)
		}
		return nil
	}})
	cfg := inprocConfig(s)
	cfg.KeepAlive = 40 * time.Millisecond
	cfg.MaxSessions = 2
	c := newClient(t, cfg)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Stat(ctxT(t, 10*time.Second), "a.xml"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if p := peak.Load(); p > 2 || p < 1 {
		t.Errorf("peak concurrent requests %d; want at most MaxSessions=2", p)
	}
	deadline := time.Now().Add(3 * time.Second)
	for s.KeepAlives() < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if s.KeepAlives() < 2 {
		t.Errorf("keepalives sent: %d", s.KeepAlives())
	}
	if s.Accepted() != 1 {
		t.Errorf("connections: %d; want one shared connection", s.Accepted())
	}
}

func TestClosedClient(t *testing.T) {
	s := sftptest.StartInProcess(t, nil)
	c := newClient(t, inprocConfig(s))
	c.Close()
	if err := c.Ping(ctxT(t, 5*time.Second)); !errors.Is(err, sftpfs.ErrClosed) {
		t.Fatalf("Ping after Close: %v", err)
	}
}
