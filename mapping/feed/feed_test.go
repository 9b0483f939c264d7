package feed

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"globex/internal/decimal"
	"globex/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite golden files")

func dp(s string) *decimal.Dec { d := decimal.MustParse(s); return &d }

func sampleRecords() []Record {
	return []Record{
		&Catalogue{Administration: "500", ItemCode: "ART-001", Description: "Koffie <zwart> & \"sterk\"",
			Descriptions: map[string]string{"nl": "Koffie", "en": "Coffee", "fr": "Café\u2028x"},
			Unit:         "stk", SalesPrice: dp("4.95"), Currency: "EUR", Status: "active",
			Attributes: map[string]string{"kleur": "zwart; mat"}, UpdatedAt: "2026-11-27T09:00:00Z"},
		&Catalogue{Administration: "500", ItemCode: "ART-002", Description: " spaced ", Status: "blocked"},
		&Stock{Administration: "500", ItemCode: "ART-001", OnHand: decimal.MustParse("1290"),
			Reserved: decimal.MustParse("100"), Incoming: decimal.MustParse("200"), Available: dp("1190"),
			Availability: InStock, ExpectedDate: "2026-12-01",
			Warehouses: StockWarehouses{ // out of order: the encoders sort
				{Code: "2", OnHand: decimal.MustParse("40"), Incoming: decimal.MustParse("200"), Available: dp("40")},
				{Code: "1", OnHand: decimal.MustParse("1250"), Reserved: decimal.MustParse("100"), Available: dp("1150")},
			}, MeasuredAt: "2024-05-14T04:00:00Z"},
		&Stock{Administration: "500", ItemCode: "ART-003", Availability: Backorder, Display: "0",
			Incoming: decimal.MustParse("5.5")},
		&Price{Administration: "500", PriceList: "VK", Currency: "EUR", ItemCode: "ART-001", Customer: "",
			Unit: "stk", Factor: dp("1"), BasePrice: decimal.MustParse("4.95"), ValidFrom: "2026-01-01",
			Breaks: []Break{{MinQuantity: decimal.MustParse("10"), DiscountType: DiscountPercentage, Value: decimal.MustParse("5")},
				{MinQuantity: decimal.MustParse("100"), DiscountType: DiscountNetPrice, Value: decimal.MustParse("4.25"), NetPrice: dp("4.25")}}},
		&Price{Administration: "500", PriceList: "VK", GroupCode: "KOF", Customer: "10001", BasePrice: decimal.MustParse("0")},
		&Customer{Administration: "500", DebtorCode: "10001", DebtorNumber: "10001", Name: "Jansen Techniek",
			Blocked: true, DiscountPercent: dp("2.5"), Addresses: []Address{
				{Type: "invoice", Line1: "Industrieweg 12", Postcode: "4462 GC", City: "Goes", Country: "NL"}}},
		&Customer{Administration: "", DebtorCode: "\t20002\x01", Name: "Ünïcode \xff"},
	}
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	for _, rec := range sampleRecords() {
		want := refJSON(t, rec)
		if got := rec.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Errorf("%s %q:\n got %s\nwant %s", rec.Kind(), rec.Key(), got, want)
		}
		// And the output decodes back to an equal encoding.
		back := newRecord(rec.Kind())
		if err := json.Unmarshal(want, back); err != nil {
			t.Fatal(err)
		}
		if got := back.AppendJSON(nil); !bytes.Equal(got, want) && !strings.Contains(string(want), `\ufffd`) {
			t.Errorf("round trip %s:\n got %s\nwant %s", rec.Key(), got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a", "<>&", "\u2028\u2029", "\x00\x1f\x7f", "\xff\xfe", "é€😀", "\"\\", "\b\f\n\r\t"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		rec := &Catalogue{Administration: a, ItemCode: b, Description: a + b,
			Descriptions: map[string]string{a: b, b: a}, Status: b, Attributes: map[string]string{a + b: ""}}
		want, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("got %s\nwant %s", got, want)
		}
	})
}

func TestKeys(t *testing.T) {
	p := &Price{Administration: "500", PriceList: "VK", ItemCode: "A", Customer: "C", Unit: "stk", ValidFrom: "2026-01-01"}
	got := p.KeyFields()
	want := []KeyField{{"administration", "500"}, {"price_list", "VK"}, {"item_code", "A"}, {"group_code", ""},
		{"customer", "C"}, {"unit", "stk"}, {"valid_from", "2026-01-01"}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("field %d: got %v want %v", i, got[i], want[i])
		}
	}
	if (&Stock{Administration: "5", ItemCode: "00"}).Key() == (&Stock{Administration: "50", ItemCode: "0"}).Key() {
		t.Error("keys collide across field boundaries")
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testutil.Golden(t, testutil.Path("testdata", "feed", name), got, *update)
}

func byKind(kind Kind) []Record {
	var out []Record
	for _, r := range sampleRecords() {
		if r.Kind() == kind {
			out = append(out, r)
		}
	}
	return out
}

func TestWritersGolden(t *testing.T) {
	for _, kind := range []Kind{KindCatalogue, KindStock, KindPrices, KindCustomers} {
		recs := byKind(kind)
		var cols Columns
		for _, r := range recs {
			cols.Learn(r)
		}
		var jb, cb bytes.Buffer
		jw, cw := NewJSONLWriter(&jb), NewCSVWriter(&cb, kind, cols)
		for _, r := range recs {
			if err := jw.Write(r); err != nil {
				t.Fatal(err)
			}
			if err := cw.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := jw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := cw.Close(); err != nil {
			t.Fatal(err)
		}
		golden(t, string(kind)+".jsonl", jb.Bytes())
		golden(t, string(kind)+".csv", cb.Bytes())
		if bytes.HasPrefix(cb.Bytes(), []byte("\xef\xbb\xbf")) {
			t.Error("CSV starts with a BOM")
		}

		// ScanColumns over the JSONL finds the same columns, and ConvertJSONL
		// reproduces the CSV.
		cols2, err := ScanColumns(kind, bytes.NewReader(jb.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		var cb2 bytes.Buffer
		cw2 := NewCSVWriter(&cb2, kind, cols2)
		if err := ConvertJSONL(kind, bytes.NewReader(jb.Bytes()), cw2); err != nil {
			t.Fatal(err)
		}
		cw2.Close()
		if !bytes.Equal(cb.Bytes(), cb2.Bytes()) && kind != KindCustomers { // \xff does not survive JSON
			t.Errorf("%s: CSV from JSONL differs:\n%s\nvs\n%s", kind, cb2.Bytes(), cb.Bytes())
		}
	}
}

func TestCSVUnknownColumn(t *testing.T) {
	var b bytes.Buffer
	w := NewCSVWriter(&b, KindStock, Columns{Warehouses: []string{"1"}})
	err := w.Write(byKind(KindStock)[0])
	if !errors.Is(err, ErrUnknownColumn) || !strings.Contains(err.Error(), `warehouse "2"`) {
		t.Fatalf("got %v", err)
	}
	if err := w.Write(byKind(KindPrices)[0]); err == nil {
		t.Fatal("price accepted by a stock writer")
	}
}

func TestCSVEmptyHasHeader(t *testing.T) {
	var b bytes.Buffer
	w := NewCSVWriter(&b, KindStock, Columns{})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); !strings.HasPrefix(got, "administration;item_code;on_hand;") || strings.Count(got, "\n") != 1 {
		t.Fatalf("got %q", got)
	}
}

func TestXLSXWriter(t *testing.T) {
	recs := byKind(KindStock)
	var cols Columns
	for _, r := range recs {
		cols.Learn(r)
	}
	var b bytes.Buffer
	w, err := NewXLSXWriter(&b, KindStock, cols)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][0] != "administration" || rows[1][1] != "ART-001" || rows[1][2] != "1290" {
		t.Fatalf("rows: %q", rows)
	}
	if rows[2][4] != "5.5" {
		t.Errorf("incoming cell %q", rows[2][4])
	}
}

func TestAppendCSVField(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "a": "a", "a;b": `"a;b"`, `a"b`: `"a""b"`, "a\nb": "\"a\nb\"", " a": `" a"`, "a,b": "a,b",
	} {
		if got := string(AppendCSVField(nil, in, ';')); got != want {
			t.Errorf("%q: got %s want %s", in, got, want)
		}
	}
}

func FuzzAppendDec(f *testing.F) {
	f.Add(int64(0), uint8(0))
	f.Add(int64(-5), uint8(2))
	f.Add(int64(12500), uint8(3))
	f.Add(int64(-1<<63), uint8(18))
	f.Add(int64(1<<63-1), uint8(0))
	f.Add(int64(99999999), uint8(7))
	f.Add(int64(-10000000), uint8(1))
	f.Fuzz(func(t *testing.T, c int64, s uint8) {
		d := decimal.New(c, int(s%19))
		want := d.String()
		if got := string(appendDec(nil, d)); got != want {
			t.Fatalf("appendDec(%d, %d) = %q, want %q", c, s%19, got, want)
		}
		var m figMemo
		if got := string(m.add(nil, d)); got != want {
			t.Fatalf("figMemo.add(%d, %d) = %q, want %q", c, s%19, got, want)
		}
		cur := figCursor{m: &m}
		if got := string(cur.appendDec([]byte("x"), d)); got != "x"+want {
			t.Fatalf("figCursor.appendDec(%d, %d) = %q, want %q", c, s%19, got, want)
		}
	})
}
