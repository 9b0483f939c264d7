package feed

import (
	"globex/internal/decimal"
)

// Reading a stock snapshot back (a second pass over the parts of several
// administrations, the columns of a kept part) decodes a line per record.
// encoding/json takes several microseconds for one; stockDecoder reads
// exactly what Stock.AppendJSON writes, member by member, in a fraction of
// that (strings with jsonLine, escapes read as encoding/json reads them),
// and declines anything else (other order or members, white space, an
// empty omitempty member, invalid UTF-8, surrogate escapes, codes out of
// order), which then goes to encoding/json: the record is always the one
// encoding/json would make (a differential test and a fuzz target hold it
// to that).

// stockDecoder reads one line (see jsonLine); strings that repeat from line
// to line (the administration, the class, the dates, warehouse codes) are
// shared instead of allocated again.
type stockDecoder struct {
	jsonLine
	admin, avail, display, expected, measured, codes strCache
}

// decode fills rec (a fresh record) from line; false when the line is not
// exactly in AppendJSON's form.
func (d *stockDecoder) decode(line []byte, rec *Stock) bool {
	d.reset(line)
	var ok bool
	if !d.lit(`{"administration":`) {
		return false
	}
	if rec.Administration, ok = d.strIn(&d.admin); !ok || !d.lit(`,"item_code":`) {
		return false
	}
	if rec.ItemCode, ok = d.str(); !ok {
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
	if d.lit(`,"available":`) {
		v, ok := d.dec()
		if !ok {
			return false
		}
		rec.Available = &v
	}
	if !d.lit(`,"availability":`) {
		return false
	}
	if rec.Availability, ok = d.strIn(&d.avail); !ok {
		return false
	}
	if !d.optStr(`,"display":`, &d.display, &rec.Display) || !d.optStr(`,"expected_date":`, &d.expected, &rec.ExpectedDate) {
		return false
	}
	if d.lit(`,"warehouses":`) {
		if rec.Warehouses, ok = d.warehouses(); !ok {
			return false
		}
	}
	if !d.optStr(`,"measured_at":`, &d.measured, &rec.MeasuredAt) {
		return false
	}
	return d.end()
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
		code, ok := d.strIn(&d.codes)
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
		if d.lit(`,"available":`) {
			v, ok := d.dec()
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

// decMember reads name (`,"x":`) and a decimal in quotes, as
// decimal.Dec.UnmarshalJSON reads it.
func (d *stockDecoder) decMember(name string) (decimal.Dec, bool) {
	if !d.lit(name) {
		return decimal.Dec{}, false
	}
	return d.dec()
}
