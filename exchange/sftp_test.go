package exchange

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"globex/exchange/ledger"
	"globex/exchange/sftpfs"
	"globex/exchange/sftpfs/sftptest"
	"globex/internal/fsx"
)

// calls counts the SFTP requests an in-process server receives, by method
// and path.
type calls struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *calls) hook(method, p string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[method+" "+p]++
	return nil
}

func (c *calls) get(method, p string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[method+" "+p]
}

func (c *calls) method(method string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, v := range c.n {
		if strings.HasPrefix(k, method+" ") {
			n += v
		}
	}
	return n
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func sftpClient(t *testing.T, host string, port int, user, key, kh, dir string) *sftpfs.Client {
	t.Helper()
	c, err := sftpfs.New(sftpfs.Config{Host: host, Port: port, User: user, KeyFile: key, KnownHosts: kh, Dir: dir, Timeout: 5 * time.Second}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// inproc starts an in-process server whose requests are counted.
func inproc(t *testing.T) (*sftptest.InProcServer, *calls, *sftpfs.Client) {
	s := sftptest.StartInProcess(t, nil)
	cl := &calls{}
	s.SetFaults(sftptest.Faults{Before: cl.hook})
	return s, cl, sftpClient(t, s.Host, s.Port, s.User, s.KeyFile, s.KnownHosts, s.Root)
}

func source(t *testing.T, c *sftpfs.Client, after string, seen *SeenStore, spool string) *SFTPSource {
	if spool == "" {
		spool = t.TempDir()
	}
	return &SFTPSource{Client: c, Filter: Filter{Include: []string{"*.json"}}, Instance: "inst", Exchange: "ex",
		Spool: spool, After: after, MoveTo: "done", Seen: seen, Log: zerolog.Nop()}
}

func put(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func names(es []Entry) string {
	var out []string
	for _, e := range es {
		out = append(out, e.Name)
	}
	return strings.Join(out, ",")
}

func openLedger(t *testing.T) *ledger.Ledger {
	l, err := ledger.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// seenKeys lists the ledger's seen keys of exchange "ex" with their value
// length (1 present, 8 noted as missing).
func seenKeys(t *testing.T, l *ledger.Ledger) map[string]int {
	t.Helper()
	out := map[string]int{}
	err := l.Update(func(tx *ledger.Tx) error {
		clear(out)
		return tx.States("ex", seenPrefix, func(name string, v []byte) error {
			out[strings.TrimPrefix(name, seenPrefix)] = len(v)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A ledger that cannot be read makes the Scan fail (a transient error the
// runner retries); it never makes a kept file look new.
func TestSFTPScanFailsWhenSeenUnreadable(t *testing.T) {
	s, _, c := inproc(t)
	put(t, s.Root, "a.json", "{}")
	broken := errors.New("ledger: input/output error")
	src := source(t, c, "keep", &SeenStore{
		Get: func(string) (bool, error) { return false, broken },
		Put: func(string) error { return nil },
	}, "")
	got, err := src.Scan(testCtx(t))
	var tr *Transient
	if !errors.Is(err, broken) || !errors.As(err, &tr) || got != nil {
		t.Fatalf("Scan = %v, %v; want a transient error wrapping the ledger's", names(got), err)
	}
	if !strings.Contains(err.Error(), "a.json") {
		t.Errorf("error does not name the file: %v", err)
	}
}

// Scan pings only when the connection has been idle for PingIdle.
func TestSFTPScanPingsOnlyWhenIdle(t *testing.T) {
	s, cl, c := inproc(t)
	put(t, s.Root, "a.json", "{}")
	src := source(t, c, "move", nil, "")
	ctx := testCtx(t)
	for i := 0; i < 3; i++ {
		if got, err := src.Scan(ctx); err != nil || names(got) != "a.json" {
			t.Fatalf("Scan %d = %v, %v", i, names(got), err)
		}
	}
	if n := cl.get("Stat", s.Root); n != 1 {
		t.Fatalf("3 scans in a row pinged %d times; want 1 (the first, which connects)", n)
	}
	src.PingIdle = 30 * time.Millisecond
	time.Sleep(50 * time.Millisecond)
	if _, err := src.Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if n := cl.get("Stat", s.Root); n != 2 {
		t.Fatalf("a scan after an idle spell pinged %d times in all; want 2", n)
	}
	// A dead session is replaced: the next scan still lists.
	s.CutConnections()
	if got, err := src.Scan(ctx); err != nil || names(got) != "a.json" {
		t.Fatalf("Scan after a cut connection = %v, %v", names(got), err)
	}
}

// The claim folder is made once per connection, again after a reconnect,
// and again when it vanished under a claim.
func TestSFTPClaimFolderOncePerConnection(t *testing.T) {
	s, cl, c := inproc(t)
	ctx := testCtx(t)
	src := source(t, c, "move", nil, "")
	claimAbs := path.Join(s.Root, src.claimDir())
	mkdirs := func() int { return cl.get("Stat", claimAbs) + cl.get("Mkdir", claimAbs) }
	claim := func(name string) {
		t.Helper()
		put(t, s.Root, name, "{}")
		got, err := src.Claim(ctx, Entry{Name: name}, newID())
		if err != nil || got == nil {
			t.Fatalf("Claim %s = %v, %v", name, got, err)
		}
		if _, err := os.Stat(filepath.Join(claimAbs, got.ID+"_"+name)); err != nil {
			t.Fatalf("not claimed on the server: %v", err)
		}
	}
	for i := range 3 {
		claim(fmt.Sprintf("o%d.json", i))
	}
	first := mkdirs()
	if first == 0 || first > 2 {
		t.Fatalf("the first claim checked/created the claim folder %d times", first)
	}
	if mkdirs() != first {
		t.Fatalf("three claims checked the claim folder %d times; want only the first claim's %d", mkdirs(), first)
	}
	// After a reconnect the folder is checked again.
	info, _ := c.Info()
	s.CutConnections()
	for deadline := time.Now().Add(5 * time.Second); ; {
		if i, ok := c.Info(); !ok || i.Seq != info.Seq {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the client did not notice the cut connection")
		}
		time.Sleep(5 * time.Millisecond)
	}
	claim("o3.json")
	if n := mkdirs(); n != first+1 {
		t.Fatalf("after a reconnect: %d checks of the claim folder; want %d", n, first+1)
	}
	claim("o4.json")
	if n := mkdirs(); n != first+1 {
		t.Fatalf("second claim on the new connection checked again (%d)", n)
	}
	// after: move makes its folder once too.
	doneAbs := path.Join(s.Root, "done")
	cs, err := src.Recover(ctx)
	if err != nil || len(cs) != 5 {
		t.Fatalf("Recover = %d, %v", len(cs), err)
	}
	for _, c := range cs {
		if err := src.Finish(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if n := cl.get("Stat", doneAbs) + cl.get("Mkdir", doneAbs); n > 2 {
		t.Errorf("five moves checked the move_to folder %d times", n)
	}
	if ents, _ := os.ReadDir(doneAbs); len(ents) != 5 {
		t.Errorf("move_to holds %d files; want 5", len(ents))
	}
	// The folder vanished (an operator cleaned up): the claim still works.
	if err := os.RemoveAll(filepath.Join(s.Root, ProcessingDir)); err != nil {
		t.Fatal(err)
	}
	claim("o5.json")
	os.RemoveAll(doneAbs)
	cs, err = src.Recover(ctx)
	if err != nil || len(cs) != 6 {
		t.Fatalf("Recover = %d, %v", len(cs), err)
	}
	for _, c := range cs {
		if err := src.Finish(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if ents, _ := os.ReadDir(doneAbs); len(ents) != 1 {
		t.Errorf("move_to holds %d files after it vanished; want o5.json", len(ents))
	}
	// A file that is gone is still "someone else took it", not an error.
	if got, err := src.Claim(ctx, Entry{Name: "gone.json"}, newID()); got != nil || err != nil {
		t.Fatalf("Claim of a missing file = %v, %v", got, err)
	}
}

// Stage + Publish cost one rename per file, leave no temporary behind on
// the server, and a failed upload removes its staged file.
func TestSFTPTargetOneRenamePerFile(t *testing.T) {
	s, cl, c := inproc(t)
	ctx := testCtx(t)
	tgt := &SFTPTarget{Client: c, Spool: t.TempDir()}
	tmp, err := tgt.Stage(ctx, "feed.jsonl", "k1", func(w io.Writer) error {
		_, err := io.WriteString(w, "{\"a\":1}\n")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !fsx.IsTemp(tmp) {
		t.Errorf("staged name %q is not a temporary name", tmp)
	}
	if err := tgt.Publish(ctx, tmp, "feed.jsonl", false); err != nil {
		t.Fatal(err)
	}
	if n := cl.method("Rename") + cl.method("PosixRename"); n != 1 {
		t.Errorf("stage + publish renamed %d times; want 1", n)
	}
	if b, err := os.ReadFile(filepath.Join(s.Root, "feed.jsonl")); err != nil || string(b) != "{\"a\":1}\n" {
		t.Fatalf("published: %q, %v", b, err)
	}
	// A failing upload leaves nothing.
	s.SetFaults(sftptest.Faults{Before: cl.hook, Write: func(string, int64) error { return errors.New("disk full") }})
	if _, err := tgt.Stage(ctx, "feed2.jsonl", "k2", func(w io.Writer) error {
		_, err := io.WriteString(w, "x")
		return err
	}); err == nil {
		t.Fatal("Stage with a failing write succeeded")
	}
	ents, _ := os.ReadDir(s.Root)
	if len(ents) != 1 {
		var l []string
		for _, e := range ents {
			l = append(l, e.Name())
		}
		t.Fatalf("server holds %v; want only feed.jsonl", l)
	}
}

// after: keep: a crash (here a failing Put) between the download and the
// Put of the seen key leaves the spool copy and its sidecar; Recover puts
// the key before it hands the copy on, so the next Scan does not take the
// file again.
func TestSFTPKeepPutLostBeforeCrash(t *testing.T) {
	srv := sftptest.StartOpenSSH(t)
	drop := filepath.Join(srv.Root, "drop")
	os.MkdirAll(drop, 0o755)
	put(t, drop, "a.json", `{"n":1}`)
	c := sftpClient(t, srv.Host, srv.Port, srv.User, srv.KeyFile, srv.KnownHosts, drop)
	ctx := testCtx(t)
	l := openLedger(t)
	spool := t.TempDir()

	failing := LedgerSeen(l, "ex")
	failing.Put = func(string) error { return errors.New("ledger: no space left on device") }
	src := source(t, c, "keep", failing, spool)
	es, err := src.Scan(ctx)
	if err != nil || names(es) != "a.json" {
		t.Fatalf("Scan = %v, %v", names(es), err)
	}
	_, err = src.Claim(ctx, es[0], newID())
	var tr *Transient
	if !errors.As(err, &tr) {
		t.Fatalf("Claim with a failing Put = %v; want a transient error (the runner then recovers)", err)
	}

	// The restarted instance.
	src = source(t, c, "keep", LedgerSeen(l, "ex"), spool)
	cs, err := src.Recover(ctx)
	if err != nil || len(cs) != 1 || cs[0].Name != "a.json" {
		t.Fatalf("Recover = %v, %v", cs, err)
	}
	if b, err := os.ReadFile(cs[0].Path); err != nil || string(b) != `{"n":1}` {
		t.Fatalf("spool copy: %q, %v", b, err)
	}
	if k := seenKeys(t, l); len(k) != 1 {
		t.Fatalf("seen keys after Recover: %v", k)
	}
	if es, err := src.Scan(ctx); err != nil || len(es) != 0 {
		t.Fatalf("Scan after Recover = %v, %v; the kept file would be taken twice", names(es), err)
	}
	if ents, _ := os.ReadDir(spool); len(ents) != 1 {
		t.Errorf("spool holds %d files; want the copy only (sidecar removed)", len(ents))
	}
}

// after: keep: a crash before the download completed leaves a sidecar and
// no copy; the file is not lost: Recover drops the sidecar and the next
// Scan takes the file again. A failed download cleans up after itself.
func TestSFTPKeepCrashBeforeDownload(t *testing.T) {
	s, _, c := inproc(t)
	put(t, s.Root, "a.json", `{"n":1}`)
	ctx := testCtx(t)
	l := openLedger(t)
	spool := t.TempDir()
	src := source(t, c, "keep", LedgerSeen(l, "ex"), spool)

	s.SetFaults(sftptest.Faults{Read: func(string, int64) error { return errors.New("read error") }})
	es, err := src.Scan(ctx)
	if err != nil || len(es) != 1 {
		t.Fatal(names(es), err)
	}
	if _, err := src.Claim(ctx, es[0], newID()); err == nil {
		t.Fatal("Claim with a failing download succeeded")
	}
	if ents, _ := os.ReadDir(spool); len(ents) != 0 {
		t.Fatalf("a failed claim left %d files in the spool", len(ents))
	}
	s.SetFaults(sftptest.Faults{})

	// The crash: sidecar written, download unfinished.
	id := newID()
	if err := os.WriteFile(src.sidecar(id), []byte(src.seenKey(es[0])), 0o644); err != nil {
		t.Fatal(err)
	}
	src = source(t, c, "keep", LedgerSeen(l, "ex"), spool)
	cs, err := src.Recover(ctx)
	if err != nil || len(cs) != 0 {
		t.Fatalf("Recover = %v, %v", cs, err)
	}
	if _, err := os.Stat(src.sidecar(id)); !os.IsNotExist(err) {
		t.Errorf("sidecar without a copy is still there: %v", err)
	}
	if k := seenKeys(t, l); len(k) != 0 {
		t.Fatalf("seen keys: %v; the file would be lost", k)
	}
	es, err = src.Scan(ctx)
	if err != nil || names(es) != "a.json" {
		t.Fatalf("Scan = %v, %v; want the file again", names(es), err)
	}
	got, err := src.Claim(ctx, es[0], newID())
	if err != nil || got == nil {
		t.Fatal(got, err)
	}
	if k := seenKeys(t, l); len(k) != 1 {
		t.Fatalf("seen keys after the claim: %v", k)
	}
	if ents, _ := os.ReadDir(spool); len(ents) != 1 {
		t.Errorf("spool holds %d files after a claim; want the copy only", len(ents))
	}
}

// Seen keys of files that left the drop (or of an older version of a
// listed name) are forgotten after SeenGrace, at most every SeenPruneEvery;
// a key whose file is listed is never forgotten.
func TestSFTPKeepPrunesSeenKeys(t *testing.T) {
	s, _, c := inproc(t)
	ctx := testCtx(t)
	l := openLedger(t)
	src := source(t, c, "keep", LedgerSeen(l, "ex"), "")
	src.SeenPruneEvery = time.Hour
	src.SeenGrace = time.Nanosecond
	past := time.Now().Add(-time.Hour).Truncate(time.Second)
	for _, n := range []string{"a.json", "b.json", "c.json"} {
		put(t, s.Root, n, "{}")
		os.Chtimes(filepath.Join(s.Root, n), past, past)
	}
	es, err := src.Scan(ctx)
	if err != nil || len(es) != 3 {
		t.Fatal(names(es), err)
	}
	for _, e := range es {
		if got, err := src.Claim(ctx, e, newID()); err != nil || got == nil {
			t.Fatal(got, err)
		}
	}
	if k := seenKeys(t, l); len(k) != 3 {
		t.Fatalf("keys: %v", k)
	}
	// a.json gets a new version, b.json leaves, c.json stays.
	put(t, s.Root, "a.json", `{"v":2}`)
	os.Remove(filepath.Join(s.Root, "b.json"))
	scan := func(want string) {
		t.Helper()
		es, err := src.Scan(ctx)
		if err != nil || names(es) != want {
			t.Fatalf("Scan = %q, %v; want %q", names(es), err, want)
		}
	}
	src.lastPrune = time.Time{} // the sweep is due
	scan("a.json")
	noted := seenKeys(t, l)
	if len(noted) != 3 {
		t.Fatalf("first sweep forgot keys at once: %v", noted)
	}
	for k, n := range noted {
		if strings.HasPrefix(k, "c.json|") != (n == 1) {
			t.Errorf("key %s has value length %d after the first sweep", k, n)
		}
	}
	// b.json comes back unchanged before the next sweep: its key stays.
	put(t, s.Root, "b.json", "{}")
	os.Chtimes(filepath.Join(s.Root, "b.json"), past, past)
	scan("a.json") // not yet due: nothing changes
	if k := seenKeys(t, l); len(k) != 3 {
		t.Fatalf("a sweep ran before it was due: %v", k)
	}
	src.lastPrune = time.Time{}
	scan("a.json")
	k := seenKeys(t, l)
	if len(k) != 2 {
		t.Fatalf("second sweep: %v; want b and c kept, the old a forgotten", k)
	}
	for key, n := range k {
		if !strings.HasPrefix(key, "b.json|") && !strings.HasPrefix(key, "c.json|") || n != 1 {
			t.Errorf("kept %s (value length %d)", key, n)
		}
	}
	for range 3 {
		src.lastPrune = time.Time{}
		scan("a.json")
	}
	if k := seenKeys(t, l); len(k) != 2 {
		t.Fatalf("listed files lost their keys: %v", k)
	}
}
