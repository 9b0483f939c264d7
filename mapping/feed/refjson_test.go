package feed

import (
	"encoding/json"
	"reflect"
	"testing"

	"globex/internal/decimal"
)

// stockRef is Stock with its warehouses as a map: encoding/json of it is the
// reference for the stock encoders, independent of StockWarehouses'
// own MarshalJSON (which shares their code).
type stockRef struct {
	Administration string                    `json:"administration"`
	ItemCode       string                    `json:"item_code"`
	OnHand         decimal.Dec               `json:"on_hand"`
	Reserved       decimal.Dec               `json:"reserved"`
	Incoming       decimal.Dec               `json:"incoming"`
	Available      *decimal.Dec              `json:"available,omitempty"`
	Availability   string                    `json:"availability"`
	Display        string                    `json:"display,omitempty"`
	ExpectedDate   string                    `json:"expected_date,omitempty"`
	Warehouses     map[string]WarehouseStock `json:"warehouses,omitempty"`
	MeasuredAt     string                    `json:"measured_at,omitempty"`
}

// refJSON is encoding/json of rec, a *Stock's warehouses marshalled as a
// map (the last entry of a code wins, as in a map).
func refJSON(t testing.TB, rec any) []byte {
	t.Helper()
	if s, ok := rec.(*Stock); ok {
		r := stockRef{s.Administration, s.ItemCode, s.OnHand, s.Reserved, s.Incoming, s.Available,
			s.Availability, s.Display, s.ExpectedDate, nil, s.MeasuredAt}
		if s.Warehouses != nil {
			r.Warehouses = map[string]WarehouseStock{}
			for _, w := range s.Warehouses {
				r.Warehouses[w.Code] = w
			}
		}
		rec = r
	}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The reference mirrors Stock field by field, so it cannot drift from it.
func TestStockRefMirrorsStock(t *testing.T) {
	st, rt := reflect.TypeFor[Stock](), reflect.TypeFor[stockRef]()
	n := 0
	for i := range st.NumField() {
		f := st.Field(i)
		if !f.IsExported() {
			continue
		}
		if n >= rt.NumField() {
			t.Fatalf("stockRef lacks %s", f.Name)
		}
		g := rt.Field(n)
		n++
		if f.Name != g.Name || f.Tag != g.Tag || f.Type != g.Type && f.Name != "Warehouses" {
			t.Errorf("Stock.%s %s %s, stockRef.%s %s %s", f.Name, f.Type, f.Tag, g.Name, g.Type, g.Tag)
		}
	}
	if n != rt.NumField() {
		t.Errorf("stockRef has %d fields, Stock %d exported", rt.NumField(), n)
	}
}

// StockWarehouses read and write the object a map would, in any order of
// entries, repeated codes included (the last wins); Get and Set agree.
func TestStockWarehousesJSON(t *testing.T) {
	d := func(s string) decimal.Dec { return decimal.MustParse(s) }
	for _, ws := range []StockWarehouses{
		nil,
		{},
		{{Code: "1", OnHand: d("1")}},
		{{Code: "2", OnHand: d("2")}, {Code: "1", OnHand: d("1")}, {Code: "10", OnHand: d("10")}},
		{{Code: "1", OnHand: d("1")}, {Code: "2"}, {Code: "1", OnHand: d("3")}},
		{{Code: `"<&>`, OnHand: d("1")}, {Code: "", OnHand: d("-0.5")}},
	} {
		rec := &Stock{Administration: "500", ItemCode: "A", Warehouses: ws}
		want := refJSON(t, rec)
		if got := rec.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("%v:\n got %s\nwant %s", ws, got, want)
		}
		if got, _ := json.Marshal(rec); string(got) != string(want) {
			t.Errorf("%v: encoding/json\n got %s\nwant %s", ws, got, want)
		}
		var back Stock
		if err := json.Unmarshal(want, &back); err != nil {
			t.Fatal(err)
		}
		if !back.Warehouses.ordered() {
			t.Errorf("%v: decoded out of order: %v", ws, back.Warehouses.codes())
		}
		if got := back.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("%v: round trip\n got %s\nwant %s", ws, got, want)
		}
		var set StockWarehouses
		for _, w := range ws {
			set.Set(w)
		}
		if !set.ordered() || len(set) != len(back.Warehouses) {
			t.Errorf("%v: Set gave %v", ws, set.codes())
		}
		for _, w := range back.Warehouses {
			g1, ok1 := ws.Get(w.Code)
			g2, ok2 := set.Get(w.Code)
			if !ok1 || !ok2 || g1.OnHand != w.OnHand || g2.OnHand != w.OnHand {
				t.Errorf("%v: Get(%q) = %v %v, %v %v; want %v", ws, w.Code, g1.OnHand, ok1, g2.OnHand, ok2, w.OnHand)
			}
		}
	}
}
