package app

import (
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"globex/internal/config"
	"globex/internal/testutil"
)

// workspace is a real folder layout with a configuration, as an operator has.
type workspace struct {
	t    *testing.T
	dir  string
	cfg  string
	drop string
	erp  string
}

func newWorkspace(t *testing.T, extra string) *workspace {
	t.Helper()
	dir := t.TempDir()
	w := &workspace{t: t, dir: dir, cfg: filepath.Join(dir, "globex.yaml"),
		drop: filepath.Join(dir, "drop"), erp: filepath.Join(dir, "erp")}
	os.MkdirAll(w.drop, 0o755)
	os.MkdirAll(w.erp, 0o755)
	yaml := `exchanges:
  - name: shop
    kind: orders
    administration: "500"
    source: {dir: drop, stable_for: 50ms}
    target: {dir: erp}
` + extra
	if err := os.WriteFile(w.cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *workspace) drop1(name, content string) {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.drop, name), []byte(content), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

func (w *workspace) once() int {
	w.t.Helper()
	cfg, err := config.Load(w.cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	a, err := Open(cfg, zerolog.Nop(), false)
	if err != nil {
		w.t.Fatal(err)
	}
	defer a.Close()
	return a.Once(context.Background())
}

// files lists the files under rel (recursively), relative to the workspace.
func (w *workspace) files(rel string) []string {
	var out []string
	filepath.WalkDir(filepath.Join(w.dir, rel), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			r, _ := filepath.Rel(w.dir, p)
			out = append(out, filepath.ToSlash(r))
		}
		return nil
	})
	return out
}

func (w *workspace) archived(outcome string) []string {
	var out []string
	for _, f := range w.files("archive/shop/" + outcome) {
		if !strings.HasSuffix(f, ".error.txt") {
			out = append(out, f)
		}
	}
	return out
}

func (w *workspace) errorTexts(outcome string) string {
	var b strings.Builder
	for _, f := range w.files("archive/shop/" + outcome) {
		if strings.HasSuffix(f, ".error.txt") {
			data, _ := os.ReadFile(filepath.Join(w.dir, f))
			b.Write(data)
		}
	}
	return b.String()
}

func orderJSON(number, item, qty string) string {
	return `{"order_number":"` + number + `","customer":{"debtor_code":"10001"},"your_reference":"PO ` + number + `",
"delivery":{"date":"2026-12-01","address":{"name":"Jansen","line1":"Industrieweg 12","postcode":"4462 GC","city":"Goes","country":"NL"}},
"note":"bel <eerst> & lever achterom","lines":[{"item_code":"` + item + `","quantity":"` + qty + `","unit":"stk","price":"4.95"}]}`
}

func validate(t *testing.T, files ...string) { testutil.XMLLint(t, files...) }

type globeOrder struct {
	Orders []struct {
		Description string `xml:"Description"`
		YourRef     string `xml:"YourRef"`
		Lines       []struct {
			Item struct {
				Code string `xml:"code,attr"`
			} `xml:"Item"`
			Quantity string `xml:"Quantity"`
		} `xml:"OrderLine"`
	} `xml:"Orders>Order"`
}

func readOrder(t *testing.T, path string) globeOrder {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var g globeOrder
	if err := xml.Unmarshal(data, &g); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return g
}

func TestOrdersEndToEnd(t *testing.T) {
	w := newWorkspace(t, "")
	w.drop1("a.json", orderJSON("WEB-1", "ART-001", "12"))
	w.drop1("b.json", "["+orderJSON("WEB-2", "ART-002", "2.5")+","+orderJSON("WEB-3", "ART-003", "1")+"]")
	if code := w.once(); code != ExitOK {
		t.Fatalf("once = %d", code)
	}
	xmls := w.files("erp")
	if len(xmls) != 3 {
		t.Fatalf("ERP folder: %v", xmls)
	}
	var paths []string
	for _, f := range xmls {
		paths = append(paths, filepath.Join(w.dir, f))
	}
	validate(t, paths...)
	g := readOrder(t, filepath.Join(w.erp, "500_WEB-2.xml"))
	if len(g.Orders) != 1 || g.Orders[0].Description != "WEB-2" || g.Orders[0].YourRef != "PO WEB-2" ||
		g.Orders[0].Lines[0].Item.Code != "ART-002" || g.Orders[0].Lines[0].Quantity != "2.5" {
		t.Fatalf("order facts: %+v", g)
	}
	if got := w.archived("processed"); len(got) != 2 {
		t.Fatalf("processed: %v", got)
	}
	if got := w.files("archive/shop/sent"); len(got) != 3 {
		t.Fatalf("sent copies: %v", got)
	}
	if left := w.files("drop"); len(left) != 0 {
		t.Fatalf("drop folder not empty: %v", left)
	}

	// The same order again: duplicates/, nothing new in the ERP folder.
	os.Remove(filepath.Join(w.erp, "500_WEB-1.xml")) // Globe imported it meanwhile
	w.drop1("a-again.json", orderJSON("WEB-1", "ART-001", "12"))
	if code := w.once(); code != ExitOK {
		t.Fatalf("once (duplicate) = %d", code)
	}
	if len(w.files("erp")) != 2 {
		t.Fatalf("duplicate was sent again: %v", w.files("erp"))
	}
	if got := w.archived("duplicates"); len(got) != 1 || !strings.HasSuffix(got[0], "_a-again.json") {
		t.Fatalf("duplicates: %v", got)
	}
	if txt := w.errorTexts("duplicates"); !strings.Contains(txt, "WEB-1") || !strings.Contains(txt, "a.json") {
		t.Fatalf("duplicate explanation: %s", txt)
	}

	// The same number with different content: refused, naming both files.
	w.drop1("a-changed.json", orderJSON("WEB-1", "ART-001", "13"))
	if code := w.once(); code != ExitQuarantined {
		t.Fatalf("once (conflict) = %d", code)
	}
	txt := w.errorTexts("failed")
	for _, want := range []string{"WEB-1", "a.json", "a-changed.json", "different content", "NOT sent"} {
		if !strings.Contains(txt, want) {
			t.Errorf("conflict explanation lacks %q:\n%s", want, txt)
		}
	}
	if len(w.files("erp")) != 2 {
		t.Fatalf("conflicting order reached the ERP: %v", w.files("erp"))
	}
}

func TestOneBadOrderAmongGood(t *testing.T) {
	w := newWorkspace(t, "")
	w.drop1("mixed.json", "["+orderJSON("WEB-10", "ART-1", "1")+","+orderJSON("WEB-11", "ART-2", "1,5")+"]")
	if code := w.once(); code != ExitQuarantined {
		t.Fatalf("once = %d", code)
	}
	if got := w.files("erp"); len(got) != 1 || !strings.HasSuffix(got[0], "500_WEB-10.xml") {
		t.Fatalf("ERP: %v", got)
	}
	txt := w.errorTexts("failed")
	if !strings.Contains(txt, "WEB-11") || !strings.Contains(txt, "quantity") || !strings.Contains(txt, "500_WEB-10.xml") {
		t.Fatalf("explanation:\n%s", txt)
	}
}

func TestAllOrNothing(t *testing.T) {
	w := newWorkspace(t, "    orders: {all_or_nothing: true}\n")
	w.drop1("mixed.json", "["+orderJSON("WEB-10", "ART-1", "1")+","+orderJSON("WEB-11", "ART-2", "1e3")+"]")
	if code := w.once(); code != ExitQuarantined {
		t.Fatalf("once = %d", code)
	}
	if got := w.files("erp"); len(got) != 0 {
		t.Fatalf("ERP: %v", got)
	}
}

func TestUnreachableTargetWaitsInsteadOfQuarantine(t *testing.T) {
	w := newWorkspace(t, "")
	os.RemoveAll(w.erp) // the ERP share is gone
	w.drop1("a.json", orderJSON("WEB-1", "ART-001", "1"))
	if code := w.once(); code != ExitRuntime {
		t.Fatalf("once with no target = %d, want %d", code, ExitRuntime)
	}
	if got := w.files("archive"); len(got) != 0 {
		t.Fatalf("input was archived while the target was unreachable: %v", got)
	}
	cfg, _ := config.Load(w.cfg)
	var saw bool
	for _, f := range Check(cfg) {
		if !f.OK && strings.Contains(f.Text, "target folder") {
			saw = true
		}
	}
	if !saw {
		t.Error("check does not name the missing target folder")
	}
	os.MkdirAll(w.erp, 0o755) // the share is back
	if code := w.once(); code != ExitOK {
		t.Fatalf("once after repair = %d", code)
	}
	if got := w.files("erp"); len(got) != 1 {
		t.Fatalf("ERP: %v", got)
	}
	if got := w.archived("processed"); len(got) != 1 {
		t.Fatalf("processed: %v", got)
	}
}

func TestHostileFilesAreQuarantinedNotCrashing(t *testing.T) {
	w := newWorkspace(t, "")
	w.drop1("empty.json", "")
	w.drop1("malformed.json", `{"order_number": "X", `)
	w.drop1("latin1.json", "{\"order_number\":\"W\xe9B\"}")
	w.drop1("garbage.csv", "\x00\x01\x02binary")
	if code := w.once(); code != ExitQuarantined {
		t.Fatalf("once = %d", code)
	}
	if got := w.archived("failed"); len(got) != 4 {
		t.Fatalf("failed: %v", got)
	}
	if got := w.files("erp"); len(got) != 0 {
		t.Fatalf("ERP: %v", got)
	}
}

func TestTooLargeIsQuarantined(t *testing.T) {
	w := newWorkspace(t, "")
	os.WriteFile(w.cfg, []byte(strings.Replace(string(must(os.ReadFile(w.cfg))), "stable_for: 50ms", "stable_for: 50ms, max_size: 1KB", 1)), 0o644)
	w.drop1("big.json", strings.Repeat("x", 4096))
	if code := w.once(); code != ExitQuarantined {
		t.Fatalf("once = %d", code)
	}
	if txt := w.errorTexts("failed"); !strings.Contains(txt, "max_size") {
		t.Fatalf("explanation: %s", txt)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
