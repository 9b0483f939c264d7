package sftpfs_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"globex/exchange/sftpfs"
	"globex/exchange/sftpfs/sftptest"
)

// ConnInfo.Seq changes after a reconnect; LastReply moves with every
// answered call, a refusal included.
func TestConnInfoSeqAndLastReply(t *testing.T) {
	s := sftptest.StartInProcess(t, nil)
	c := newClient(t, inprocConfig(s))
	ctx := ctxT(t, 10*time.Second)
	if _, ok := c.Info(); ok {
		t.Fatal("Info before any call reports a connection")
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	a, ok := c.Info()
	if !ok || a.Seq == 0 || time.Since(a.LastReply) > time.Second {
		t.Fatalf("after Ping: %+v %v", a, ok)
	}
	time.Sleep(20 * time.Millisecond)
	if _, err := c.Stat(ctx, "missing"); !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	b, _ := c.Info()
	if !b.LastReply.After(a.LastReply) || b.Seq != a.Seq {
		t.Fatalf("after a refused Stat: %+v (before %+v)", b, a)
	}
	s.CutConnections()
	deadline := time.Now().Add(5 * time.Second)
	for _, ok := c.Info(); ok && time.Now().Before(deadline); _, ok = c.Info() {
		time.Sleep(5 * time.Millisecond)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if d, _ := c.Info(); d.Seq == a.Seq {
		t.Fatalf("Seq unchanged after a reconnect: %d", d.Seq)
	}
}

// UploadTemp writes the name itself (no temporary, no rename), checks the
// size, and removes the name when the upload fails.
func TestUploadTempWritesInPlace(t *testing.T) {
	s := sftptest.StartInProcess(t, nil)
	var mu sync.Mutex
	var methods []string
	hook := func(m, p string) error {
		mu.Lock()
		methods = append(methods, m+" "+filepath.Base(p))
		mu.Unlock()
		return nil
	}
	s.SetFaults(sftptest.Faults{Before: hook})
	c := newClient(t, inprocConfig(s))
	ctx := ctxT(t, 10*time.Second)
	data := pattern(200_000)
	writeFile(t, filepath.Join(s.Root, ".x.tmp"), []byte("an older, longer leftover of an interrupted attempt"+strings.Repeat("!", 300_000)))
	if err := c.UploadTemp(ctx, ".x.tmp", strings.NewReader(string(data)), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(s.Root, ".x.tmp")); sha(got) != sha(data) {
		t.Fatalf("content differs (%d bytes)", len(got))
	}
	mu.Lock()
	for _, m := range methods {
		if strings.HasPrefix(m, "Rename") || strings.HasPrefix(m, "PosixRename") || strings.Contains(m, sftpfs.TempSuffix) {
			t.Errorf("UploadTemp made %q", m)
		}
	}
	mu.Unlock()
	if err := c.UploadTemp(ctx, ".y.tmp", strings.NewReader("abc"), 4); !errors.Is(err, sftpfs.ErrSizeMismatch) {
		t.Fatalf("size mismatch: %v", err)
	}
	s.SetFaults(sftptest.Faults{Before: hook, Write: func(string, int64) error { return errors.New("disk full") }})
	if err := c.UploadTemp(ctx, ".z.tmp", strings.NewReader("abc"), 3); err == nil {
		t.Fatal("a failing write succeeded")
	}
	for _, n := range []string{".y.tmp", ".z.tmp"} {
		if _, err := os.Stat(filepath.Join(s.Root, n)); !os.IsNotExist(err) {
			t.Errorf("%s left after a failed upload: %v", n, err)
		}
	}
}
