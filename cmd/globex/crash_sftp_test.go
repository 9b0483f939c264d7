package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"globex/exchange/sftpfs/sftptest"
)

// An orders exchange on an SFTP drop with after: keep has no claim on the
// server: the file stays, and a Seen key in the ledger (noted first in a
// sidecar beside the spool copy) marks it as taken. The real binary is
// killed at every step from the sidecar to the archive, restarted, and run
// once more: the order reaches the ERP folder once, the input is archived
// once, nothing is left in the spool, and the remote file is untouched and
// not taken again. A changed remote file is a new input.
func TestSFTPKeepCrashAtEveryStep(t *testing.T) {
	srv := sftptest.StartOpenSSH(t) // skips when sshd is not installed
	// each point with what the kill leaves in the spool: the sidecar
	// (.seen-<id>) and/or the copy (<id>_o1.json)
	points := []struct{ name, spool string }{
		{"sftp-keep-noted", "sidecar"},
		{"sftp-keep-downloaded", "copy+sidecar"},
		{"sftp-keep-put", "copy+sidecar"},
		{"claimed", "copy"},
		{"received", "copy"},
		{"staged", "copy"},
		{"published", "copy"},
		{"archiving", "copy"},
		{"moved", ""},
	}
	for _, pt := range points {
		p := pt.name
		t.Run(p, func(t *testing.T) {
			k := newKeepSpace(t, srv)
			k.put("o1.json", 1, time.Now().Add(-time.Hour))
			k.crash(p)
			if got := k.spoolKinds(); got != pt.spool {
				t.Fatalf("spool after the kill: %q, want %q", got, pt.spool)
			}
			for range 2 { // the restart, then a later scan that must take nothing
				k.once()
				k.verify(map[string]int{"500_WEB-1.xml": 1}, 1)
			}
			if p != "sftp-keep-downloaded" && p != "moved" {
				return
			}
			// The same name with new content and a new time is a new
			// input, taken once (with a crash at the same step again).
			k.put("o1.json", 2, time.Now().Add(-time.Minute))
			k.crash(p)
			if got := k.spoolKinds(); got != pt.spool {
				t.Fatalf("spool after the second kill: %q, want %q", got, pt.spool)
			}
			for range 2 {
				k.once()
				k.verify(map[string]int{"500_WEB-1.xml": 1, "500_WEB-2.xml": 1}, 2)
			}
		})
	}
}

// archivedO1 matches o1.json's archive names (a second one in the same
// second gets a number).
var archivedO1 = regexp.MustCompile(`^\d{6}_o1(\.\d+)?\.json$`)

type keepSpace struct {
	space
	remote, spool, content string
}

func newKeepSpace(t *testing.T, srv *sftptest.Server) *keepSpace {
	dir := t.TempDir()
	remote, err := os.MkdirTemp(srv.Root, "drop-")
	if err != nil {
		t.Fatal(err)
	}
	k := &keepSpace{space: space{t: t, dir: dir, cfg: filepath.Join(dir, "globex.yaml"), erp: filepath.Join(dir, "erp")},
		remote: remote, spool: filepath.Join(dir, "state", "spool", "shop")}
	os.MkdirAll(k.erp, 0o755)
	os.WriteFile(k.cfg, []byte(fmt.Sprintf(`exchanges:
  - name: shop
    kind: orders
    administration: "500"
    source:
      sftp: {host: %s, port: %d, user: %s, key_file: %s, known_hosts: %s, dir: %s}
      stable_for: 30ms
      poll_interval: 40ms
      after: keep
    target: {dir: erp}
`, srv.Host, srv.Port, srv.User, srv.KeyFile, srv.KnownHosts, remote)), 0o644)
	return k
}

// put writes the remote file name with order WEB-n, with time mod (SFTP
// times have whole seconds: each version gets a time of its own).
func (k *keepSpace) put(name string, n int, mod time.Time) {
	k.content = "[" + order(n, "2") + "]"
	p := filepath.Join(k.remote, name)
	tmp := filepath.Join(k.remote, ".tmp-"+name)
	if err := os.WriteFile(tmp, []byte(k.content), 0o644); err != nil {
		k.t.Fatal(err)
	}
	if err := os.Chtimes(tmp, mod, mod); err != nil {
		k.t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		k.t.Fatal(err)
	}
}

func (k *keepSpace) crash(p string) {
	k.t.Helper()
	if code, out := k.run([]string{"GLOBEX_CRASHPOINT=" + p}, "once", "-c", k.cfg); code != -int(syscall.SIGKILL) {
		k.t.Fatalf("crash run: exit %d (crash point %s not reached?)\n%s", code, p, out)
	}
}

// spoolKinds says what the spool holds: "copy", "sidecar", both joined by
// "+", or "" (anything else is named as it is).
func (k *keepSpace) spoolKinds() string {
	ents, _ := os.ReadDir(k.spool)
	var kinds []string
	for _, e := range ents {
		switch {
		case strings.HasPrefix(e.Name(), ".seen-"):
			kinds = append(kinds, "sidecar")
		case strings.HasSuffix(e.Name(), "_o1.json"):
			kinds = append(kinds, "copy")
		default:
			kinds = append(kinds, e.Name())
		}
	}
	sort.Strings(kinds)
	return strings.Join(kinds, "+")
}

func (k *keepSpace) once() {
	k.t.Helper()
	if code, out := k.run(nil, "once", "-c", k.cfg); code != 0 {
		k.t.Fatalf("run: exit %d\n%s", code, out)
	}
}

// verify checks the ERP folder (wantERP: file -> count), that o1.json is
// archived as processed exactly archived times and nowhere else, that the
// spool holds no copy, sidecar or temp file, and that the remote file is
// still there with its last content.
func (k *keepSpace) verify(wantERP map[string]int, archived int) {
	t := k.t
	t.Helper()
	got := map[string]int{}
	ents, _ := os.ReadDir(k.erp)
	for _, e := range ents {
		got[e.Name()]++
		data, _ := os.ReadFile(filepath.Join(k.erp, e.Name()))
		if !strings.HasSuffix(strings.TrimSpace(string(data)), "</eExact>") {
			t.Errorf("%s is incomplete or not Globe XML", e.Name())
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(wantERP) {
		t.Errorf("ERP folder: %v, want %v", got, wantERP)
	}
	var processed, other []string
	filepath.WalkDir(filepath.Join(k.dir, "archive", "shop"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(filepath.Join(k.dir, "archive", "shop"), p)
		switch outcome, _, _ := strings.Cut(rel, string(filepath.Separator)); {
		case outcome == "sent":
		case outcome == "processed" && archivedO1.MatchString(d.Name()):
			processed = append(processed, rel)
		default:
			other = append(other, rel)
		}
		return nil
	})
	if len(processed) != archived || len(other) != 0 {
		t.Errorf("archive: processed %v (want %d), other %v", processed, archived, other)
	}
	if left, _ := os.ReadDir(k.spool); len(left) != 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Errorf("spool not empty: %v", names)
	}
	if data, err := os.ReadFile(filepath.Join(k.remote, "o1.json")); err != nil || string(data) != k.content {
		t.Errorf("remote file changed or gone: %q, %v", data, err)
	}
	if ents, _ := os.ReadDir(k.remote); len(ents) != 1 {
		t.Errorf("remote folder holds more than the file: %v", ents)
	}
	if t.Failed() {
		t.FailNow()
	}
}
