package app

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func stockWorkspace(t *testing.T, extraFeed string) *workspace {
	w := newWorkspace(t, "")
	os.MkdirAll(filepath.Join(w.dir, "stockdrop"), 0o755)
	os.MkdirAll(filepath.Join(w.dir, "feed"), 0o755)
	yaml := `exchanges:
  - name: shop
    kind: orders
    administration: "500"
    source: {dir: drop, stable_for: 50ms}
    target: {dir: erp}
  - name: stock
    kind: stock
    administration: "500"
    source: {dir: stockdrop, stable_for: 50ms}
    target: {dir: feed}
    feed:
      low_stock_threshold: "10"
      subtract_orders_from: [shop]
` + extraFeed
	os.WriteFile(w.cfg, []byte(yaml), 0o644)
	return w
}

func stockCSV(rows map[string]string, measured string) string {
	var b strings.Builder
	b.WriteString("Magazijn;Artikelcode;Voorraad;Gereserveerd;Te ontvangen;Peildatum\n")
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	for _, k := range sortStrings(keys) {
		fmt.Fprintf(&b, "1;%s;%s;0,000;0,000;%s\n", k, rows[k], measured)
	}
	return b.String()
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

func readJSONL(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, m)
	}
	return out
}

func TestStockFeedSnapshotDeltaAndRefusal(t *testing.T) {
	w := stockWorkspace(t, "")
	drop := filepath.Join(w.dir, "stockdrop")
	rows := map[string]string{}
	for i := 1; i <= 50; i++ {
		rows[fmt.Sprintf("ART-%03d", i)] = fmt.Sprintf("%d,500", i*3)
	}
	os.WriteFile(filepath.Join(drop, "voorraad.csv"), []byte(stockCSV(rows, "27-11-2026 06:00")), 0o644)
	if code := w.once(); code != ExitOK {
		t.Fatalf("once = %d", code)
	}
	snap := readJSONL(t, filepath.Join(w.dir, "feed", "stock.jsonl"))
	if len(snap) != 50 {
		t.Fatalf("snapshot has %d records", len(snap))
	}
	if snap[0]["item_code"] != "ART-001" || snap[0]["on_hand"] != "3.5" || snap[0]["availability"] != "low_stock" {
		t.Fatalf("first record: %v", snap[0])
	}
	if _, err := os.Stat(filepath.Join(w.dir, "feed", "stock.csv")); err != nil {
		t.Fatal(err)
	}
	if d, _ := filepath.Glob(filepath.Join(w.dir, "feed", "stock-delta-*.jsonl")); len(d) != 0 {
		t.Fatalf("a first run has no delta: %v", d)
	}

	// re-sent with a few changes: the delta holds exactly those
	rows["ART-007"] = "0,000"
	rows["ART-020"] = "999,000"
	delete(rows, "ART-033")
	rows["ART-051"] = "5,000"
	time.Sleep(1100 * time.Millisecond) // a new second for the delta's name
	os.WriteFile(filepath.Join(drop, "voorraad.csv"), []byte(stockCSV(rows, "27-11-2026 07:00")), 0o644)
	if code := w.once(); code != ExitOK {
		t.Fatalf("once = %d", code)
	}
	deltas, _ := filepath.Glob(filepath.Join(w.dir, "feed", "stock-delta-*.jsonl"))
	if len(deltas) != 1 {
		t.Fatalf("deltas: %v", deltas)
	}
	got := map[string]string{}
	for _, l := range readJSONL(t, deltas[0]) {
		switch l["op"] {
		case "upsert":
			got[l["record"].(map[string]any)["item_code"].(string)] = "upsert"
		case "delete":
			got[l["key"].(map[string]any)["item_code"].(string)] = "delete"
		}
	}
	want := map[string]string{"ART-007": "upsert", "ART-020": "upsert", "ART-051": "upsert", "ART-033": "delete"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("delta %v, want %v", got, want)
	}

	// a bad export (text in a number) changes nothing
	before, _ := os.ReadFile(filepath.Join(w.dir, "feed", "stock.jsonl"))
	os.WriteFile(filepath.Join(drop, "kapot.csv"), []byte("Magazijn;Artikelcode;Voorraad\n1;ART-001;veel\n"), 0o644)
	if code := w.once(); code != ExitQuarantined {
		t.Fatalf("once (bad) = %d", code)
	}
	after, _ := os.ReadFile(filepath.Join(w.dir, "feed", "stock.jsonl"))
	if string(before) != string(after) {
		t.Fatal("a refused export changed the feed")
	}
	txt := ""
	for _, f := range w.files("archive/stock/failed") {
		if strings.HasSuffix(f, ".error.txt") {
			b, _ := os.ReadFile(filepath.Join(w.dir, f))
			txt += string(b)
		}
	}
	if !strings.Contains(txt, "veel") && !strings.Contains(txt, "row") {
		t.Fatalf("reason does not name the row: %s", txt)
	}
	// the identical export again: a duplicate, nothing published
	os.WriteFile(filepath.Join(drop, "voorraad-again.csv"), []byte(stockCSV(rows, "27-11-2026 07:00")), 0o644)
	if code := w.once(); code != ExitOK {
		t.Fatalf("once (dup) = %d", code)
	}
	if dups := w.files("archive/stock/duplicates"); len(dups) != 2 {
		t.Fatalf("duplicates: %v", dups)
	}
}

func TestStockSubtractsOrdersSentAfterMeasuring(t *testing.T) {
	w := stockWorkspace(t, "")
	w.drop1("o.json", orderJSON("WEB-1", "ART-001", "4"))
	if code := w.once(); code != ExitOK {
		t.Fatalf("once = %d", code)
	}
	measured := time.Now().Add(-time.Hour).Format("02-01-2006 15:04")
	os.WriteFile(filepath.Join(w.dir, "stockdrop", "v.csv"), []byte(stockCSV(map[string]string{"ART-001": "10,000", "ART-002": "10,000"}, measured)), 0o644)
	if code := w.once(); code != ExitOK {
		t.Fatalf("once = %d", code)
	}
	snap := readJSONL(t, filepath.Join(w.dir, "feed", "stock.jsonl"))
	if snap[0]["item_code"] != "ART-001" || snap[0]["available"] != "6" || snap[1]["available"] != "10" {
		t.Fatalf("the order sent after the measuring time was not subtracted: %v", snap)
	}
}

// An older export sent again after a newer one is published again: only an
// export identical to the one the feed shows is a duplicate.
func TestOlderExportAgainIsPublished(t *testing.T) {
	w := stockWorkspace(t, "")
	drop := filepath.Join(w.dir, "stockdrop")
	a := stockCSV(map[string]string{"ART-001": "1,000"}, "27-11-2026 06:00")
	b := stockCSV(map[string]string{"ART-001": "2,000"}, "27-11-2026 07:00")
	for i, content := range []string{a, b, a} {
		os.WriteFile(filepath.Join(drop, fmt.Sprintf("v%d.csv", i)), []byte(content), 0o644)
		if code := w.once(); code != ExitOK {
			t.Fatalf("run %d: once = %d", i, code)
		}
	}
	if snap := readJSONL(t, filepath.Join(w.dir, "feed", "stock.jsonl")); snap[0]["on_hand"] != "1" {
		t.Fatalf("the re-sent older export was not published: %v", snap)
	}
	if d := w.files("archive/stock/duplicates"); len(d) != 0 {
		t.Fatalf("duplicates: %v", d)
	}
}

// A leftover of an interrupted run in the work folder shares its inode with
// the published feed: the next run must unlink it, not truncate it.
func TestLeftoverWorkFileDoesNotTruncateTheFeed(t *testing.T) {
	w := stockWorkspace(t, "")
	drop := filepath.Join(w.dir, "stockdrop")
	os.WriteFile(filepath.Join(drop, "v1.csv"), []byte(stockCSV(map[string]string{"ART-001": "1,000"}, "27-11-2026 06:00")), 0o644)
	if code := w.once(); code != ExitOK {
		t.Fatalf("once = %d", code)
	}
	feedFile := filepath.Join(w.dir, "feed", "stock.jsonl")
	before, _ := os.ReadFile(feedFile)
	work := filepath.Join(w.dir, "state", "feeds", "stock", "work")
	os.MkdirAll(work, 0o755)
	if err := os.Link(feedFile, filepath.Join(work, "part.jsonl")); err != nil {
		t.Skip("hard links not supported here")
	}
	os.WriteFile(filepath.Join(drop, "bad.csv"), []byte("Magazijn;Artikelcode;Voorraad\n1;ART-001;veel\n"), 0o644)
	if code := w.once(); code != ExitQuarantined {
		t.Fatalf("once = %d", code)
	}
	after, _ := os.ReadFile(feedFile)
	if string(after) != string(before) || len(after) == 0 {
		t.Fatalf("the published feed changed: %q -> %q", before, after)
	}
}
