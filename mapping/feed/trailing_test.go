package feed

import (
	"math/rand/v2"
	"testing"

	"globex/internal/decimal"
)

// randomTrailing makes n random prices or customers with 0 to 6 groups and
// text that needs quoting now and then.
func randomTrailing(kind Kind, n int, seed uint64) []Record {
	rng := rand.New(rand.NewPCG(seed, 3))
	texts := []string{"", "A", "Groothandel", "a;b", `say "hi"`, " lead", "line\nbreak", "é€", "x\r"}
	txt := func() string { return texts[rng.IntN(len(texts))] }
	dec := func() decimal.Dec { return decimal.New(int64(rng.IntN(100000))-500, rng.IntN(4)) }
	var out []Record
	for i := range n {
		g := rng.IntN(7)
		if rng.IntN(4) == 0 {
			g = 0
		}
		if kind == KindPrices {
			p := &Price{Administration: "500", PriceList: txt(), Currency: "EUR", ItemCode: "A" + string(rune('a'+i%26)), Customer: txt(),
				Unit: txt(), BasePrice: dec(), ValidFrom: "2026-01-01"}
			for range g {
				b := Break{MinQuantity: dec(), DiscountType: DiscountPercentage, Value: dec()}
				if rng.IntN(2) == 0 {
					v := dec()
					b.NetPrice = &v
				}
				p.Breaks = append(p.Breaks, b)
			}
			out = append(out, p)
		} else {
			c := &Customer{Administration: "500", DebtorCode: txt(), Name: txt(), Blocked: rng.IntN(2) == 0, PriceList: txt()}
			for range g {
				c.Addresses = append(c.Addresses, Address{Type: "invoice", Line1: txt(), Line2: txt(), Postcode: txt(), City: txt(), Country: "NL"})
			}
			out = append(out, c)
		}
	}
	return out
}

// The one-pass CSV of a trailing group is byte for byte the CSV of a
// CSVWriter given the learned columns, empty feeds included.
func TestTrailingCSVMatchesCSVWriter(t *testing.T) {
	for _, kind := range []Kind{KindPrices, KindCustomers} {
		for _, n := range []int{0, 1, 300} {
			recs := randomTrailing(kind, n, uint64(n)+1)
			got, want := trailingAndWriter(t, kind, recs)
			if string(got) != string(want) {
				t.Fatalf("%s, %d records:\n got %q\nwant %q", kind, n, got, want)
			}
			tc, err := NewTrailingCSV(kind, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			var cols Columns
			for _, r := range recs {
				cols.Learn(r)
				tc.Write(r)
			}
			if c := tc.Columns(); c.Breaks != cols.Breaks || c.Addresses != cols.Addresses {
				t.Errorf("%s: columns %+v, learned %+v", kind, tc.Columns(), cols)
			}
			tc.Remove()
		}
	}
	if _, err := NewTrailingCSV(KindStock, t.TempDir()); err == nil {
		t.Error("a stock CSV has no trailing group")
	}
	tc, _ := NewTrailingCSV(KindPrices, t.TempDir())
	defer tc.Remove()
	if err := tc.Write(&Customer{}); err == nil {
		t.Error("a customer was written to a prices CSV")
	}
}
