package feed

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// refDecode is encoding/json's reading of a stock line, through stockRef
// (warehouses as a map), independent of the fast decoder that
// StockWarehouses.UnmarshalJSON also uses.
func refDecode(line []byte) (*Stock, error) {
	var r stockRef
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, err
	}
	s := &Stock{Administration: r.Administration, ItemCode: r.ItemCode, OnHand: r.OnHand, Reserved: r.Reserved,
		Incoming: r.Incoming, Available: r.Available, Availability: r.Availability, Display: r.Display,
		ExpectedDate: r.ExpectedDate, MeasuredAt: r.MeasuredAt}
	if r.Warehouses != nil {
		s.Warehouses = StockWarehouses{}
		for code, w := range r.Warehouses {
			w.Code = code
			s.Warehouses = append(s.Warehouses, w)
		}
		slices.SortFunc(s.Warehouses, func(a, b WarehouseStock) int { return strings.Compare(a.Code, b.Code) })
	}
	return s, nil
}

// checkDecode: when the fast decoder takes a line, encoding/json takes it
// too and makes the same record.
func checkDecode(t *testing.T, d *stockDecoder, line []byte) bool {
	t.Helper()
	var got Stock
	if !d.decode(line, &got) {
		return false
	}
	want, err := refDecode(line)
	if err != nil {
		t.Fatalf("the fast decoder took a line encoding/json refuses (%v): %s", err, line)
	}
	if !reflect.DeepEqual(&got, want) {
		t.Fatalf("line %s\n fast %+v\n json %+v", line, got, *want)
	}
	return true
}

// The fast decoder reads what AppendJSON writes exactly as encoding/json
// does, for random records of every display mode with odd codes and
// values; lines it declines (escapes) are few.
func TestStockDecoderMatchesEncodingJSON(t *testing.T) {
	for si, whs := range [][]string{{"1", "2"}, {"A"}, {"w1", "w2", "w3", "w4", "w5"}, nil, {"", "é", "Z"}} {
		for _, display := range []string{"", "capped", "class"} {
			g := newStockGen(uint64(77 + si))
			g.display, g.varied, g.whs = display, true, whs
			var d stockDecoder
			fast := 0
			for i := range 500 {
				line := g.fill(i).AppendJSON(nil)
				if checkDecode(t, &d, line) {
					fast++
				}
			}
			if fast < 400 {
				t.Errorf("warehouses %q display %q: only %d of 500 lines decoded fast", whs, display, fast)
			}
		}
	}
}

// Damaged lines: whatever the fast decoder takes, encoding/json reads the
// same way; anything else is left to encoding/json.
func TestStockDecoderDamagedLines(t *testing.T) {
	g := newStockGen(5)
	g.varied = true
	rng := rand.New(rand.NewPCG(7, 8))
	var d stockDecoder
	edits := []string{" ", "\\", "\"", ",", "}", "{", "0", ".", "-", "\xff", "é", "\x01", ":"}
	taken := 0
	for i := range 3000 {
		line := damage(rng, g.fill(i).AppendJSON(nil), edits)
		if checkDecode(t, &d, line) {
			taken++
		}
	}
	t.Logf("%d of 3000 damaged lines decoded fast (and as encoding/json does)", taken)
}

// damage makes one random edit of line (not empty): one of edits inserted,
// a byte deleted, or a byte replaced by an edit's first.
func damage(rng *rand.Rand, line []byte, edits []string) []byte {
	pos := rng.IntN(len(line))
	switch rng.IntN(3) {
	case 0:
		line = slices.Insert(line, pos, []byte(edits[rng.IntN(len(edits))])...)
	case 1:
		line = slices.Delete(line, pos, pos+1)
	default:
		line[pos] = edits[rng.IntN(len(edits))][0]
	}
	return line
}

func FuzzStockDecoder(f *testing.F) {
	g := newStockGen(9)
	g.varied = true
	for i := range 20 {
		f.Add(g.fill(i).AppendJSON(nil))
	}
	f.Add([]byte(`{"administration":"500","item_code":"A","on_hand":"1","reserved":"0","incoming":"0","availability":"in_stock","warehouses":{"1":{"on_hand":"1","reserved":"0","incoming":"0"}}}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		var d stockDecoder
		checkDecode(t, &d, line)
		// and StockWarehouses alone
		var dw stockDecoder
		dw.reset(line)
		if s, ok := dw.warehouses(); ok && dw.i == len(line) {
			var m map[string]WarehouseStock
			if err := json.Unmarshal(line, &m); err != nil || len(m) != len(s) {
				t.Fatalf("warehouses %s: fast %v, encoding/json %v %v", line, s, m, err)
			}
			for _, w := range s {
				o, ok := m[w.Code]
				o.Code = w.Code
				if !ok || !reflect.DeepEqual(o, w) {
					t.Fatalf("warehouses %s: %q fast %+v json %+v", line, w.Code, w, o)
				}
			}
		}
	})
}
