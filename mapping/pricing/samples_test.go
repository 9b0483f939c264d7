package pricing

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"globex/internal/decimal"
	"globex/internal/testutil"
	"globex/mapping/globe"
)

var update = flag.Bool("update", false, "rewrite the golden feed files in testdata/mapping/golden")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testutil.Golden(t, filepath.Join(repoRoot(), "testdata", "mapping", "golden", name), got, *update)
}

// itemLookups builds the Cost, BasePrice and GroupCode lookups from an
// Items export, the way an exchange wires them.
func itemLookups(t *testing.T, path string) *Options {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cost, sales, groups := map[string]decimal.Dec{}, map[string]decimal.Dec{}, map[string]string{}
	err = globe.ReadItems(f, globe.Options{}, func(it *globe.Item) error {
		if it.HasCostPrice {
			cost[it.Code] = it.CostPrice
		}
		if it.HasSalesPrice {
			sales[it.Code] = it.SalesPrice
		}
		if it.GroupNumber != "" && it.GroupCode != "" {
			groups[it.GroupNumber] = it.GroupCode
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	get := func(m map[string]decimal.Dec) func(string) (decimal.Dec, bool) {
		return func(k string) (decimal.Dec, bool) { d, ok := m[k]; return d, ok }
	}
	return &Options{
		Administration: "500",
		Cost:           get(cost),
		BasePrice:      get(sales),
		GroupCode:      func(n string) (string, bool) { g, ok := groups[n]; return g, ok },
	}
}

// TestSamplePrices maps samples/exports/itemprices-500.xml with lookups
// from items-500.xml: every line maps, with one warning (the percentage on
// the tools group has no single net price).
func TestSamplePrices(t *testing.T) {
	dir := filepath.Join(repoRoot(), "samples", "exports")
	opt := itemLookups(t, filepath.Join(dir, "items-500.xml"))
	lines := readPrices(t, filepath.Join(dir, "itemprices-500.xml"))
	if len(lines) != 7 {
		t.Fatalf("%d lines, want 7", len(lines))
	}
	var out []byte
	var warns []string
	types := map[string]bool{}
	for _, p := range lines {
		rec, w, err := Map(p, opt)
		if err != nil || rec == nil {
			t.Fatalf("line %d: %v", p.Line, err)
		}
		warns = append(warns, w...)
		for _, b := range rec.Breaks {
			types[b.DiscountType] = true
			if b.NetPrice == nil && rec.GroupCode == "" {
				t.Errorf("line %d: break without net price", p.Line)
			}
		}
		out = rec.AppendJSON(out)
		out = append(out, '\n')
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "item group 30") {
		t.Errorf("warnings %q, want one about item group 30", warns)
	}
	if len(types) != 4 {
		t.Errorf("discount types %v, want all four", types)
	}
	if !bytes.Contains(out, []byte(`"group_code":"GEREED"`)) || !bytes.Contains(out, []byte(`"customer":"10002"`)) {
		t.Error("group line or agreement missing")
	}
	golden(t, "prices.jsonl", out)
}
