package app

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"globex/exchange/sftpfs/sftptest"
	"globex/internal/config"
)

func sftpWorkspace(t *testing.T, srv *sftptest.Server, remoteDir, knownHosts string) *workspace {
	w := newWorkspace(t, "")
	yaml := fmt.Sprintf(`exchanges:
  - name: shop
    kind: orders
    administration: "500"
    source:
      sftp: {host: %s, port: %d, user: %s, key_file: %s, known_hosts: %s, dir: %s}
      stable_for: 50ms
      poll_interval: 100ms
      after: move
      move_to: done
    target: {dir: erp}
`, srv.Host, srv.Port, srv.User, srv.KeyFile, knownHosts, remoteDir)
	os.WriteFile(w.cfg, []byte(yaml), 0o644)
	return w
}

func TestSFTPDropToERPFolder(t *testing.T) {
	srv := sftptest.StartOpenSSH(t)
	remote := filepath.Join(srv.Root, "export")
	os.MkdirAll(remote, 0o755)
	for i := 1; i <= 5; i++ {
		os.WriteFile(filepath.Join(remote, fmt.Sprintf("o%d.json", i)), []byte(orderJSON(fmt.Sprintf("WEB-%d", i), "ART-1", "1")), 0o644)
	}
	w := sftpWorkspace(t, srv, remote, srv.KnownHosts)
	cfg, err := config.Load(w.cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Check(cfg) {
		if !f.OK {
			t.Errorf("check: %s", f.Text)
		}
	}
	if code := w.once(); code != ExitOK {
		t.Fatalf("once = %d", code)
	}
	if got := w.files("erp"); len(got) != 5 {
		t.Fatalf("ERP: %v", got)
	}
	left, _ := filepath.Glob(filepath.Join(remote, "*.json"))
	moved, _ := filepath.Glob(filepath.Join(remote, "done", "*.json"))
	if len(left) != 0 || len(moved) != 5 {
		t.Fatalf("remote: left %v, moved %v", left, moved)
	}
	if got := w.archived("processed"); len(got) != 5 {
		t.Fatalf("archive: %v", got)
	}
}

func TestSFTPUnknownHostKeyTouchesNothing(t *testing.T) {
	srv := sftptest.StartOpenSSH(t)
	remote := filepath.Join(srv.Root, "export")
	os.MkdirAll(remote, 0o755)
	os.WriteFile(filepath.Join(remote, "o1.json"), []byte(orderJSON("WEB-1", "ART-1", "1")), 0o644)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	// a different server's key for the same address: a changed host key
	other := sftptest.StartOpenSSH(t)
	data, _ := os.ReadFile(other.KnownHosts)
	os.WriteFile(kh, bytes.ReplaceAll(data, []byte(fmt.Sprint(other.Port)), []byte(fmt.Sprint(srv.Port))), 0o600)
	w := sftpWorkspace(t, srv, remote, kh)
	if code := w.once(); code != ExitRuntime {
		t.Fatalf("once with a changed host key = %d, want %d", code, ExitRuntime)
	}
	if _, err := os.Stat(filepath.Join(remote, "o1.json")); err != nil {
		t.Fatalf("the remote file was touched: %v", err)
	}
	if got := w.files("erp"); len(got) != 0 {
		t.Fatalf("ERP: %v", got)
	}
	cfg, _ := config.Load(w.cfg)
	var msg string
	for _, f := range Check(cfg) {
		if !f.OK {
			msg += f.Text
		}
	}
	if !strings.Contains(msg, "SHA256:") {
		t.Fatalf("check does not name the fingerprint: %s", msg)
	}

	// globex trust: shows, and writes only with --yes
	os.Remove(kh)
	var out bytes.Buffer
	if code, err := Trust(context.Background(), cfg, "shop", false, &out); code != ExitOK || err != nil {
		t.Fatalf("trust: %d %v", code, err)
	}
	if _, err := os.Stat(kh); err == nil {
		t.Fatal("trust without --yes wrote known_hosts")
	}
	if !strings.Contains(out.String(), "SHA256:") {
		t.Fatalf("trust output: %s", out.String())
	}
	if code, err := Trust(context.Background(), cfg, "shop", true, &out); code != ExitOK || err != nil {
		t.Fatalf("trust --yes: %d %v", code, err)
	}
	if code := w.once(); code != ExitOK {
		t.Fatalf("once after trust = %d", code)
	}
	if got := w.files("erp"); len(got) != 1 {
		t.Fatalf("ERP after trust: %v", got)
	}
}

func TestTwoInstancesShareOneDrop(t *testing.T) {
	srv := sftptest.StartOpenSSH(t)
	remote := filepath.Join(srv.Root, "export")
	os.MkdirAll(remote, 0o755)
	const n = 200
	for i := 1; i <= n; i++ {
		os.WriteFile(filepath.Join(remote, fmt.Sprintf("o%03d.json", i)), []byte(orderJSON(fmt.Sprintf("WEB-%d", i), "ART-1", "1")), 0o644)
	}
	// two installations (own state, own ERP folder) on one drop
	a := sftpWorkspace(t, srv, remote, srv.KnownHosts)
	b := sftpWorkspace(t, srv, remote, srv.KnownHosts)
	var wg sync.WaitGroup
	for _, w := range []*workspace{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg, err := config.Load(w.cfg)
			if err != nil {
				t.Error(err)
				return
			}
			app, err := Open(cfg, zerolog.Nop(), false)
			if err != nil {
				t.Error(err)
				return
			}
			defer app.Close()
			if code := app.Once(context.Background()); code != ExitOK {
				t.Errorf("once = %d", code)
			}
		}()
	}
	wg.Wait()
	seen := map[string]int{}
	for _, w := range []*workspace{a, b} {
		for _, f := range w.files("erp") {
			seen[filepath.Base(f)]++
		}
	}
	if len(seen) != n {
		t.Fatalf("%d distinct orders reached an ERP folder, want %d", len(seen), n)
	}
	for name, c := range seen {
		if c != 1 {
			t.Errorf("%s taken %d times", name, c)
		}
	}
	t.Logf("instance A took %d, B took %d", len(a.files("erp")), len(b.files("erp")))
}

func TestFeedLandsOnSFTPWithNoTempFiles(t *testing.T) {
	srv := sftptest.StartOpenSSH(t)
	remote := filepath.Join(srv.Root, "feeds")
	os.MkdirAll(remote, 0o755)
	w := newWorkspace(t, "")
	os.MkdirAll(filepath.Join(w.dir, "stockdrop"), 0o755)
	os.WriteFile(w.cfg, []byte(fmt.Sprintf(`exchanges:
  - name: stock
    kind: stock
    administration: "500"
    source: {dir: stockdrop, stable_for: 50ms}
    target:
      sftp: {host: %s, port: %d, user: %s, key_file: %s, known_hosts: %s, dir: %s}
`, srv.Host, srv.Port, srv.User, srv.KeyFile, srv.KnownHosts, remote)), 0o644)
	for run, qty := range []string{"10,000", "12,000"} {
		os.WriteFile(filepath.Join(w.dir, "stockdrop", fmt.Sprintf("v%d.csv", run)),
			[]byte(stockCSV(map[string]string{"ART-001": qty, "ART-002": "1,000"}, "27-11-2026 06:00")), 0o644)
		if code := w.once(); code != ExitOK {
			t.Fatalf("run %d: once = %d", run, code)
		}
		time.Sleep(1100 * time.Millisecond)
	}
	ents, _ := os.ReadDir(remote)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temp file visible on the server: %s", e.Name())
		}
	}
	if len(names) != 3 || names[0] != "stock-delta-"+names[0][len("stock-delta-"):] {
		t.Fatalf("remote files: %v", names)
	}
	snap := readJSONL(t, filepath.Join(remote, "stock.jsonl"))
	if len(snap) != 2 || snap[0]["on_hand"] != "12" {
		t.Fatalf("remote snapshot: %v", snap)
	}
}

// Servers that forbid rename and delete: after: keep, the ledger alone
// remembers what was taken (by name, size and time).
func TestSFTPAfterKeepTakesEachFileOnce(t *testing.T) {
	srv := sftptest.StartOpenSSH(t)
	remote := filepath.Join(srv.Root, "export")
	os.MkdirAll(remote, 0o755)
	for i := 1; i <= 3; i++ {
		os.WriteFile(filepath.Join(remote, fmt.Sprintf("o%d.json", i)), []byte(orderJSON(fmt.Sprintf("WEB-%d", i), "ART-1", "1")), 0o644)
	}
	w := sftpWorkspace(t, srv, remote, srv.KnownHosts)
	os.WriteFile(w.cfg, []byte(strings.Replace(string(must(os.ReadFile(w.cfg))), "after: move", "after: keep", 1)), 0o644)
	for run := 0; run < 2; run++ {
		if code := w.once(); code != ExitOK {
			t.Fatalf("run %d: once = %d", run, code)
		}
	}
	if got := w.files("erp"); len(got) != 3 {
		t.Fatalf("ERP: %v", got)
	}
	if got := w.archived("processed"); len(got) != 3 {
		t.Fatalf("archive: %v (a kept file was taken again)", got)
	}
	left, _ := filepath.Glob(filepath.Join(remote, "*.json"))
	if len(left) != 3 {
		t.Fatalf("after: keep changed the drop: %v", left)
	}
	// a changed file under the same name is new
	// (SFTP times have whole seconds: the change must show in the size or the time)
	os.WriteFile(filepath.Join(remote, "o1.json"), []byte(orderJSON("WEB-999", "ART-1", "2")), 0o644)
	if code := w.once(); code != ExitOK {
		t.Fatalf("once = %d", code)
	}
	if got := w.files("erp"); len(got) != 4 {
		t.Fatalf("ERP after a changed file: %v", got)
	}
}

func TestSFTPAfterDelete(t *testing.T) {
	srv := sftptest.StartOpenSSH(t)
	remote := filepath.Join(srv.Root, "export")
	os.MkdirAll(remote, 0o755)
	os.WriteFile(filepath.Join(remote, "o1.json"), []byte(orderJSON("WEB-1", "ART-1", "1")), 0o644)
	w := sftpWorkspace(t, srv, remote, srv.KnownHosts)
	os.WriteFile(w.cfg, []byte(strings.Replace(string(must(os.ReadFile(w.cfg))), "after: move", "after: delete", 1)), 0o644)
	if code := w.once(); code != ExitOK {
		t.Fatalf("once = %d", code)
	}
	var left []string
	filepath.WalkDir(remote, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, p)
		}
		return nil
	})
	if len(left) != 0 || len(w.files("erp")) != 1 {
		t.Fatalf("remote left %v, ERP %v", left, w.files("erp"))
	}
}

// done_suffix on an SFTP drop: a file is taken only when its marker is
// there, and the marker goes with the claim.
func TestSFTPDoneMarkers(t *testing.T) {
	srv := sftptest.StartOpenSSH(t)
	remote := filepath.Join(srv.Root, "export")
	os.MkdirAll(remote, 0o755)
	os.WriteFile(filepath.Join(remote, "o1.json"), []byte(orderJSON("WEB-1", "ART-1", "1")), 0o644)
	os.WriteFile(filepath.Join(remote, "o1.json.done"), nil, 0o644)
	os.WriteFile(filepath.Join(remote, "o2.json"), []byte(orderJSON("WEB-2", "ART-1", "1")), 0o644)
	w := sftpWorkspace(t, srv, remote, srv.KnownHosts)
	os.WriteFile(w.cfg, []byte(strings.Replace(string(must(os.ReadFile(w.cfg))), "after: move", "after: move\n      done_suffix: .done", 1)), 0o644)
	if code := w.once(); code != ExitOK {
		t.Fatalf("once = %d", code)
	}
	if got := w.files("erp"); len(got) != 1 {
		t.Fatalf("ERP: %v (only the file with a marker is ready)", got)
	}
	if _, err := os.Stat(filepath.Join(remote, "o1.json.done")); !os.IsNotExist(err) {
		t.Errorf("the marker of the processed file is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(remote, "o2.json")); err != nil {
		t.Errorf("the file without a marker was taken: %v", err)
	}
	os.WriteFile(filepath.Join(remote, "o2.json.done"), nil, 0o644)
	if code := w.once(); code != ExitOK {
		t.Fatalf("once = %d", code)
	}
	if got := w.files("erp"); len(got) != 2 {
		t.Fatalf("ERP after the second marker: %v", got)
	}
	if left, _ := filepath.Glob(filepath.Join(remote, "*.json*")); len(left) != 0 {
		t.Errorf("files or markers left in the drop: %v", left)
	}
}

// done_suffix on a local drop: the marker goes with the claim, so a new
// file of the same name waits for a marker of its own.
func TestLocalDoneMarkerGoesWithTheClaim(t *testing.T) {
	w := newWorkspace(t, "")
	os.WriteFile(w.cfg, []byte(strings.Replace(string(must(os.ReadFile(w.cfg))), "stable_for: 50ms}", "stable_for: 50ms, done_suffix: .done}", 1)), 0o644)
	w.drop1("o.json", orderJSON("WEB-1", "ART-1", "1"))
	w.drop1("o.json.done", "")
	if code := w.once(); code != ExitOK {
		t.Fatalf("once = %d", code)
	}
	if got := w.files("erp"); len(got) != 1 {
		t.Fatalf("ERP: %v", got)
	}
	if _, err := os.Stat(filepath.Join(w.drop, "o.json.done")); !os.IsNotExist(err) {
		t.Fatalf("the marker is still there: %v", err)
	}
	w.drop1("o.json", orderJSON("WEB-2", "ART-1", "1")) // the ERP reuses the name
	if code := w.once(); code != ExitOK {
		t.Fatalf("once = %d", code)
	}
	if got := w.files("erp"); len(got) != 1 {
		t.Fatalf("a file without its marker was taken: %v", got)
	}
}
