package app

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"globex/internal/testutil"
)

func samplesDir() string { return testutil.Path("samples", "exports") }

func copySample(t *testing.T, name, dst string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samplesDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(dst), 0o755)
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

const feedsConfig = `exchanges:
  - name: catalogue
    kind: items
    administration: "500"
    source: {dir: in/items, stable_for: 50ms}
    target: {dir: feed}
    formats: [jsonl, csv, xlsx]
    feed:
      languages: {1: nl, 2: en, 3: de}
  - name: prices
    kind: prices
    administration: "500"
    source: {dir: in/prices, stable_for: 50ms}
    target: {dir: feed}
    feed: {items_exchange: catalogue}
  - name: customers
    kind: customers
    administration: "500"
    source: {dir: in/accounts, stable_for: 50ms}
    target: {dir: feed}
  - name: shop
    kind: orders
    administration: "500"
    source: {dir: drop, stable_for: 50ms}
    target: {dir: erp}
    orders: {check_items: catalogue, check_customers: customers}
`

func TestGlobeExportsToFeedsAndOrderChecks(t *testing.T) {
	w := newWorkspace(t, "")
	os.WriteFile(w.cfg, []byte(feedsConfig), 0o644)
	for _, d := range []string{"in/items", "in/prices", "in/accounts", "feed"} {
		os.MkdirAll(filepath.Join(w.dir, d), 0o755)
	}
	copySample(t, "items-500.xml", filepath.Join(w.dir, "in/items/items-500.xml"))
	copySample(t, "itemprices-500.xml", filepath.Join(w.dir, "in/prices/itemprices-500.xml"))
	copySample(t, "accounts-500.xml", filepath.Join(w.dir, "in/accounts/accounts-500.xml"))
	order := func(num, debtor, item string) string {
		return fmt.Sprintf(`{"order_number":"%s","customer":{"debtor_code":"%s"},"lines":[{"item_code":"%s","quantity":"3"}]}`, num, debtor, item)
	}
	w.drop1("good.json", order("WEB-1", "10001", "BT-M8X40"))
	w.drop1("unknown-item.json", order("WEB-2", "10001", "NOPE-1"))
	w.drop1("blocked-debtor.json", order("WEB-3", "10003", "BT-M8X40"))
	code := w.once()
	if code != ExitQuarantined {
		t.Fatalf("once = %d", code)
	}
	for _, f := range []string{"catalogue.jsonl", "catalogue.csv", "catalogue.xlsx", "prices.jsonl", "prices.csv", "customers.jsonl", "customers.csv"} {
		if _, err := os.Stat(filepath.Join(w.dir, "feed", f)); err != nil {
			t.Errorf("feed file %s: %v", f, err)
		}
	}
	cat := readJSONL(t, filepath.Join(w.dir, "feed", "catalogue.jsonl"))
	byCode := map[string]map[string]any{}
	for _, r := range cat {
		byCode[r["item_code"].(string)] = r
	}
	if _, ok := byCode["PAL-EURO"]; ok {
		t.Error("a non-sales item reached the catalogue")
	}
	if r, ok := byCode["PL-6X30"]; !ok || r["administration"] != "500" {
		t.Errorf("the padded code was not trimmed: %v", byCode)
	}
	d, _ := byCode["BT-M8X40"]["descriptions"].(map[string]any)
	if d["nl"] == nil || d["en"] == nil {
		t.Errorf("descriptions: %v", byCode["BT-M8X40"])
	}
	prices := readJSONL(t, filepath.Join(w.dir, "feed", "prices.jsonl"))
	netPrices := 0
	for _, p := range prices {
		brs, _ := p["breaks"].([]any)
		for _, b := range brs {
			if b.(map[string]any)["net_price"] != nil {
				netPrices++
			}
		}
	}
	if len(prices) == 0 || netPrices == 0 {
		t.Errorf("prices: %d records, %d breaks with a net price", len(prices), netPrices)
	}
	custs := readJSONL(t, filepath.Join(w.dir, "feed", "customers.jsonl"))
	if len(custs) != 5 {
		t.Errorf("customers: %d, want 5 debtors (the creditor left out)", len(custs))
	}
	// orders checked against the exports
	if got := w.files("erp"); len(got) != 1 || !strings.HasSuffix(got[0], "500_WEB-1.xml") {
		t.Fatalf("ERP: %v", got)
	}
	txt := w.errorTexts("failed")
	for _, want := range []string{"NOPE-1", "items-500.xml", "10003", "blocked", "accounts-500.xml"} {
		if !strings.Contains(txt, want) {
			t.Errorf("refusal lacks %q:\n%s", want, txt)
		}
	}
}

func TestTruncatedExportLeavesFeedUnchanged(t *testing.T) {
	w := newWorkspace(t, "")
	os.WriteFile(w.cfg, []byte(feedsConfig), 0o644)
	for _, d := range []string{"in/items", "in/prices", "in/accounts", "feed"} {
		os.MkdirAll(filepath.Join(w.dir, d), 0o755)
	}
	copySample(t, "items-500.xml", filepath.Join(w.dir, "in/items/items-500.xml"))
	if code := w.once(); code != ExitOK {
		t.Fatalf("once = %d", code)
	}
	before, _ := os.ReadFile(filepath.Join(w.dir, "feed", "catalogue.jsonl"))
	full, _ := os.ReadFile(filepath.Join(samplesDir(), "items-500.xml"))
	os.WriteFile(filepath.Join(w.dir, "in/items/items-truncated.xml"), full[:len(full)*2/3], 0o644)
	os.WriteFile(filepath.Join(w.dir, "in/items/bomb.xml"), []byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><eExact><Items><Item code="&b;"/></Items></eExact>`), 0o644)
	if code := w.once(); code != ExitQuarantined {
		t.Fatalf("once = %d", code)
	}
	after, _ := os.ReadFile(filepath.Join(w.dir, "feed", "catalogue.jsonl"))
	if string(before) != string(after) {
		t.Fatal("a refused export changed the catalogue")
	}
	var txt string
	for _, f := range w.files("archive/catalogue/failed") {
		if strings.HasSuffix(f, ".error.txt") {
			b, _ := os.ReadFile(filepath.Join(w.dir, f))
			txt += string(b)
		}
	}
	if !strings.Contains(txt, "line") || !strings.Contains(strings.ToLower(txt), "doctype") {
		t.Fatalf("reasons:\n%s", txt)
	}
}

// twoAdministrations is a workspace with one stock feed for administrations
// 500 and 600, told apart by file name.
func twoAdministrations(t *testing.T) *workspace {
	w := newWorkspace(t, "")
	os.MkdirAll(filepath.Join(w.dir, "in"), 0o755)
	os.MkdirAll(filepath.Join(w.dir, "feed"), 0o755)
	os.WriteFile(w.cfg, []byte(`exchanges:
  - name: stock
    kind: stock
    source: {dir: in, stable_for: 50ms}
    target: {dir: feed}
    feed:
      administrations: {"voorraad-500*": "500", "voorraad-600*": "600"}
`), 0o644)
	return w
}

func TestSeveralAdministrationsInOneFeed(t *testing.T) {
	w := twoAdministrations(t)
	put := func(name string, rows map[string]string) {
		os.WriteFile(filepath.Join(w.dir, "in", name), []byte(stockCSV(rows, "27-11-2026 06:00")), 0o644)
	}
	put("voorraad-500.csv", map[string]string{"A": "1,000", "B": "2,000"})
	put("voorraad-600.csv", map[string]string{"A": "7,000"})
	put("voorraad-700.csv", map[string]string{"A": "9,000"})
	if code := w.once(); code != ExitQuarantined { // 700 matches no pattern
		t.Fatalf("once = %d", code)
	}
	keys := func() map[string]string {
		m := map[string]string{}
		for _, r := range readJSONL(t, filepath.Join(w.dir, "feed", "stock.jsonl")) {
			m[r["administration"].(string)+"/"+r["item_code"].(string)] = r["on_hand"].(string)
		}
		return m
	}
	if got := fmt.Sprint(keys()); got != "map[500/A:1 500/B:2 600/A:7]" {
		t.Fatalf("combined snapshot: %s", got)
	}
	if !strings.Contains(w.errorTexts("failed"), "administration") {
		// the stock exchange archives under its own name
		txt := ""
		for _, f := range w.files("archive/stock/failed") {
			if strings.HasSuffix(f, ".error.txt") {
				b, _ := os.ReadFile(filepath.Join(w.dir, f))
				txt += string(b)
			}
		}
		if !strings.Contains(txt, "administration") {
			t.Fatalf("reason for the unknown administration: %s", txt)
		}
	}
	// a new export of 500 replaces only 500's records
	put("voorraad-500-b.csv", map[string]string{"A": "3,000"})
	if code := w.once(); code != ExitOK {
		t.Fatalf("once = %d", code)
	}
	if got := fmt.Sprint(keys()); got != "map[500/A:3 600/A:7]" {
		t.Fatalf("after a new export of 500: %s", got)
	}
}

func TestDuplicateItemCodeRefusesExport(t *testing.T) {
	w := newWorkspace(t, "")
	os.WriteFile(w.cfg, []byte(feedsConfig), 0o644)
	for _, d := range []string{"in/items", "in/prices", "in/accounts", "feed"} {
		os.MkdirAll(filepath.Join(w.dir, d), 0o755)
	}
	full, _ := os.ReadFile(filepath.Join(samplesDir(), "items-500.xml"))
	s := string(full)
	first := s[strings.Index(s, "<Item "):]
	item := first[:strings.Index(first, "</Item>")+len("</Item>")]
	dup := strings.Replace(s, item, item+"\n"+item, 1)
	os.WriteFile(filepath.Join(w.dir, "in/items/items-dup.xml"), []byte(dup), 0o644)
	if code := w.once(); code != ExitQuarantined {
		t.Fatalf("once = %d", code)
	}
	if _, err := os.Stat(filepath.Join(w.dir, "feed", "catalogue.jsonl")); err == nil {
		t.Fatal("a feed was published from an export with a duplicate code")
	}
	var txt string
	for _, f := range w.files("archive/catalogue/failed") {
		if strings.HasSuffix(f, ".error.txt") {
			b, _ := os.ReadFile(filepath.Join(w.dir, f))
			txt += string(b)
		}
	}
	if !strings.Contains(txt, "twice") || !strings.Contains(txt, "BT-M8X40") {
		t.Fatalf("reason: %s", txt)
	}
}

// A feed whose CSV columns are learned from the data (prices: the most
// quantity breaks) writes its snapshot once: the JSONL published is the
// one indexed while the export was read, the CSV has a column group per
// break, and the next export yields a delta of exactly what changed.
func TestLearnedColumnsFeedDelta(t *testing.T) {
	w := newWorkspace(t, "")
	os.WriteFile(w.cfg, []byte(`exchanges:
  - name: prices
    kind: prices
    administration: "500"
    source: {dir: in/prices, stable_for: 50ms}
    target: {dir: feed}
    formats: [jsonl, csv]
`), 0o644)
	os.MkdirAll(filepath.Join(w.dir, "feed"), 0o755)
	src := filepath.Join(w.dir, "in/prices/itemprices-500.xml")
	copySample(t, "itemprices-500.xml", src)
	if code := w.once(); code != 0 {
		t.Fatalf("once = %d", code)
	}
	feedDir := filepath.Join(w.dir, "feed")
	first := readJSONL(t, filepath.Join(feedDir, "prices.jsonl"))
	most := 0
	for _, p := range first {
		brs, _ := p["breaks"].([]any)
		most = max(most, len(brs))
	}
	csv, err := os.ReadFile(filepath.Join(feedDir, "prices.csv"))
	if err != nil {
		t.Fatal(err)
	}
	header, _, _ := strings.Cut(string(csv), "\n")
	if most == 0 || !strings.Contains(header, fmt.Sprintf("breaks.%d.", most)) || strings.Contains(header, fmt.Sprintf("breaks.%d.", most+1)) {
		t.Errorf("%d breaks at most, CSV header %q", most, header)
	}
	if got := strings.Count(string(csv), "\n"); got != len(first)+1 {
		t.Errorf("CSV has %d lines for %d records", got, len(first))
	}
	// the same export with one list price changed
	b, err := os.ReadFile(filepath.Join(samplesDir(), "itemprices-500.xml"))
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(b), "<Value>0.45</Value>", "<Value>0.47</Value>", 1)
	if changed == string(b) {
		t.Fatal("the sample has no list price 0.45")
	}
	if err := os.WriteFile(src, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := w.once(); code != 0 {
		t.Fatalf("second once = %d", code)
	}
	deltas, _ := filepath.Glob(filepath.Join(feedDir, "prices-delta-*.jsonl"))
	if len(deltas) != 1 {
		t.Fatalf("deltas: %v", deltas)
	}
	d := readJSONL(t, deltas[0])
	if len(d) != 1 || d[0]["op"] != "upsert" {
		t.Fatalf("delta: %v", d)
	}
	if rec, _ := d[0]["record"].(map[string]any); rec["base_price"] != "0.47" {
		t.Errorf("delta record: %v", d[0])
	}
	if second := readJSONL(t, filepath.Join(feedDir, "prices.jsonl")); len(second) != len(first) {
		t.Errorf("snapshot: %d records, then %d", len(first), len(second))
	}
}

// putOneRow drops a one-row stock export (warehouse wh, item) of the
// two-administration workspace and runs it, which must succeed.
func putOneRow(t *testing.T, w *workspace, name, wh, item string) {
	t.Helper()
	csv := "Magazijn;Artikelcode;Voorraad;Peildatum\n" + wh + ";" + item + ";1,5;27-11-2026 06:00\n"
	os.WriteFile(filepath.Join(w.dir, "in", name), []byte(csv), 0o644)
	if code := w.once(); code != ExitOK {
		var why string
		for _, f := range w.files("archive/stock/failed") {
			if strings.HasSuffix(f, ".error.txt") {
				b, _ := os.ReadFile(filepath.Join(w.dir, f))
				why += string(b)
			}
		}
		t.Fatalf("once %s = %d: %s", name, code, why)
	}
}

// stockHeader is the header row of the published stock CSV.
func stockHeader(t *testing.T, w *workspace) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(w.dir, "feed", "stock.csv"))
	if err != nil {
		t.Fatal(err)
	}
	h, _, _ := strings.Cut(string(b), "\n")
	return h
}

// Several administrations, each with its own warehouses: the CSV has the
// columns of all of them. A kept part's columns come from the file beside
// it, or from the part itself when that file does not match it.
func TestSeveralAdministrationsKeepTheirColumns(t *testing.T) {
	w := twoAdministrations(t)
	put := func(name, wh, item string) { putOneRow(t, w, name, wh, item) }
	header := func() string { return stockHeader(t, w) }
	put("voorraad-600.csv", "W6", "A")
	put("voorraad-500.csv", "W5", "B")
	if h := header(); !strings.Contains(h, "warehouses.W5.") || !strings.Contains(h, "warehouses.W6.") {
		t.Fatalf("header %q lacks a warehouse", h)
	}
	side, _ := filepath.Glob(filepath.Join(w.dir, "state", "feeds", "stock", "parts", "*.columns.json"))
	if len(side) != 2 {
		t.Fatalf("columns files: %v", side)
	}
	// 600's columns file no longer matches its part: the part is read
	for _, f := range side {
		if strings.Contains(f, "600") {
			os.WriteFile(f, []byte(`{"size":1,"columns":{}}`), 0o644)
		}
	}
	put("voorraad-500-b.csv", "W5", "C")
	if h := header(); !strings.Contains(h, "warehouses.W6.") {
		t.Fatalf("header %q lost 600's warehouse", h)
	}
}

// A kept part replaced by one of the same size whose columns differ (an
// older globex ran in between and kept its part without a columns file: a
// warehouse code of the same length) must not be taken at the word of the
// columns file beside it: the next run of the other administration still
// publishes every warehouse instead of refusing its export.
func TestKeptPartReplacedWithSameSize(t *testing.T) {
	w := twoAdministrations(t)
	put := func(name, wh, item string) { putOneRow(t, w, name, wh, item) }
	put("voorraad-600.csv", "W6", "A")
	put("voorraad-500.csv", "W5", "B")
	part := filepath.Join(w.dir, "state", "feeds", "stock", "parts", "600.jsonl")
	b, err := os.ReadFile(part)
	if err != nil {
		t.Fatal(err)
	}
	// the columns file names the part's size and checksum, as written
	var side struct {
		Size   int64  `json:"size"`
		CRC32C string `json:"crc32c"`
	}
	if sb, err := os.ReadFile(strings.TrimSuffix(part, ".jsonl") + ".columns.json"); err != nil || json.Unmarshal(sb, &side) != nil ||
		side.Size != int64(len(b)) || side.CRC32C != fmt.Sprintf("%08x", crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))) {
		t.Fatalf("columns file of 600 %+v (%v) for a part of %d bytes", side, err, len(b))
	}
	other := strings.ReplaceAll(string(b), `"W6"`, `"W7"`)
	if other == string(b) {
		t.Fatalf("part 600 has no warehouse W6: %s", b)
	}
	// as an older globex keeps a part: a rename over the old one
	tmp := part + ".new"
	os.WriteFile(tmp, []byte(other), 0o644)
	if err := os.Rename(tmp, part); err != nil {
		t.Fatal(err)
	}
	put("voorraad-500-b.csv", "W5", "C")
	if h := stockHeader(t, w); !strings.Contains(h, "warehouses.W7.") {
		t.Fatalf("header %q lacks the kept part's warehouse W7", h)
	}
}
