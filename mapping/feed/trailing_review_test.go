package feed

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"globex/internal/decimal"
)

// trailingAndWriter writes recs through a TrailingCSV and through a
// CSVWriter given the learned columns, and returns both CSVs.
func trailingAndWriter(t *testing.T, kind Kind, recs []Record) (got, want []byte) {
	t.Helper()
	dir := t.TempDir()
	tc, err := NewTrailingCSV(kind, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Remove()
	var cols Columns
	for _, r := range recs {
		cols.Learn(r)
		if err := tc.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := tc.Close(); err != nil {
		t.Fatal(err)
	}
	var g, w bytes.Buffer
	if err := tc.WriteCSV(&g); err != nil {
		t.Fatalf("WriteCSV: %v", err)
	}
	cw := NewCSVWriter(&w, kind, cols)
	for _, r := range recs {
		if err := cw.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := cw.Close(); err != nil {
		t.Fatal(err)
	}
	return g.Bytes(), w.Bytes()
}

// A row longer than a snapshot line may be (16 MB) is written as the
// CSVWriter writes it: the spool is the TrailingCSV's own file, its rows
// have no limit of their own.
func TestTrailingCSVLongRow(t *testing.T) {
	long := strings.Repeat(`a"; `, maxJSONLLine/4+10) // quoted, quotes doubled: > 16 MB in the CSV
	recs := []Record{
		&Price{Administration: "500", PriceList: "VK", ItemCode: "A", BasePrice: decimal.FromInt(1)},
		&Price{Administration: "500", PriceList: "VK", ItemCode: "B", Customer: long, BasePrice: decimal.FromInt(2),
			Breaks: []Break{{MinQuantity: decimal.FromInt(5), DiscountType: DiscountAmount, Value: decimal.FromInt(1)}}},
		&Price{Administration: "500", PriceList: "VK", ItemCode: "C", BasePrice: decimal.FromInt(3)},
	}
	got, want := trailingAndWriter(t, KindPrices, recs)
	if !bytes.Equal(got, want) {
		t.Fatalf("CSV of %d bytes, the CSVWriter's %d", len(got), len(want))
	}
}

// Edge shapes: every record at the most groups, the most groups only in
// the last record, only records without groups, fields that need quoting
// in every place (the padding follows a quoted last cell).
func TestTrailingCSVEdges(t *testing.T) {
	d := func(s string) *decimal.Dec { v := decimal.MustParse(s); return &v }
	br := func(n int) []Break {
		var b []Break
		for i := range n {
			b = append(b, Break{MinQuantity: decimal.FromInt(int64(i + 1)), DiscountType: `x;"y"`, Value: decimal.MustParse("-0.5"), NetPrice: d("1.25")})
		}
		return b
	}
	ad := func(n int) []Address {
		var a []Address
		for range n {
			a = append(a, Address{Type: " visit", Line1: "a\r\nb", Line2: "", Postcode: "1234 AB ", City: `"Q"`, Country: ";"})
		}
		return a
	}
	p := func(code string, n int) Record {
		return &Price{Administration: "500", PriceList: " VK", ItemCode: code, Customer: "c\n", Factor: d("0.001"), BasePrice: decimal.FromInt(1), ValidTo: "x;", Breaks: br(n)}
	}
	c := func(code string, n int) Record {
		return &Customer{Administration: "500", DebtorCode: code, Name: "Jansen \"&\" Zn ", Blocked: true, DiscountPercent: d("2.5"), Currency: "EUR\t", Addresses: ad(n)}
	}
	cases := map[string][]Record{
		"prices all at most":    {p("A", 3), p("B", 3), p("C", 3)},
		"prices most last":      {p("A", 0), p("B", 1), p("C", 7)},
		"prices most first":     {p("A", 7), p("B", 0), p("C", 2)},
		"prices none":           {p("A", 0), p("B", 0)},
		"customers all at most": {c("A", 2), c("B", 2)},
		"customers most last":   {c("A", 0), c("B", 1), c("C", 5)},
		"customers none":        {c("A", 0)},
	}
	for name, recs := range cases {
		kind := recs[0].Kind()
		got, want := trailingAndWriter(t, kind, recs)
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", name, got, want)
		}
	}
	for _, kind := range []Kind{KindPrices, KindCustomers} {
		got, want := trailingAndWriter(t, kind, nil)
		if !bytes.Equal(got, want) || len(got) == 0 {
			t.Errorf("empty %s feed:\n got %q\nwant %q", kind, got, want)
		}
	}
}

// Remove deletes the spool (closed first, as Windows needs), also after a
// WriteCSV that failed, and when called twice.
func TestTrailingCSVRemove(t *testing.T) {
	dir := t.TempDir()
	tc, err := NewTrailingCSV(KindCustomers, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := tc.Write(&Customer{Administration: "500", DebtorCode: "1", Addresses: make([]Address, 2)}); err != nil {
		t.Fatal(err)
	}
	if err := tc.WriteCSV(failWriter{}); err == nil {
		t.Error("WriteCSV to a failing writer succeeded")
	}
	if err := tc.Remove(); err != nil {
		t.Fatal(err)
	}
	tc.Remove() // no panic
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left in the folder: %v", ents)
	}
	// a spool damaged (cut short) is an error, not a short CSV
	tc, err = NewTrailingCSV(KindCustomers, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Remove()
	tc.Write(&Customer{Administration: "500", DebtorCode: "1", Name: strings.Repeat("n", 100)})
	tc.Close()
	if err := os.Truncate(filepath.Join(dir, filepath.Base(tc.f.Name())), 50); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := tc.WriteCSV(&out); err == nil {
		t.Errorf("a cut spool gave a CSV: %q", out.String())
	}
}

type failWriter struct{}

func (failWriter) Write(b []byte) (int, error) { return 0, os.ErrClosed }
