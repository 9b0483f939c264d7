package pricing

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"globex/internal/decimal"
	"globex/internal/testutil"
	"globex/mapping/feed"
	"globex/mapping/globe"
)

func repoRoot() string { return testutil.RepoRoot() }

func readPrices(t testing.TB, path string) []*globe.ItemPrice {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*globe.ItemPrice
	if err := globe.ReadItemPrices(f, globe.Options{}, func(p *globe.ItemPrice) error {
		out = append(out, p.Clone())
		return nil
	}); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

// cases reads testdata/mapping/itemprices-cases.xml keyed by price list.
func cases(t testing.TB) map[string]*globe.ItemPrice {
	m := map[string]*globe.ItemPrice{}
	for _, p := range readPrices(t, filepath.Join(repoRoot(), "testdata", "mapping", "itemprices-cases.xml")) {
		m[p.PriceList] = p
	}
	return m
}

func lookup(m map[string]string) func(string) (decimal.Dec, bool) {
	return func(k string) (decimal.Dec, bool) {
		s, ok := m[k]
		if !ok {
			return decimal.Dec{}, false
		}
		return decimal.MustParse(s), true
	}
}

// brk is a break as strings: min quantity, value, net price ("" for nil).
type brk struct{ q, v, net string }

func TestMap(t *testing.T) {
	lines := cases(t)
	cost := lookup(map[string]string{"ART-M": "1.80"})
	sales := lookup(map[string]string{"ART-NOVAL": "2.00"})
	groups := func(n string) (string, bool) {
		if n == "30" {
			return "TOOLS", true
		}
		return "", false
	}
	tests := []struct {
		list  string
		opt   *Options
		check func(*feed.Price) string // extra checks; "" when fine
		typ   string
		brks  []brk
		warns []string // substrings, one per warning, in order
	}{
		{list: "PCT", opt: &Options{Administration: "500"}, typ: "percentage",
			brks: []brk{{"1", "0", "0.45"}, {"100", "5", "0.4275"}, {"500", "12.5", "0.3938"}, {"1000", "33.333", "0.30"}},
			check: func(p *feed.Price) string {
				if p.Administration != "500" || p.ItemCode != "ART-P" || p.GroupCode != "" || p.Customer != "" || p.Currency != "EUR" ||
					p.Unit != "pcs" || p.Factor == nil || p.Factor.String() != "1" || p.BasePrice.String() != "0.45" ||
					p.ValidFrom != "2024-01-01" || p.ValidTo != "2024-12-31" {
					return "header"
				}
				return ""
			}},
		{list: "PCT10", typ: "percentage",
			brks:  []brk{{"1", "10", "9.00"}, {"5", "120", ""}},
			warns: []string{"line 18 (item ART-P2, price list PCT10): break 2: percentage 120 gives a negative net price"},
			check: func(p *feed.Price) string {
				if p.Currency != "EUR" || p.ValidFrom != "" || p.ValidTo != "" {
					return "default currency, no dates"
				}
				return ""
			}},
		{list: "PCT10", opt: &Options{Currency: "GBP"}, typ: "percentage",
			brks:  []brk{{"1", "10", "9.00"}, {"5", "120", ""}},
			warns: []string{"negative net price"},
			check: func(p *feed.Price) string {
				if p.Currency != "GBP" {
					return "Options.Currency"
				}
				return ""
			}},
		{list: "AMT", typ: "amount",
			brks:  []brk{{"1", "0", "1.95"}, {"100", "0.15", "1.80"}, {"200", "2.50", ""}},
			warns: []string{"break 3: amount 2.50 gives a negative net price"}},
		{list: "NET", typ: "net_price",
			brks: []brk{{"1", "38.50", "38.50"}, {"10", "36.00", "36.00"}},
			check: func(p *feed.Price) string {
				if p.Customer != "10001" || p.Currency != "USD" || p.Unit != "box" || p.Factor.String() != "100" {
					return "agreement header"
				}
				return ""
			}},
		{list: "MKP", opt: &Options{Cost: cost}, typ: "markup",
			brks: []brk{{"1", "35", "24.30"}, {"10", "12.5", "20.25"}}},
		{list: "MKP", typ: "markup",
			brks:  []brk{{"1", "35", ""}, {"10", "12.5", ""}},
			warns: []string{"markup without a cost price lookup: net_price left empty"}},
		{list: "MKP", opt: &Options{Cost: lookup(nil)}, typ: "markup",
			brks:  []brk{{"1", "35", ""}, {"10", "12.5", ""}},
			warns: []string{"markup but the cost price of item ART-M is unknown: net_price left empty"}},
		{list: "GRP", opt: &Options{GroupCode: groups, Cost: cost}, typ: "percentage",
			brks:  []brk{{"3", "7.5", ""}},
			warns: []string{"item-group line: percentage applies to each item's own price"},
			check: func(p *feed.Price) string {
				if p.ItemCode != "" || p.GroupCode != "TOOLS" || p.Customer != "" {
					return "group line header"
				}
				return ""
			}},
		{list: "GRP", typ: "percentage",
			brks:  []brk{{"3", "7.5", ""}},
			warns: []string{"no assortment lookup configured; group_code is the assortment number 30", "(item group 30, price list GRP): item-group line"},
			check: func(p *feed.Price) string {
				if p.GroupCode != "30" {
					return "group number"
				}
				return ""
			}},
		{list: "GRPN", opt: &Options{GroupCode: groups}, typ: "net_price",
			brks:  []brk{{"1", "2.25", "2.25"}},
			warns: []string{"assortment number 40 has no code in the items export; group_code is the number"},
			check: func(p *feed.Price) string {
				if p.GroupCode != "40" || p.Customer != "10002" || p.ItemCode != "" {
					return "group agreement header"
				}
				return ""
			}},
		{list: "NOVAL", opt: &Options{BasePrice: sales}, typ: "percentage",
			brks:  []brk{{"1", "10", "21.60"}},
			warns: []string{"no Value on the line; base_price is the item's sales price 2.00 × factor 12"},
			check: func(p *feed.Price) string {
				if p.BasePrice.String() != "24.00" {
					return "base price from the items export × factor"
				}
				return ""
			}},
		{list: "NOVAL", typ: "percentage",
			brks:  []brk{{"1", "10", ""}},
			warns: []string{"no sales price known; base_price is 0", "percentage breaks without a base price: net_price left empty"}},
		{list: "PLAIN",
			check: func(p *feed.Price) string {
				if p.Factor != nil || p.Breaks != nil || p.BasePrice.String() != "4.95" {
					return "plain line"
				}
				return ""
			}},
		{list: "ORDER", typ: "net_price",
			brks:  []brk{{"10", "4", "4"}, {"10", "3", "3"}},
			warns: []string{"valid_to 2025-01-01 is before valid_from 2025-06-01", "break 2: quantity 10 does not rise above 10"}},
	}
	for _, tt := range tests {
		name := tt.list
		p, ok := lines[tt.list]
		if !ok {
			t.Fatalf("fixture has no price list %s", tt.list)
		}
		rec, warns, err := Map(p, tt.opt)
		if err != nil || rec == nil {
			t.Errorf("%s: %v (record %v)", name, err, rec)
			continue
		}
		if len(warns) != len(tt.warns) {
			t.Errorf("%s: warnings %q, want %d like %q", name, warns, len(tt.warns), tt.warns)
		} else {
			for i, w := range tt.warns {
				if !strings.Contains(warns[i], w) {
					t.Errorf("%s: warning %q, want one containing %q", name, warns[i], w)
				}
			}
		}
		if tt.check != nil {
			if what := tt.check(rec); what != "" {
				t.Errorf("%s: %s wrong: %s", name, what, rec.AppendJSON(nil))
			}
		}
		if len(rec.Breaks) != len(tt.brks) {
			t.Errorf("%s: %d breaks, want %d", name, len(rec.Breaks), len(tt.brks))
			continue
		}
		for i, b := range rec.Breaks {
			w := tt.brks[i]
			net := ""
			if b.NetPrice != nil {
				net = b.NetPrice.String()
			}
			if b.DiscountType != tt.typ || b.MinQuantity.String() != w.q || b.Value.String() != w.v || net != w.net {
				t.Errorf("%s break %d: %s %s %s net %q, want %s %s %s net %q", name, i+1,
					b.DiscountType, b.MinQuantity, b.Value, net, tt.typ, w.q, w.v, w.net)
			}
		}
	}
}

func TestLeftOutAndErrors(t *testing.T) {
	lines := cases(t)
	rec, warns, err := Map(lines["BUY"], nil)
	if rec != nil || err != nil || len(warns) != 1 || !strings.Contains(warns[0], "purchase price list left out") {
		t.Errorf("BUY: %v %q %v", rec, warns, err)
	}
	tests := []struct{ list, want string }{
		{"BADTYPE", `line 85 (item ART-X, price list BADTYPE): unknown Discounts@type "X" (want P, B, N or M)`},
		{"NOTYPE", "quantity breaks without a Discounts@type"},
		{"LINE3", "unknown LineType 3 (want 1 item or 2 item group)"},
		{"NOITEM", "line 102: no item code"},
		{"NOGROUP", "item-group line (LineType 2) without an assortment number"},
	}
	for _, tt := range tests {
		rec, _, err := Map(lines[tt.list], nil)
		if rec != nil || err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v %v, want error containing %q", tt.list, rec, err, tt.want)
		}
	}
	// No price list at all.
	if _, _, err := Map(&globe.ItemPrice{Line: 3, ItemCode: "A"}, nil); err == nil || !strings.Contains(err.Error(), "no price list code") {
		t.Errorf("no price list: %v", err)
	}
	// Arithmetic out of range is an error, never a wrong number.
	big := &globe.ItemPrice{ItemCode: "A", PriceList: "L", Value: decimal.MustParse("999999999999999.999"), HasValue: true,
		DiscountType: "P", Breaks: []globe.Break{{Number: 1, Quantity: decimal.FromInt(1), Value: decimal.MustParse("0.001")}}}
	if _, _, err := Map(big, nil); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("overflow: %v", err)
	}
}

func TestPercentOfRounding(t *testing.T) {
	tests := []struct {
		x, v string
		sign int
		want string
	}{
		{"0.45", "5", -1, "0.4275"},
		{"0.45", "12.5", -1, "0.3938"},    // 0.39375 half away from zero
		{"-0.45", "12.5", -1, "-0.3938"},  // and below zero
		{"10.00", "10", -1, "9.00"},       // never fewer decimals than the base
		{"10", "10", -1, "9"},             // nor more than needed
		{"3.3333", "0", -1, "3.3333"},     // exact kept
		{"1.23456", "0", -1, "1.2346"},    // base beyond 4 decimals rounds
		{"18.00", "35", +1, "24.30"},      // markup
		{"0.07", "33.3333", +1, "0.0933"}, // 0.093333331
		{"100", "0.00005", -1, "100"},     // 99.99995 rounds up to 100.0000, shown as 100
	}
	for _, tt := range tests {
		got, err := percentOf(decimal.MustParse(tt.x), decimal.MustParse(tt.v), tt.sign)
		want := tt.want
		if err != nil || got.String() != want {
			t.Errorf("percentOf(%s, %s, %d) = %s, %v; want %s", tt.x, tt.v, tt.sign, got, err, want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []string{"", "EUR", "USD"} {
		if err := (&Options{Currency: c}).Validate(); err != nil {
			t.Errorf("%q: %v", c, err)
		}
	}
	for _, c := range []string{"eur", "EURO", " EU"} {
		if err := (&Options{Currency: c}).Validate(); err == nil {
			t.Errorf("%q accepted", c)
		}
	}
}

// The record shares nothing with the reader's reused line.
func TestNoAliasing(t *testing.T) {
	p := cases(t)["PCT"]
	rec, _, _ := Map(p, nil)
	before := string(rec.AppendJSON(nil))
	p.Breaks[0].Value = decimal.FromInt(99)
	p.Factor = decimal.FromInt(7)
	if after := string(rec.AppendJSON(nil)); after != before {
		t.Errorf("record changed with its source:\n%s\n%s", before, after)
	}
}
