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
// once, and a delta with exactly the changes exists; the next export (a
// different one) publishes a delta of its own. With several
// administrations the other administration's part and columns survive.
func TestFeedCrashAtEveryStep(t *testing.T) {
	points := []string{"received", "feed-written", "feed-file-published", "feed-delta-noted", "feed-delta-published", "feed-published", "feed-snapshot-kept", "archiving", "moved"}
	for _, p := range points {
		t.Run(p, func(t *testing.T) { feedCrash(t, p, false) })
	}
	for _, p := range append(points, "feed-part-columns-removed", "feed-part-kept") {
		t.Run("administrations/"+p, func(t *testing.T) { feedCrash(t, p, true) })
	}
}

func feedCrash(t *testing.T, p string, multi bool) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "globex.yaml")
	os.MkdirAll(filepath.Join(dir, "in"), 0o755)
	os.MkdirAll(filepath.Join(dir, "feed"), 0o755)
	conf := `exchanges:
  - name: stock
    kind: stock
    administration: "500"
    source: {dir: in, stable_for: 20ms}
    target: {dir: feed}
`
	if multi {
		conf = `exchanges:
  - name: stock
    kind: stock
    source: {dir: in, stable_for: 20ms}
    target: {dir: feed}
    formats: [jsonl, csv]
    feed:
      administrations: {"v*": "500", "other*": "600"}
`
	}
	os.WriteFile(cfg, []byte(conf), 0o644)
	drop := func(name, content string) {
		tmp := filepath.Join(dir, name+".tmp")
		os.WriteFile(tmp, []byte(content), 0o644)
		os.Rename(tmp, filepath.Join(dir, "in", name))
	}
	s := &space{t: t}
	want := 39
	if multi {
		drop("other.csv", "Magazijn;Artikelcode;Voorraad;Peildatum\n2;ZZ-1;3;27-11-2026 06:00\n")
		if code, out := s.run(nil, "once", "-c", cfg); code != 0 {
			t.Fatalf("600's run: %d\n%s", code, out)
		}
		want++
	}
	drop("v1.csv", stockCSV(nil))
	if code, out := s.run(nil, "once", "-c", cfg); code != 0 {
		t.Fatalf("first run: %d\n%s", code, out)
	}
	before := map[string]bool{} // 600's part and then v1 made a delta
	ents, _ := os.ReadDir(filepath.Join(dir, "feed"))
	for _, e := range ents {
		before[e.Name()] = true
	}
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
	if len(lines) != want || !strings.Contains(string(data), `"item_code":"ART-003","on_hand":"9.25"`) || strings.Contains(string(data), "ART-017") {
		t.Fatalf("snapshot after restart: %d lines\n%s", len(lines), data)
	}
	deltas := func() []string {
		ents, _ := os.ReadDir(filepath.Join(dir, "feed"))
		var out []string
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".") {
				t.Errorf("temp file left in the feed folder: %s", e.Name())
			}
			if strings.HasPrefix(e.Name(), "stock-delta-") && !before[e.Name()] {
				out = append(out, e.Name())
			}
		}
		return out
	}
	first := deltas()
	if len(first) != 1 {
		t.Fatalf("deltas published: %v, want exactly one", first)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "feed", first[0]))
	if !strings.Contains(string(b), `"ART-003"`) || !strings.Contains(string(b), `"op":"delete","key":{"administration":"500","item_code":"ART-017"}`) ||
		strings.Count(string(b), "\n") != 2 {
		t.Errorf("delta %s is not exactly the two changes:\n%s", first[0], b)
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
	if multi {
		csv, _ := os.ReadFile(filepath.Join(dir, "feed", "stock.csv"))
		if h, _, _ := strings.Cut(string(csv), "\n"); !strings.Contains(h, "warehouses.1.") || !strings.Contains(h, "warehouses.2.") ||
			strings.Count(string(csv), "\n") != want+1 {
			t.Errorf("CSV after restart: %s", csv)
		}
	}
	// the next export, another one, has a delta of its own
	drop("v3.csv", stockCSV(map[string]string{"ART-003": "9,25", "ART-017": "", "ART-020": "1"}))
	if code, out := s.run(nil, "once", "-c", cfg); code != 0 {
		t.Fatalf("v3: %d\n%s", code, out)
	}
	var next []string
	for _, d := range deltas() {
		if d != first[0] {
			next = append(next, d)
		}
	}
	if len(next) != 1 {
		t.Fatalf("deltas after v3: %v", deltas())
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "feed", next[0])); strings.Count(string(b), "\n") != 1 || !strings.Contains(string(b), `"ART-020","on_hand":"1"`) {
		t.Errorf("v3's delta %s:\n%s", next[0], b)
	}
	if multi {
		data, _ := os.ReadFile(filepath.Join(dir, "feed", "stock.jsonl"))
		csv, _ := os.ReadFile(filepath.Join(dir, "feed", "stock.csv"))
		if !strings.Contains(string(data), `"ZZ-1"`) || !strings.Contains(string(csv), "ZZ-1") {
			t.Errorf("600's record lost after v3:\n%s\n%s", data, csv)
		}
	}
}

// Prices learn their CSV columns (quantity breaks) from the data: the part
// written in pass 1 is the snapshot. Killed at each step and restarted, the
// run publishes the new snapshot, CSV and XLSX, and exactly one delta.
func TestLearnedColumnsFeedCrash(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join("..", "..", "samples", "exports", "itemprices-500.xml"))
	if err != nil {
		t.Fatal(err)
	}
	v2 := strings.Replace(string(sample), "<Value>0.45</Value>", "<Value>0.47</Value>", 1)
	v3 := strings.Replace(v2, "<Value>1.95</Value>", "<Value>1.99</Value>", 1)
	if v2 == string(sample) || v3 == v2 {
		t.Fatal("the sample lost its prices 0.45 and 1.95")
	}
	for _, p := range []string{"feed-written", "feed-file-published", "feed-delta-noted", "feed-delta-published", "feed-published", "feed-snapshot-kept"} {
		t.Run(p, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "globex.yaml")
			os.MkdirAll(filepath.Join(dir, "in"), 0o755)
			os.MkdirAll(filepath.Join(dir, "feed"), 0o755)
			os.WriteFile(cfg, []byte(`exchanges:
  - name: prices
    kind: prices
    administration: "500"
    source: {dir: in, stable_for: 20ms}
    target: {dir: feed}
    formats: [jsonl, csv, xlsx]
`), 0o644)
			s := &space{t: t}
			run := func(name, content string, env []string) (int, string) {
				tmp := filepath.Join(dir, name+".tmp")
				os.WriteFile(tmp, []byte(content), 0o644)
				os.Rename(tmp, filepath.Join(dir, "in", name))
				return s.run(env, "once", "-c", cfg)
			}
			if code, out := run("v1.xml", string(sample), nil); code != 0 {
				t.Fatalf("first run: %d\n%s", code, out)
			}
			first, _ := os.ReadFile(filepath.Join(dir, "feed", "prices.jsonl"))
			if code, out := run("v2.xml", v2, []string{"GLOBEX_CRASHPOINT=" + p}); code != -int(syscall.SIGKILL) {
				t.Fatalf("crash run: exit %d (crash point not reached?)\n%s", code, out)
			}
			if code, out := s.run(nil, "once", "-c", cfg); code != 0 {
				t.Fatalf("restart: %d\n%s", code, out)
			}
			snap, _ := os.ReadFile(filepath.Join(dir, "feed", "prices.jsonl"))
			csv, _ := os.ReadFile(filepath.Join(dir, "feed", "prices.csv"))
			if strings.Count(string(snap), "\n") != strings.Count(string(first), "\n") || !strings.Contains(string(snap), `"base_price":"0.47"`) ||
				strings.Count(string(csv), "\n") != strings.Count(string(snap), "\n")+1 || !strings.Contains(string(csv), "0.47") {
				t.Fatalf("after restart:\n%s\n%s", snap, csv)
			}
			if st, err := os.Stat(filepath.Join(dir, "feed", "prices.xlsx")); err != nil || st.Size() == 0 {
				t.Errorf("xlsx: %v", err)
			}
			deltas := func() []string {
				d, _ := filepath.Glob(filepath.Join(dir, "feed", "prices-delta-*"))
				return d
			}
			if d := deltas(); len(d) != 1 {
				t.Fatalf("deltas: %v, want one", d)
			} else if b, _ := os.ReadFile(d[0]); strings.Count(string(b), "\n") != 1 || !strings.Contains(string(b), `"base_price":"0.47"`) {
				t.Errorf("delta:\n%s", b)
			}
			if code, out := run("v3.xml", v3, nil); code != 0 {
				t.Fatalf("v3: %d\n%s", code, out)
			}
			if d := deltas(); len(d) != 2 {
				t.Fatalf("deltas after v3: %v, want two", d)
			}
		})
	}
}
