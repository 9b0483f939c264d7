package feed

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// StockWarehouses are the per-warehouse figures of a stock record, one
// entry per warehouse code, in code order (byte-wise: the order in which
// encoding/json writes the keys of a map). In JSON they are an object keyed
// by warehouse code, exactly as a map[string]WarehouseStock would be.
//
// A slice rather than a map: a stock feed has a million records and more,
// each with a few warehouses, and the encoders walk them in order (JSON
// object, CSV columns) without hashing a code. Producers should append in
// code order (Set keeps it); the encoders check it and sort a copy when a
// record is out of order, the last entry of a code winning as in a map.
type StockWarehouses []WarehouseStock

// Get returns the figures of warehouse code.
func (ws StockWarehouses) Get(code string) (WarehouseStock, bool) {
	for i := len(ws) - 1; i >= 0; i-- { // the last of a code wins
		if ws[i].Code == code {
			return ws[i], true
		}
	}
	return WarehouseStock{}, false
}

// Set gives w.Code the figures w, keeping code order.
func (ws *StockWarehouses) Set(w WarehouseStock) {
	s := ws.inOrder()
	i, found := slices.BinarySearchFunc(s, w.Code, func(x WarehouseStock, c string) int { return strings.Compare(x.Code, c) })
	if found {
		s[i] = w
	} else {
		s = slices.Insert(s, i, w)
	}
	*ws = s
}

// ordered reports whether the codes are strictly ascending.
func (ws StockWarehouses) ordered() bool {
	for i := 1; i < len(ws); i++ {
		if ws[i-1].Code >= ws[i].Code {
			return false
		}
	}
	return true
}

// inOrder returns ws in code order without repeated codes: ws itself when
// it already is (the common case, no allocation), a sorted copy otherwise.
func (ws StockWarehouses) inOrder() StockWarehouses {
	if ws.ordered() {
		return ws
	}
	s := slices.Clone(ws)
	slices.SortStableFunc(s, func(x, y WarehouseStock) int { return strings.Compare(x.Code, y.Code) })
	// keep the last of each code (a map's last assignment)
	out := s[:0]
	for i := range s {
		if i+1 < len(s) && s[i+1].Code == s[i].Code {
			continue
		}
		out = append(out, s[i])
	}
	return out
}

// codes returns the warehouse codes, for messages.
func (ws StockWarehouses) codes() []string {
	c := make([]string, len(ws))
	for i := range ws {
		c[i] = ws[i].Code
	}
	return c
}

// MarshalJSON writes the object keyed by warehouse code (null for nil, as
// for a nil map).
func (ws StockWarehouses) MarshalJSON() ([]byte, error) {
	if ws == nil {
		return []byte("null"), nil
	}
	return appendWarehouses(nil, ws, nil), nil
}

// UnmarshalJSON reads an object keyed by warehouse code.
func (ws *StockWarehouses) UnmarshalJSON(b []byte) error {
	// the form AppendJSON writes, read without a map
	var d stockDecoder
	d.reset(b)
	if s, ok := d.warehouses(); ok && d.i == len(b) {
		*ws = s
		return nil
	}
	var m map[string]WarehouseStock
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if m == nil {
		*ws = nil
		return nil
	}
	s := make(StockWarehouses, 0, len(m))
	for code, w := range m {
		w.Code = code
		s = append(s, w)
	}
	slices.SortFunc(s, func(x, y WarehouseStock) int { return strings.Compare(x.Code, y.Code) })
	*ws = s
	return nil
}

// appendWarehouses appends the JSON object of ws (a non-nil memo keeps the
// figures' text, see figMemo).
func appendWarehouses(b []byte, ws StockWarehouses, memo *figMemo) []byte {
	b = append(b, '{')
	for i, w := range ws.inOrder() {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, w.Code)
		b = append(b, ':')
		b = w.appendJSON(b, memo)
	}
	return append(b, '}')
}

// unknownWarehouse is the error of a record with a warehouse that has no
// column in cols.
func unknownWarehouse(ws StockWarehouses, cols []string) error {
	for _, w := range ws.inOrder() {
		if !slices.Contains(cols, w.Code) {
			return fmt.Errorf("%w: warehouse %q has no column (columns: %q)", ErrUnknownColumn, w.Code, cols)
		}
	}
	return ErrUnknownColumn
}
