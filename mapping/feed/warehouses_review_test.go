package feed

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"globex/internal/decimal"
)

// mapCSV is the CSV row of rec as cells made it when the warehouses were a
// map (a lookup per column), independent of StockWarehouses.
func mapCSV(rec *Stock, cols *Columns) (string, error) {
	m := map[string]WarehouseStock{}
	for _, w := range rec.Warehouses {
		m[w.Code] = w
	}
	var r refRow
	r.str(rec.Administration)
	r.str(rec.ItemCode)
	r.dec(rec.OnHand)
	r.dec(rec.Reserved)
	r.dec(rec.Incoming)
	r.optDec(rec.Available)
	r.str(rec.Availability)
	r.str(rec.Display)
	r.str(rec.ExpectedDate)
	found := 0
	for _, code := range cols.Warehouses {
		w, ok := m[code]
		if !ok {
			r.str("")
			r.str("")
			r.str("")
			r.str("")
			continue
		}
		found++
		r.dec(w.OnHand)
		r.dec(w.Reserved)
		r.dec(w.Incoming)
		r.optDec(w.Available)
	}
	if found != len(m) {
		return "", ErrUnknownColumn
	}
	r.str(rec.MeasuredAt)
	return string(r.b), nil
}

// Warehouse codes that are empty, repeated, out of order, not UTF-8 (two
// of them escape alike), escaped in JSON, quoted in CSV, or that sort one
// way as bytes and another as runes: every encoder writes what encoding/json
// of a map and a lookup per CSV column write, also for a record changed
// between its JSON and its CSV row.
func TestStockWarehousesOddCodes(t *testing.T) {
	codes := []string{"", "1", "10", "2", "A", "a", "\xff", "\xfe", "\uFFFD", "é", "z", "\u2028", "<b>", "a;b", `"q"`, "x\x00", "Z"}
	rng := rand.New(rand.NewPCG(3, 4))
	var enc JSONChunkEncoder
	for i := range 3000 {
		var cols []string
		for _, c := range codes {
			if rng.IntN(3) != 0 {
				cols = append(cols, c)
			}
		}
		rec := &Stock{Administration: "500", ItemCode: "A", Availability: InStock, OnHand: decimal.New(int64(i), 1)}
		for range rng.IntN(6) {
			c := codes[rng.IntN(len(codes))]
			if rng.IntN(2) == 0 && len(cols) > 0 {
				c = cols[rng.IntN(len(cols))]
			}
			a := decimal.New(int64(rng.IntN(1000)), rng.IntN(3))
			w := WarehouseStock{Code: c, OnHand: decimal.New(int64(rng.IntN(10000)), 2), Incoming: a}
			if rng.IntN(2) == 0 {
				w.Available = &a
			}
			rec.Warehouses = append(rec.Warehouses, w)
		}
		if rng.IntN(3) == 0 { // as the builder makes them
			slices.SortStableFunc(rec.Warehouses, func(x, y WarehouseStock) int {
				return bytes.Compare([]byte(x.Code), []byte(y.Code))
			})
		}
		want := refJSON(t, rec)
		if got := rec.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("%q: AppendJSON\n got %s\nwant %s", rec.Warehouses.codes(), got, want)
		}
		if got, err := json.Marshal(rec); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%q: encoding/json %v\n got %s\nwant %s", rec.Warehouses.codes(), err, got, want)
		}
		if got := enc.Append(nil, rec); !bytes.Equal(got, want) {
			t.Fatalf("%q: JSONChunkEncoder\n got %s\nwant %s", rec.Warehouses.codes(), got, want)
		}
		if i%2 == 1 && len(rec.Warehouses) > 0 { // changed after its JSON
			w := &rec.Warehouses[rng.IntN(len(rec.Warehouses))]
			w.OnHand = decimal.New(w.OnHand.Coef()+1, w.OnHand.Scale())
			if rng.IntN(2) == 0 {
				w.Code = codes[rng.IntN(len(codes))]
			}
		}
		cw := NewCSVWriter(&bytes.Buffer{}, KindStock, Columns{Warehouses: cols})
		cc := cw.NewChunk().(*csvChunk)
		wantCSV, wantErr := mapCSV(rec, &cw.cols)
		err := cc.Add(rec)
		if (err != nil) != (wantErr != nil) || err != nil && !errors.Is(err, ErrUnknownColumn) {
			t.Fatalf("%q columns %q: CSV error %v, want %v", rec.Warehouses.codes(), cw.cols.Warehouses, err, wantErr)
		}
		if err == nil && string(cc.row.b) != wantCSV+"\n" {
			t.Fatalf("%q columns %q: CSV\n got %q\nwant %q", rec.Warehouses.codes(), cw.cols.Warehouses, cc.row.b, wantCSV)
		}
		if got, err := refCSV(rec, &cw.cols); (err != nil) != (wantErr != nil) || err == nil && got != wantCSV {
			t.Fatalf("%q columns %q: cells %q %v, want %q %v", rec.Warehouses.codes(), cw.cols.Warehouses, got, err, wantCSV, wantErr)
		}
		var back Stock
		if err := json.Unmarshal(want, &back); err != nil {
			t.Fatal(err)
		}
		if got := back.AppendJSON(nil); !bytes.Equal(got, refJSON(t, &back)) {
			t.Fatalf("decoded %q: %s", back.Warehouses.codes(), got)
		}
	}
}

// On its own (outside a Stock, whose field omits it when empty), nil
// warehouses are JSON null, as a nil map is.
func TestStockWarehousesNilJSON(t *testing.T) {
	for _, ws := range []StockWarehouses{nil, {}} {
		m := map[string]WarehouseStock(nil)
		if ws != nil {
			m = map[string]WarehouseStock{}
		}
		want, _ := json.Marshal(m)
		if got, err := json.Marshal(ws); err != nil || string(got) != string(want) {
			t.Errorf("%#v: %s %v, want %s", ws, got, err, want)
		}
		type wrap struct{ W StockWarehouses }
		type wrapMap struct{ W map[string]WarehouseStock }
		want, _ = json.Marshal(wrapMap{m})
		if got, _ := json.Marshal(wrap{ws}); string(got) != string(want) {
			t.Errorf("%#v in a struct: %s, want %s", ws, got, want)
		}
	}
}
