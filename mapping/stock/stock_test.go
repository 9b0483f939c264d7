package stock

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"

	"globex/internal/decimal"
	"globex/mapping/feed"
)

var update = flag.Bool("update", false, "rewrite golden files")

var ams = func() *time.Location {
	l, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		return time.FixedZone("CET", 3600)
	}
	return l
}()

func testdata(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "stock", name)
}

// records reads input and returns the JSONL of the feed under rules ru.
func records(t *testing.T, in []byte, opts Options, ru Rules) string {
	t.Helper()
	if opts.Location == nil {
		opts.Location = ams
	}
	res, err := Read(bytes.NewReader(in), opts)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w := feed.NewJSONLWriter(&b)
	if err := res.WriteTo(ru, w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return b.String()
}

func readErr(t *testing.T, in []byte, opts Options) error {
	t.Helper()
	_, err := Read(bytes.NewReader(in), opts)
	if err == nil {
		t.Fatalf("no error for %q", in)
	}
	return err
}

func TestGoldenGlobeCSV(t *testing.T) {
	in, err := os.ReadFile(testdata("globe-nl.csv"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Read(bytes.NewReader(in), Options{Location: ams, Administration: "500"})
	if err != nil {
		t.Fatal(err)
	}
	ru := Rules{Warehouses: []string{"1", "2"}, LowStockThreshold: decimal.MustParse("10")}
	var jb, cb bytes.Buffer
	jw := feed.NewJSONLWriter(&jb)
	cw := feed.NewCSVWriter(&cb, feed.KindStock, res.Columns(ru))
	if err := res.WriteTo(ru, jw, cw); err != nil {
		t.Fatal(err)
	}
	jw.Close()
	cw.Close()
	for name, got := range map[string][]byte{"globe-nl.stock.jsonl": jb.Bytes(), "globe-nl.stock.csv": cb.Bytes()} {
		if *update {
			os.WriteFile(testdata(name), got, 0o644)
		}
		want, err := os.ReadFile(testdata(name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n%s\nwant:\n%s", name, got, want)
		}
	}
	if res.Items() != 4 || res.Rows() != 6 {
		t.Errorf("items %d rows %d", res.Items(), res.Rows())
	}
	if got := res.MeasuredAt(); !got.Equal(time.Date(2024, 5, 14, 4, 0, 0, 0, time.UTC)) {
		t.Errorf("measured at %v", got)
	}
}

func TestAliasesAndDelimiters(t *testing.T) {
	want := `{"administration":"","item_code":"A1","on_hand":"12.5","reserved":"2","incoming":"3","available":"10.5","availability":"in_stock","warehouses":{"1":{"on_hand":"12.5","reserved":"2","incoming":"3","available":"10.5"}}}` + "\n"
	for _, in := range []string{
		"Artikelcode;Magazijn;Voorraad;Gereserveerd;Te ontvangen\nA1;1;12,5;2;3\n",
		"Item code,Warehouse,Stock,Reserved,To be received\nA1,1,12.5,2,3\n",
		"itemcode\twarehouse\ton hand\treserved\tincoming\nA1\t1\t12.5\t2\t3\n",
		"Artikel;Magazijn;Werkelijke voorraad;Te leveren;Te ontvangen\r\n\"A1\";1;12,50;2,00;3\r\n",
		"ITEM_CODE;WAREHOUSE;ON_HAND;FREE STOCK;INCOMING\n A1 ; 1 ;12,5;10,5;3\n",
		"Artikelcode;Magazijn;Vrije voorraad;Voorraad;Te ontvangen\nA1;1;10,5;12,5;3\n",
	} {
		if got := records(t, []byte(in), Options{}, Rules{}); got != want {
			t.Errorf("%q:\n got %s\nwant %s", in, got, want)
		}
	}
	// Explicit column map.
	in := "Code;Mag;Op voorraad;Beschikbaar\nA1;1;12,5;9\n"
	got := records(t, []byte(in), Options{Columns: map[string]string{"item_code": "Code", "warehouse": "mag", "on_hand": "Op voorraad"}}, Rules{})
	if !strings.Contains(got, `"on_hand":"12.5"`) {
		t.Errorf("column map: %s", got)
	}
	if err := readErr(t, []byte(in), Options{Columns: map[string]string{"itemcode": "Code"}}); !strings.Contains(err.Error(), "unknown field") {
		t.Errorf("bad map field: %v", err)
	}
	if err := readErr(t, []byte(in), Options{Columns: map[string]string{"item_code": "Nope"}}); !strings.Contains(err.Error(), `"Nope"`) {
		t.Errorf("bad map header: %v", err)
	}
	// Two columns meaning the same.
	if err := readErr(t, []byte("Artikelcode;Voorraad;Stock\nA;1;2\n"), Options{}); !strings.Contains(err.Error(), "both mean on_hand") {
		t.Errorf("duplicate: %v", err)
	}
}

func utf16le(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func TestEncodings(t *testing.T) {
	const text = "Artikelcode;Artikelomschrijving;Voorraad\r\nCAFÉ-1;Crème brûlée;5\r\n"
	win := []byte(strings.NewReplacer("É", "\xc9", "è", "\xe8", "û", "\xfb").Replace(text))
	want := `"item_code":"CAFÉ-1"`
	for name, c := range map[string]struct {
		in    []byte
		label string
	}{
		"windows-1252 detected": {win, ""},
		"windows-1252 declared": {win, "windows-1252"},
		"utf-16le bom":          {utf16le(text), ""},
		"utf-8 bom":             {append([]byte("\xef\xbb\xbf"), text...), ""},
		"utf-8":                 {[]byte(text), ""},
	} {
		got := records(t, c.in, Options{Encoding: c.label}, Rules{})
		if !strings.Contains(got, want) {
			t.Errorf("%s: %s", name, got)
		}
	}
	// Declared UTF-8 but Windows-1252 bytes: refused with the line.
	err := readErr(t, win, Options{Encoding: "utf-8"})
	if !strings.Contains(err.Error(), "line 2") {
		t.Errorf("invalid utf-8: %v", err)
	}
}

func TestHeaderErrors(t *testing.T) {
	var he *HeaderError
	err := readErr(t, []byte("Artikelcode;Omschrijving\nA;B\n"), Options{})
	if !errors.As(err, &he) || he.Missing[0] != "on_hand or free_stock" || !strings.Contains(err.Error(), `"Omschrijving"`) {
		t.Errorf("missing: %v", err)
	}
	// Wrong delimiter configured: one column, and the hint says so.
	err = readErr(t, []byte("Artikelcode;Voorraad\nA;1\n"), Options{Delimiter: ','})
	if !errors.As(err, &he) || !strings.Contains(err.Error(), "delimiter seems wrong") || !strings.Contains(err.Error(), `"Artikelcode;Voorraad"`) {
		t.Errorf("wrong delimiter: %v", err)
	}
	// A delimiter that is not detected (pipe).
	err = readErr(t, []byte("Artikelcode|Voorraad\nA|1\n"), Options{})
	if !strings.Contains(err.Error(), "delimiter seems wrong") {
		t.Errorf("pipe: %v", err)
	}
	if err := readErr(t, nil, Options{}); !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty: %v", err)
	}
}

func TestBadRows(t *testing.T) {
	in := "Artikelcode;Magazijn;Voorraad;Gereserveerd;Peildatum\n" +
		"A;1;5;0;14-05-2024\n" +
		"B;1;vijf;0;14-05-2024\n" + // line 3: text in a number
		";1;5;0;14-05-2024\n" + // line 4: no item code
		"C;1;5\n" + // line 5: too few fields
		"D;1;1.234,50;0;14-05-2024\n" + // line 6: thousands separator
		"E;1;5;0;31-02-2024\n" + // line 7: no such date
		"F;1;\"5;0;x\n" // line 8: unterminated quote
	var bre *BadRowsError
	err := readErr(t, []byte(in), Options{})
	if !errors.As(err, &bre) || bre.Total != 6 {
		t.Fatalf("got %v", err)
	}
	wants := []string{
		`line 3, column "Voorraad": "vijf" is not a number`,
		`line 4, column "Artikelcode": "" missing item code`,
		`line 5: has 3 fields, the header has 5`,
		`line 6, column "Voorraad": "1.234,50" has a thousands separator`,
		`line 7, column "Peildatum": "31-02-2024" is not a date`,
		`line 8: the quoted field starting here goes wrong at line 9`,
	}
	for i, w := range wants {
		if !strings.HasPrefix(bre.Rows[i].Error(), w) {
			t.Errorf("row %d: %q, want prefix %q", i, bre.Rows[i].Error(), w)
		}
	}
	// Skipping: the good row is published, the bad ones listed.
	res, err := Read(strings.NewReader(in), Options{SkipBadRows: true, MaxBadRows: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Items() != 1 || res.BadRowCount() != 6 || len(res.BadRows()) != 2 {
		t.Errorf("items %d bad %d listed %d", res.Items(), res.BadRowCount(), len(res.BadRows()))
	}
	if !strings.Contains(bre.Error(), "6 bad row(s), file refused") {
		t.Errorf("message: %s", bre.Error())
	}
	// Administration mismatch.
	err = readErr(t, []byte("Administratie;Artikelcode;Voorraad\n501;A;1\n"), Options{Administration: "500"})
	if !strings.Contains(err.Error(), `differs from the exchange's administration "500"`) {
		t.Errorf("admin: %v", err)
	}
	// Extra empty fields (a trailing ';') are fine, extra values are not.
	records(t, []byte("Artikelcode;Voorraad\nA;1;;\n"), Options{}, Rules{})
	if err := readErr(t, []byte("Artikelcode;Voorraad\nA;1;x\n"), Options{}); !strings.Contains(err.Error(), "has 3 fields") {
		t.Errorf("extra: %v", err)
	}
}

func TestDecimalPolicy(t *testing.T) {
	for _, c := range []struct {
		name, in string
		opts     Options
		want     string // substring of the output or of the error
		fail     bool
	}{
		{"comma decided", "Artikelcode;Voorraad\nA;5,000\nB;12,5\n", Options{}, `"on_hand":"5"`, false},
		{"point decided", "Artikelcode,Voorraad\nA,1.234\nB,0.5\n", Options{}, `"on_hand":"1.234"`, false},
		{"ambiguous only", "Artikelcode;Voorraad\nA;1.234\nB;5\n", Options{}, "could be a decimal number or an integer with a thousands separator", true},
		{"ambiguous configured", "Artikelcode;Voorraad\nA;1.234\n", Options{Decimal: '.'}, `"on_hand":"1.234"`, false},
		{"configured comma refuses point", "Artikelcode;Voorraad\nA;1.234\n", Options{Decimal: ','}, "configured as ','", true},
		{"mixed", "Artikelcode;Voorraad\nA;12,5\nB;1.5\n", Options{}, "line 2 (\"12,5\") uses ','", true},
		{"mixed ambiguous", "Artikelcode;Voorraad\nA;1.234\nB;5,000\n", Options{}, "line 2 column \"Voorraad\" (\"1.234\") uses '.'", true},
		{"leading zero is not grouping", "Artikelcode;Voorraad\nA;0,500\n", Options{}, `"on_hand":"0.5"`, false},
		{"integers only", "Artikelcode;Voorraad\nA;1234\n", Options{}, `"on_hand":"1234"`, false},
		{"negative", "Artikelcode;Voorraad\nA;-2,5\n", Options{}, `"on_hand":"-2.5","reserved":"0","incoming":"0","available":"0","availability":"out_of_stock"`, false},
	} {
		res, err := Read(strings.NewReader(c.in), c.opts)
		var got string
		if err == nil {
			var b bytes.Buffer
			w := feed.NewJSONLWriter(&b)
			res.WriteTo(Rules{}, w)
			w.Close()
			got = b.String()
		} else {
			got = err.Error()
		}
		if (err != nil) != c.fail || !strings.Contains(got, c.want) {
			t.Errorf("%s: got %s (err %v), want %s", c.name, got, err, c.want)
		}
	}
}

// endless yields 'a' forever and counts what was read.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	e.n += int64(len(p))
	if e.n > 1<<30 {
		return 0, io.EOF
	}
	return len(p), nil
}

func TestLongLine(t *testing.T) {
	src := &endless{}
	_, err := Read(io.MultiReader(strings.NewReader("Artikelcode;Voorraad\nA;1\nB;"), src), Options{Delimiter: ';'})
	var lt *LineTooLongError
	if !errors.As(err, &lt) || lt.Line != 3 {
		t.Fatalf("got %v", err)
	}
	if src.n > 4<<20 {
		t.Errorf("read %d bytes of an over-long line", src.n)
	}
	// A quoted field spanning many lines is bounded too.
	in := "Artikelcode;Voorraad\nA;\"" + strings.Repeat("x\n", 600_000) + "\"\n"
	if _, err := Read(strings.NewReader(in), Options{}); !errors.As(err, &lt) || lt.Line != 2 {
		t.Fatalf("quoted: %v", err)
	}
}

func TestXLSX(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	f.SetSheetName("Sheet1", "Voorraad")
	rows := [][]any{
		{"Magazijn", "Artikelcode", "Voorraad", "Gereserveerd", "Peildatum"},
		{"1", "ART-001", 1234.5, 0.25, time.Date(2024, 5, 14, 6, 0, 0, 0, time.UTC)},
		{"2", "ART-001", 10, 0, time.Date(2024, 5, 14, 6, 0, 0, 0, time.UTC)},
		{},
		{"1", "ART-002", "7", nil, nil},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Voorraad", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	style, _ := f.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	f.SetCellStyle("Voorraad", "C2", "D3", style)
	dstyle, _ := f.NewStyle(&excelize.Style{NumFmt: 22}) // m/d/yy h:mm
	f.SetCellStyle("Voorraad", "E2", "E3", dstyle)
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	got := records(t, b.Bytes(), Options{Location: time.UTC}, Rules{})
	want := `{"administration":"","item_code":"ART-001","on_hand":"1244.5","reserved":"0.25","incoming":"0","available":"1244.25","availability":"in_stock","warehouses":{"1":{"on_hand":"1234.5","reserved":"0.25","incoming":"0","available":"1234.25"},"2":{"on_hand":"10","reserved":"0","incoming":"0","available":"10"}},"measured_at":"2024-05-14T06:00:00Z"}
{"administration":"","item_code":"ART-002","on_hand":"7","reserved":"0","incoming":"0","available":"7","availability":"in_stock","warehouses":{"1":{"on_hand":"7","reserved":"0","incoming":"0","available":"7"}}}
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// Bad value with the Excel row number; a missing sheet.
	f.SetCellValue("Voorraad", "C5", "zeven")
	b.Reset()
	f.Write(&b)
	err := readErr(t, b.Bytes(), Options{})
	if !strings.Contains(err.Error(), `row 5, column "Voorraad": "zeven" is not a number`) {
		t.Errorf("bad xlsx row: %v", err)
	}
	if err := readErr(t, b.Bytes(), Options{Sheet: "Stock"}); !strings.Contains(err.Error(), `no worksheet "Stock"`) {
		t.Errorf("sheet: %v", err)
	}
	// Zip bomb guard: a tiny unzip limit refuses the workbook.
	if err := readErr(t, b.Bytes(), Options{MaxXLSXBytes: 100}); !strings.Contains(err.Error(), "XLSX") {
		t.Errorf("limit: %v", err)
	}
}

func TestAvailability(t *testing.T) {
	dec := decimal.MustParse
	base := "Artikelcode;Magazijn;Voorraad;Gereserveerd;Te ontvangen;Verwachte datum;Veiligheidsvoorraad\n"
	for _, c := range []struct {
		name string
		rows string
		ru   Rules
		want string
	}{
		{"in stock", "A;1;50;0;0;;", Rules{LowStockThreshold: dec("10")}, `"available":"50","availability":"in_stock"`},
		{"low at threshold", "A;1;10;0;0;;", Rules{LowStockThreshold: dec("10")}, `"available":"10","availability":"low_stock"`},
		{"low disabled", "A;1;1;0;0;;", Rules{}, `"availability":"in_stock"`},
		{"out", "A;1;5;5;0;;", Rules{}, `"available":"0","availability":"out_of_stock"`},
		{"backorder", "A;1;5;7;20;01-06-2024;", Rules{}, `"reserved":"7","incoming":"20","available":"0","availability":"backorder","expected_date":"2024-06-01"`},
		{"safety global", "A;1;12;0;0;;", Rules{SafetyStock: dec("10"), LowStockThreshold: dec("5")}, `"available":"2","availability":"low_stock"`},
		{"safety column", "A;1;12;0;0;;12", Rules{SafetyStock: dec("1")}, `"available":"0","availability":"out_of_stock"`},
		{"safety hook wins", "A;1;12;0;0;;12", Rules{SafetyStockFor: func(a, i string) (decimal.Dec, bool) { return dec("2"), true }}, `"available":"10"`},
		{"pending orders", "A;1;12;2;0;;", Rules{Reserved: func(a, i string) decimal.Dec { return dec("4") }}, `"reserved":"6","incoming":"0","available":"6"`},
		{"warehouses counted", "A;1;5;0;0;;\nA;9;100;0;50;01-07-2024;", Rules{Warehouses: []string{"1"}}, `"on_hand":"5","reserved":"0","incoming":"0","available":"5","availability":"in_stock","warehouses":{"1":`},
		{"capped above", "A;1;150;0;0;;", Rules{Display: DisplayCapped, Cap: dec("100")}, `"incoming":"0","availability":"in_stock","display":"100+","warehouses":{"1":{"on_hand":"150","reserved":"0","incoming":"0"}}`},
		{"capped below", "A;1;42;0;0;;", Rules{Display: DisplayCapped, Cap: dec("100")}, `"available":"42","availability":"in_stock","display":"42"`},
		{"class", "A;1;42;0;0;;", Rules{Display: DisplayClass}, `"incoming":"0","availability":"in_stock","warehouses":{"1":{"on_hand":"42","reserved":"0","incoming":"0"}}`},
		{"expected earliest", "A;1;0;0;5;03-06-2024;\nA;2;0;0;5;01-06-2024;\nA;3;0;0;0;01-01-2024;", Rules{}, `"expected_date":"2024-06-01"`},
	} {
		got := records(t, []byte(base+c.rows+"\n"), Options{}, c.ru)
		if !strings.Contains(got, c.want) {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
	res, _ := Read(strings.NewReader(base+"A;1;1;0;0;;\n"), Options{})
	for _, ru := range []Rules{{Display: "fancy"}, {Display: DisplayCapped}, {SafetyStock: dec("-1")}} {
		if err := res.Each(ru, func(*feed.Stock) error { return nil }); err == nil {
			t.Errorf("rules %+v accepted", ru)
		}
	}
}

func TestDates(t *testing.T) {
	for in, want := range map[string]string{
		"14-05-2024":                "2024-05-14T00:00:00+02:00",
		"14/05/2024 06:00":          "2024-05-14T06:00:00+02:00",
		"14.05.2024 6:00:30":        "2024-05-14T06:00:30+02:00",
		"14052024":                  "2024-05-14T00:00:00+02:00",
		"20240514":                  "2024-05-14T00:00:00+02:00",
		"2024-05-14T06:00:00Z":      "2024-05-14T06:00:00Z",
		"2024-05-14 06:00:00+01:00": "2024-05-14T06:00:00+01:00",
		"1-5-2024":                  "2024-05-01T00:00:00+02:00",
	} {
		got, err := parseDate([]byte(in), ams)
		if err != nil || got.Format(time.RFC3339) != want {
			t.Errorf("%q: %v %v, want %s", in, got.Format(time.RFC3339), err, want)
		}
	}
	for _, in := range []string{"", "31-02-2024", "05/14/2024", "2024-05", "14-05-2024 25:00", "12345678", "14-05/2024", "x"} {
		if _, err := parseDate([]byte(in), ams); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	if got, ok := excelSerial([]byte("45426.25"), false, time.UTC); !ok || !got.Equal(time.Date(2024, 5, 14, 6, 0, 0, 0, time.UTC)) {
		t.Errorf("serial: %v", got)
	}
}

func TestParseNum(t *testing.T) {
	for in, want := range map[string]string{"": "0", " 12 ": "12", "-1,5": "-1.5", "+3.25": "3.25", ",5": "0.5", "007": "7"} {
		d, _, err := parseNum([]byte(in), false)
		if err != nil || d.Normalize().String() != decimal.MustParse(want).String() {
			t.Errorf("%q: %v %v", in, d, err)
		}
	}
	for _, in := range []string{"1e3", "1,2,3", "1.2,3", "12,", "-", "1 000", "0x10", "1234567890123456789"} {
		if _, _, err := parseNum([]byte(in), false); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	for in, want := range map[string]string{"1.5E-3": "0.0015", "2E+2": "200", "1e0": "1"} {
		d, _, err := parseNum([]byte(in), true)
		if err != nil || !d.Equal(decimal.MustParse(want)) {
			t.Errorf("%q: %v %v", in, d, err)
		}
	}
}

// TestDeltaResent: a re-sent stock file with a few changes yields a delta
// with exactly those items.
func TestDeltaResent(t *testing.T) {
	data := genStock(t, 2000)
	snap := func(in []byte) []byte {
		return []byte(records(t, in, Options{}, Rules{LowStockThreshold: decimal.MustParse("10")}))
	}
	prev := snap(data)
	lines := strings.Split(string(data), "\r\n")
	// Change two quantities, drop one item entirely (both warehouses).
	f := strings.Split(lines[5], ";")
	f[3], f[4] = "1,000", "0,000"
	lines[5] = strings.Join(f, ";")
	f = strings.Split(lines[17], ";")
	f[5] = "999,000"
	lines[17] = strings.Join(f, ";")
	dropItem := strings.Split(lines[30], ";")[2]
	var kept []string
	for _, l := range lines {
		if !strings.Contains(l, ";"+dropItem+";") {
			kept = append(kept, l)
		}
	}
	next := snap([]byte(strings.Join(kept, "\r\n")))
	// the delta as a feed run makes it: from the two snapshots' indexes
	dir := t.TempDir()
	prevIdx, _, _ := indexSnapshot(t, dir, "prev", prev)
	nextIdx, nextSnap, n := indexSnapshot(t, dir, "next", next)
	var out bytes.Buffer
	st, err := feed.DeltaFromIndexes(feed.KindStock, prevIdx, nextIdx, nextSnap, n, &out)
	if err != nil {
		t.Fatal(err)
	}
	if st.Upserts != 2 || st.Deletes != 1 || st.Unchanged != 997 {
		t.Fatalf("stats %+v\n%s", st, out.String())
	}
	ls := strings.Split(strings.TrimSpace(out.String()), "\n")
	for i, item := range []string{strings.Split(lines[5], ";")[2], strings.Split(lines[17], ";")[2]} {
		if !strings.Contains(ls[i], `"item_code":"`+item+`"`) || !strings.HasPrefix(ls[i], `{"op":"upsert"`) {
			t.Errorf("line %d: %s, want upsert of %s", i, ls[i], item)
		}
	}
	if want := `{"op":"delete","key":{"administration":"500","item_code":"` + dropItem + `"}}`; ls[2] != want {
		t.Errorf("delete: %s, want %s", ls[2], want)
	}
}

// indexSnapshot writes a JSONL stock snapshot and its index to dir.
func indexSnapshot(t *testing.T, dir, name string, jsonl []byte) (idx, snap string, count uint64) {
	t.Helper()
	snap = filepath.Join(dir, name+".jsonl")
	if err := os.WriteFile(snap, jsonl, 0o644); err != nil {
		t.Fatal(err)
	}
	b := feed.NewIndexBuilder(dir)
	for _, line := range bytes.Split(bytes.TrimSpace(jsonl), []byte("\n")) {
		var rec feed.Stock
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatal(err)
		}
		if err := b.Add(&rec, line); err != nil {
			t.Fatal(err)
		}
	}
	idx = filepath.Join(dir, name+".idx")
	if err := b.Finish(feed.KindStock, idx); err != nil {
		t.Fatal(err)
	}
	return idx, snap, b.Count()
}

// FuzzSplitter checks the RFC 4180 splitter against encoding/csv.
func FuzzSplitter(f *testing.F) {
	for _, s := range []string{"a;b\n", "\"a;\"\"b\";c\r\n\n\nd", "a\"b;c\n", "\"a\nb\";c", "\"unterminated\n", "x;\"y\"z\n", "\r\n\r", "a;b\r", ";;\n;", "\"\"\n"} {
		f.Add([]byte(s), byte(';'))
	}
	f.Fuzz(func(t *testing.T, in []byte, d byte) {
		delim := byte(";,\t"[int(d)%3])
		cr := csv.NewReader(bytes.NewReader(in))
		cr.Comma = rune(delim)
		cr.FieldsPerRecord = -1
		sp := newSplitter(newBufReader(in), delim, 1<<20)
		for n := 0; ; n++ {
			want, werr := cr.Read()
			got, gerr := sp.next()
			if (werr == io.EOF) != (gerr == io.EOF) || (werr == nil) != (gerr == nil) {
				t.Fatalf("record %d: encoding/csv %q %v, splitter %q %v", n, want, werr, got, gerr)
			}
			if werr == io.EOF {
				return
			}
			if werr != nil {
				continue
			}
			if len(got) != len(want) {
				t.Fatalf("record %d: %q vs %q", n, got, want)
			}
			for i := range got {
				if string(got[i]) != want[i] {
					t.Fatalf("record %d field %d: %q vs %q", n, i, got[i], want[i])
				}
			}
		}
	})
}

// FuzzRead feeds arbitrary bytes to the reader: it must return a result or
// an error, never panic, and a result must be writable.
func FuzzRead(f *testing.F) {
	seed, _ := os.ReadFile(testdata("globe-nl.csv"))
	f.Add(seed)
	f.Add([]byte("Artikelcode;Voorraad\nA;1,5\nA;2\n"))
	f.Add([]byte("Item code,Stock,Date,Expected date\nA,1.5,2024-05-14,14052024\n"))
	f.Add(utf16le("Artikelcode\tVoorraad\r\nA\t1\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		res, err := Read(bytes.NewReader(in), Options{Location: time.UTC, MaxLineBytes: 4096, SkipBadRows: len(in)%2 == 0})
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		var b bytes.Buffer
		w := feed.NewJSONLWriter(&b)
		if err := res.WriteTo(Rules{LowStockThreshold: decimal.MustParse("1")}, w, feed.NewCSVWriter(io.Discard, feed.KindStock, res.Columns(Rules{}))); err != nil {
			// Sums may overflow; that must be an error, not a panic.
			return
		}
		w.Close()
	})
}

// FuzzParseNum checks parseNum's fast path against the general parser.
func FuzzParseNum(f *testing.F) {
	for _, s := range []string{"0", "-0", "+1", "153,740", "1.234", "0,500", ".5", "5.", "-", "1,2,3", "123456789012345678", "12345678901234567,8", "1e3", "0.000000000000000001", " 7 ", "01.000"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, exp bool) {
		b := trim([]byte(s))
		if len(b) == 0 {
			return
		}
		d, info, ok := parseNumShort(b)
		if !ok {
			return
		}
		d2, info2, err := parseNumSlow(b, exp)
		if err != nil || !d.Equal(d2) || d.Scale() != d2.Scale() || info != info2 {
			t.Fatalf("%q: fast %v %v %+v, general %v %v %+v %v", s, d, d.Scale(), info, d2, d2.Scale(), info2, err)
		}
	})
}
