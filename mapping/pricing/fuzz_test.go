package pricing

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"globex/internal/decimal"
	"globex/mapping/globe"
)

// FuzzMapLine builds a line from fuzzed numbers and codes: Map never
// panics, and what it computes obeys the discount type.
func FuzzMapLine(f *testing.F) {
	f.Add("0.45", "1", "5", "100", "P", 1, "1.80")
	f.Add("1.95", "1", "0.15", "100", "B", 1, "")
	f.Add("45.00", "100", "41.50", "1", "N", 1, "0.21")
	f.Add("24.50", "10", "35", "1", "M", 1, "1.80")
	f.Add("0", "1", "7.5", "3", "P", 2, "")
	f.Add("999999999999999999", "-1", "-200", "0", "m", 0, "99999999999.999999")
	f.Fuzz(func(t *testing.T, base, factor, v, q, typ string, lineType int, cost string) {
		p := &globe.ItemPrice{Line: 1, ItemCode: "A", PriceList: "L", LineType: lineType, DiscountType: typ}
		if lineType == 2 {
			p.GroupNumber = "30"
		}
		var err error
		if p.Value, err = decimal.Parse(base); err == nil {
			p.HasValue = true
		}
		if p.Factor, err = decimal.Parse(factor); err == nil {
			p.HasFactor = true
		}
		bv, err1 := decimal.Parse(v)
		bq, err2 := decimal.Parse(q)
		if err1 == nil && err2 == nil {
			p.Breaks = []globe.Break{{Number: 1, Quantity: bq, Value: bv}}
		}
		opt := &Options{}
		if c, err := decimal.Parse(cost); err == nil {
			opt.Cost = func(string) (decimal.Dec, bool) { return c, true }
		}
		rec, _, err := Map(p, opt)
		if err != nil || rec == nil {
			return
		}
		for _, b := range rec.Breaks {
			if b.NetPrice == nil {
				continue
			}
			if b.NetPrice.Sign() < 0 {
				t.Fatalf("negative net price %s", b.NetPrice)
			}
			if b.NetPrice.Scale() > Places && b.DiscountType != "net_price" && b.DiscountType != "amount" {
				t.Fatalf("%s net price %s has more than %d decimals", b.DiscountType, b.NetPrice, Places)
			}
			switch b.DiscountType {
			case "net_price":
				if !b.NetPrice.Equal(b.Value) {
					t.Fatalf("net price %s differs from value %s", b.NetPrice, b.Value)
				}
			case "percentage":
				if b.Value.Sign() >= 0 && b.NetPrice.Cmp(rec.BasePrice) > 0 {
					t.Fatalf("%s%% off %s gives more: %s", b.Value, rec.BasePrice, b.NetPrice)
				}
			}
		}
	})
}

// FuzzMapExport reads fuzzed ItemPrices exports and maps every line:
// nothing panics.
func FuzzMapExport(f *testing.F) {
	for _, p := range []string{
		filepath.Join(repoRoot(), "testdata", "mapping", "itemprices-cases.xml"),
		filepath.Join(repoRoot(), "samples", "exports", "itemprices-500.xml"),
	} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = globe.ReadItemPrices(bytes.NewReader(data), globe.Options{}, func(p *globe.ItemPrice) error {
			_, _, _ = Map(p, nil)
			return nil
		})
	})
}
