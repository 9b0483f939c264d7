package feed

import (
	"bytes"
	"unicode/utf8"

	"globex/internal/decimal"
)

// Reading a stock snapshot back (a second pass over the parts of several
// administrations, the columns of a kept part) decodes a line per record.
// encoding/json takes several microseconds for one; decodeStockLine reads
// exactly what Stock.AppendJSON writes, member by member, in a fraction of
// that, and declines anything else (escapes, other order or members, white
// space, invalid UTF-8, codes out of order), which then goes to
// encoding/json: the record is always the one encoding/json would make
// (a differential test and a fuzz target hold it to that).

// stockDecoder reads one line; strings that repeat from line to line (the
// administration, the class, the measuring time, warehouse codes) are
// shared instead of allocated again.
type stockDecoder struct {
	b    []byte
	i    int
	last [6]string // recent strings, reused when equal
	next int
}

// decode fills rec (a fresh record) from line; false when the line is not
// exactly in AppendJSON's form.
func (d *stockDecoder) decode(line []byte, rec *Stock) bool {
	d.b, d.i = line, 0
	var ok bool
	if !d.lit(`{"administration":`) {
		return false
	}
	if rec.Administration, ok = d.str(true); !ok || !d.lit(`,"item_code":`) {
		return false
	}
	if rec.ItemCode, ok = d.str(false); !ok {
		return false
	}
	if rec.OnHand, ok = d.decMember(`,"on_hand":`); !ok {
		return false
	}
	if rec.Reserved, ok = d.decMember(`,"reserved":`); !ok {
		return false
	}
	if rec.Incoming, ok = d.decMember(`,"incoming":`); !ok {
		return false
	}
	if d.peek(`,"available":`) {
		v, ok := d.decMember(`,"available":`)
		if !ok {
			return false
		}
		rec.Available = &v
	}
	if !d.lit(`,"availability":`) {
		return false
	}
	if rec.Availability, ok = d.str(true); !ok {
		return false
	}
	if d.peek(`,"display":`) {
		d.i += len(`,"display":`)
		if rec.Display, ok = d.str(true); !ok {
			return false
		}
	}
	if d.peek(`,"expected_date":`) {
		d.i += len(`,"expected_date":`)
		if rec.ExpectedDate, ok = d.str(true); !ok {
			return false
		}
	}
	if d.peek(`,"warehouses":`) {
		d.i += len(`,"warehouses":`)
		if rec.Warehouses, ok = d.warehouses(); !ok {
			return false
		}
	}
	if d.peek(`,"measured_at":`) {
		d.i += len(`,"measured_at":`)
		if rec.MeasuredAt, ok = d.str(true); !ok {
			return false
		}
	}
	return d.lit(`}`) && d.i == len(d.b)
}

// warehouses reads the warehouses object: at least one warehouse (an empty
// object is left out by AppendJSON), codes strictly ascending. It need not
// end the input.
func (d *stockDecoder) warehouses() (StockWarehouses, bool) {
	if !d.lit(`{`) {
		return nil, false
	}
	var ws StockWarehouses
	for {
		code, ok := d.str(true)
		if !ok || len(ws) > 0 && ws[len(ws)-1].Code >= code {
			return nil, false
		}
		w := WarehouseStock{Code: code}
		if w.OnHand, ok = d.decMember(`:{"on_hand":`); !ok {
			return nil, false
		}
		if w.Reserved, ok = d.decMember(`,"reserved":`); !ok {
			return nil, false
		}
		if w.Incoming, ok = d.decMember(`,"incoming":`); !ok {
			return nil, false
		}
		if d.peek(`,"available":`) {
			v, ok := d.decMember(`,"available":`)
			if !ok {
				return nil, false
			}
			w.Available = &v
		}
		if !d.lit(`}`) {
			return nil, false
		}
		ws = append(ws, w)
		if d.lit(`}`) {
			return ws, true
		}
		if !d.lit(`,`) {
			return nil, false
		}
	}
}

func (d *stockDecoder) peek(s string) bool {
	return len(d.b)-d.i >= len(s) && string(d.b[d.i:d.i+len(s)]) == s
}

func (d *stockDecoder) lit(s string) bool {
	if !d.peek(s) {
		return false
	}
	d.i += len(s)
	return true
}

// raw reads a JSON string without escapes or control characters and
// returns its bytes.
func (d *stockDecoder) raw() ([]byte, bool) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return nil, false
	}
	rest := d.b[d.i+1:]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return nil, false
	}
	s := rest[:j]
	ascii := true
	for _, c := range s {
		if c < 0x20 || c == '\\' {
			return nil, false
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	if !ascii && !utf8.Valid(s) { // encoding/json would replace bytes
		return nil, false
	}
	d.i += j + 2
	return s, true
}

// str reads a string; shared: look among the recent strings first.
func (d *stockDecoder) str(shared bool) (string, bool) {
	s, ok := d.raw()
	if !ok {
		return "", false
	}
	if !shared {
		return string(s), true
	}
	for _, l := range d.last {
		if l == string(s) {
			return l, true
		}
	}
	v := string(s)
	d.last[d.next] = v
	d.next = (d.next + 1) % len(d.last)
	return v, true
}

// decMember reads name (`,"x":`) and a decimal in quotes, as
// decimal.Dec.UnmarshalJSON reads it.
func (d *stockDecoder) decMember(name string) (decimal.Dec, bool) {
	if !d.lit(name) {
		return decimal.Dec{}, false
	}
	s, ok := d.raw()
	if !ok {
		return decimal.Dec{}, false
	}
	v, err := decimal.Parse(string(s))
	return v, err == nil
}
