package main

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests run the real binary and kill it (SIGKILL: no clean-up, no
// deferred code) at every step between pick-up and archive, then restart it
// and check the promises: every order reached the ERP folder exactly once,
// every input is in exactly one archive place, nothing is half-written.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "globex-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "globex")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building globex: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type space struct {
	t                   *testing.T
	dir, cfg, drop, erp string
	wantOrders          map[string]bool
	inputs              []string
}

func newSpace(t *testing.T) *space {
	dir := t.TempDir()
	s := &space{t: t, dir: dir, cfg: filepath.Join(dir, "globex.yaml"), drop: filepath.Join(dir, "drop"),
		erp: filepath.Join(dir, "erp"), wantOrders: map[string]bool{}}
	os.MkdirAll(s.drop, 0o755)
	os.MkdirAll(s.erp, 0o755)
	os.WriteFile(s.cfg, []byte(`exchanges:
  - name: shop
    kind: orders
    administration: "500"
    source: {dir: drop, stable_for: 30ms, scan_interval: 50ms}
    target: {dir: erp}
`), 0o644)
	return s
}

func order(n int, qty string) string {
	return fmt.Sprintf(`{"order_number":"WEB-%d","customer":{"debtor_code":"10001"},"lines":[{"item_code":"ART-%d","quantity":"%s"}]}`, n, n, qty)
}

// addFile drops a file with orders first..first+count-1 (renamed in, as a
// webshop should). bad adds an invalid order, so the file ends in failed/.
func (s *space) addFile(name string, first, count int, bad bool) {
	var parts []string
	for i := first; i < first+count; i++ {
		parts = append(parts, order(i, "2"))
		s.wantOrders[fmt.Sprintf("500_WEB-%d.xml", i)] = true
	}
	if bad {
		parts = append(parts, order(first+count+100000, "1,5"))
	}
	tmp := filepath.Join(s.dir, name+".tmp")
	os.WriteFile(tmp, []byte("["+strings.Join(parts, ",")+"]"), 0o644)
	if err := os.Rename(tmp, filepath.Join(s.drop, name)); err != nil {
		s.t.Fatal(err)
	}
	s.inputs = append(s.inputs, name)
}

func (s *space) run(env []string, args ...string) (int, string) {
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	out, _ := cmd.CombinedOutput()
	code := cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = -int(ws.Signal())
	}
	return code, string(out)
}

// verify checks the exactly-once promises.
func (s *space) verify() {
	t := s.t
	t.Helper()
	got := map[string]int{}
	ents, _ := os.ReadDir(s.erp)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") || strings.HasPrefix(e.Name(), ".") {
			t.Errorf("half-written or temp file left in the ERP folder: %s", e.Name())
			continue
		}
		got[e.Name()]++
		data, _ := os.ReadFile(filepath.Join(s.erp, e.Name()))
		if !strings.HasSuffix(strings.TrimSpace(string(data)), "</eExact>") {
			t.Errorf("%s is incomplete", e.Name())
		}
	}
	for name := range s.wantOrders {
		if got[name] != 1 {
			t.Errorf("order file %s reached the ERP folder %d times", name, got[name])
		}
	}
	if len(got) != len(s.wantOrders) {
		t.Errorf("ERP folder has %d files, want %d", len(got), len(s.wantOrders))
	}
	// every input in exactly one archive place
	placed := map[string][]string{}
	filepath.WalkDir(filepath.Join(s.dir, "archive", "shop"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".error.txt") || strings.Contains(p, string(filepath.Separator)+"sent"+string(filepath.Separator)) {
			return nil
		}
		base := filepath.Base(p)
		_, orig, _ := strings.Cut(base, "_")
		placed[orig] = append(placed[orig], p)
		return nil
	})
	for _, in := range s.inputs {
		if len(placed[in]) != 1 {
			t.Errorf("input %s is archived %d times: %v", in, len(placed[in]), placed[in])
		}
	}
	left, _ := os.ReadDir(s.drop)
	for _, e := range left {
		if e.Name() == ".globex" {
			claims, _ := filepath.Glob(filepath.Join(s.drop, ".globex", "*", "*", "*"))
			if len(claims) > 0 {
				t.Errorf("claimed files left behind: %v", claims)
			}
			continue
		}
		t.Errorf("input left in the drop folder: %s", e.Name())
	}
}

func TestCrashAtEveryStep(t *testing.T) {
	points := []string{"claimed", "received", "staged", "order-recorded", "published", "sent-copy", "archiving", "error-text", "moved"}
	for _, p := range points {
		for _, nth := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s:%d", p, nth), func(t *testing.T) {
				s := newSpace(t)
				s.addFile("a.json", 1, 2, false)
				s.addFile("b.json", 3, 2, true)
				s.addFile("c.json", 5, 1, false)
				time.Sleep(60 * time.Millisecond)
				code, out := s.run([]string{fmt.Sprintf("GLOBEX_CRASHPOINT=%s:%d", p, nth)}, "once", "-c", s.cfg)
				if code != -int(syscall.SIGKILL) && code != 1 {
					t.Fatalf("first run: exit %d\n%s", code, out)
				}
				// restart until everything is done
				code, out = s.run(nil, "once", "-c", s.cfg)
				if code != 0 && code != 1 {
					t.Fatalf("restart: exit %d\n%s", code, out)
				}
				s.verify()
			})
		}
	}
}

func TestRandomKillsDuringRun(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	s := newSpace(t)
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	next := 1
	for round := 0; round < 15; round++ {
		cmd := exec.Command(binary, "run", "-c", s.cfg)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 4; i++ {
			n := 1 + rng.Intn(3)
			s.addFile(fmt.Sprintf("r%02d-%d.json", round, i), next, n, rng.Intn(5) == 0)
			next += n
			time.Sleep(time.Duration(rng.Intn(15)) * time.Millisecond)
		}
		time.Sleep(time.Duration(rng.Intn(120)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	// a final clean run drains everything and stops gracefully on SIGTERM
	cmd := exec.Command(binary, "run", "-c", s.cfg)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ents, _ := os.ReadDir(s.drop)
		claims, _ := filepath.Glob(filepath.Join(s.drop, ".globex", "*", "*", "*"))
		if len(ents) <= 1 && len(claims) == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("graceful stop: %v", err)
	}
	s.verify()
}

func stockCSV(qty map[string]string) string {
	var b strings.Builder
	b.WriteString("Magazijn;Artikelcode;Voorraad;Peildatum\n")
	for i := 0; i < 40; i++ {
		code := fmt.Sprintf("ART-%03d", i)
		q := "5,5"
		if v, ok := qty[code]; ok {
			q = v
		}
		if q == "" {
			continue // gone
		}
		fmt.Fprintf(&b, "1;%s;%s;27-11-2026 06:00\n", code, q)
	}
	return b.String()
}

// A feed run killed at each step and restarted publishes exactly the new
// snapshot, leaves no temp file in the feed folder, archives the export
// once, and a delta with exactly the changes exists.
func TestFeedCrashAtEveryStep(t *testing.T) {
	for _, p := range []string{"received", "feed-written", "feed-file-published", "feed-published", "feed-snapshot-kept", "archiving", "moved"} {
		t.Run(p, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "globex.yaml")
			os.MkdirAll(filepath.Join(dir, "in"), 0o755)
			os.MkdirAll(filepath.Join(dir, "feed"), 0o755)
			os.WriteFile(cfg, []byte(`exchanges:
  - name: stock
    kind: stock
    administration: "500"
    source: {dir: in, stable_for: 20ms}
    target: {dir: feed}
`), 0o644)
			drop := func(name, content string) {
				tmp := filepath.Join(dir, name+".tmp")
				os.WriteFile(tmp, []byte(content), 0o644)
				os.Rename(tmp, filepath.Join(dir, "in", name))
			}
			s := &space{t: t}
			drop("v1.csv", stockCSV(nil))
			if code, out := s.run(nil, "once", "-c", cfg); code != 0 {
				t.Fatalf("first run: %d\n%s", code, out)
			}
			time.Sleep(1100 * time.Millisecond) // a new second for the delta's name
			drop("v2.csv", stockCSV(map[string]string{"ART-003": "9,25", "ART-017": ""}))
			time.Sleep(40 * time.Millisecond)
			code, out := s.run([]string{"GLOBEX_CRASHPOINT=" + p}, "once", "-c", cfg)
			if code != -int(syscall.SIGKILL) {
				t.Fatalf("crash run: exit %d (crash point not reached?)\n%s", code, out)
			}
			if code, out := s.run(nil, "once", "-c", cfg); code != 0 {
				t.Fatalf("restart: %d\n%s", code, out)
			}
			// the snapshot is v2, whole
			data, err := os.ReadFile(filepath.Join(dir, "feed", "stock.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			if len(lines) != 39 || !strings.Contains(string(data), `"item_code":"ART-003","on_hand":"9.25"`) || strings.Contains(string(data), "ART-017") {
				t.Fatalf("snapshot after restart: %d lines\n%s", len(lines), data)
			}
			ents, _ := os.ReadDir(filepath.Join(dir, "feed"))
			var deltas []string
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), ".") {
					t.Errorf("temp file left in the feed folder: %s", e.Name())
				}
				if strings.HasPrefix(e.Name(), "stock-delta-") {
					deltas = append(deltas, e.Name())
				}
			}
			if len(deltas) != 1 {
				t.Fatalf("deltas published: %v, want exactly one", deltas)
			}
			for _, d := range deltas {
				b, _ := os.ReadFile(filepath.Join(dir, "feed", d))
				if !strings.Contains(string(b), `"ART-003"`) || !strings.Contains(string(b), `"op":"delete","key":{"administration":"500","item_code":"ART-017"}`) ||
					strings.Count(string(b), "\n") != 2 {
					t.Errorf("delta %s is not exactly the two changes:\n%s", d, b)
				}
			}
			// v2 archived exactly once
			var placed []string
			filepath.WalkDir(filepath.Join(dir, "archive", "stock"), func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() && strings.HasSuffix(p, "_v2.csv") {
					placed = append(placed, p)
				}
				return nil
			})
			if len(placed) != 1 {
				t.Errorf("v2 archived %d times: %v", len(placed), placed)
			}
		})
	}
}
