package feed

import (
	"encoding/binary"
	"slices"

	"globex/internal/decimal"
)

// The stock feed's fast path. A stock export has a million records and
// more, each encoded twice (a JSONL line and a CSV row) with about a dozen
// decimals. A chunk's JSON encoder (JSONChunkEncoder) formats each figure
// once and leaves its text in the record (figMemo); the CSV row of the same
// record, encoded next, copies it (stockRow). The encoders also remember,
// from one record to the next, the strings that needed no escaping or quoting
// (the administration, the availability class, the measuring time). All of
// it is checked against the record at hand: the bytes are those of
// AppendJSON and the plain CSV writer, whatever the record holds.

// memoFigs bounds a figMemo: the record's four figures and those of two
// warehouses.
const memoFigs = 12

// figMemo is the text of a stock record's figures (decimals) in the order
// its JSON has them, each with the value it was formatted from. The JSON
// encoding of a chunk fills it, and the CSV row of the same record (which
// has the figures in the same order) copies the text of a figure instead of
// formatting it again. A text is used only for a figure whose value is
// still the one remembered, so a record changed in between, or filled anew
// (which clears the memo), is encoded exactly as without it. Texts are kept
// in two words each, as decWords makes them (a figure it does not take is
// not kept).
type figMemo struct {
	n     uint8
	len   [memoFigs]uint8
	scale [memoFigs]uint8
	coef  [memoFigs]int64
	text  [memoFigs][2]uint64
}

// add formats d into b and remembers its text if there is room.
func (m *figMemo) add(b []byte, d decimal.Dec) []byte {
	w0, w1, l, ok := decWords(d)
	if !ok {
		return appendDec(b, d) // not kept
	}
	n := len(b)
	b = slices.Grow(b, 16)
	t := b[n : n+16]
	binary.LittleEndian.PutUint64(t, w0)
	binary.LittleEndian.PutUint64(t[8:], w1)
	if k := m.n; k < memoFigs {
		m.coef[k], m.scale[k], m.len[k] = d.Coef(), uint8(d.Scale()), uint8(l)
		m.text[k] = [2]uint64{w0, w1}
		m.n++
	}
	return b[:n+l]
}

// figCursor walks a figMemo in order, for the CSV row of the record.
type figCursor struct {
	m *figMemo
	k int
}

// appendFigures appends on hand, reserved, incoming and available (empty
// when nil), separated by semicolons.
func (c *figCursor) appendFigures(b []byte, onHand, reserved, incoming decimal.Dec, available *decimal.Dec) []byte {
	b = c.appendDec(b, onHand)
	b = append(b, ';')
	b = c.appendDec(b, reserved)
	b = append(b, ';')
	b = c.appendDec(b, incoming)
	b = append(b, ';')
	if available != nil {
		b = c.appendDec(b, *available)
	}
	return b
}

// appendDec appends d from the memo when its next figure is d, formatting
// it otherwise.
func (c *figCursor) appendDec(b []byte, d decimal.Dec) []byte {
	if m, k := c.m, c.k; k < int(m.n) && m.coef[k] == d.Coef() && int(m.scale[k]) == d.Scale() {
		n := len(b)
		b = slices.Grow(b, 16)
		t := b[n : n+16]
		binary.LittleEndian.PutUint64(t, m.text[k][0])
		binary.LittleEndian.PutUint64(t[8:], m.text[k][1])
		c.k++
		return b[:n+int(m.len[k])]
	}
	return appendDec(b, d)
}

// JSONChunkEncoder writes records as JSON for a chunk (see Chunk): the
// bytes of AppendJSON, faster for a stream of stock records, whose figures'
// text it also leaves in the record for the CSV chunk that encodes the
// record next. The zero value is ready to use; an encoder is used by one
// goroutine at a time.
type JSONChunkEncoder struct {
	plain stockStrings
}

// Append appends rec's JSON to b. For a *Stock it writes scratch data into
// the record: the caller must be the only goroutine using rec.
func (e *JSONChunkEncoder) Append(b []byte, rec Record) []byte {
	if s, ok := rec.(*Stock); ok {
		s.figs.n = 0
		return s.appendJSON(b, e)
	}
	return rec.AppendJSON(b)
}

// stockStrings are the last administration, availability and measuring
// time that an encoder wrote as they are (no escaping or quoting): the same
// string again needs no scan.
type stockStrings struct {
	admin, avail, measured string
}

// appendPlainJSON appends s as a JSON string; *last is a string known to
// need no escaping, and becomes s if s needs none. last may be nil.
func appendPlainJSON(b []byte, s string, last *string) []byte {
	if last == nil {
		return appendJSONString(b, s)
	}
	if s == *last {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	n := len(b)
	b = appendJSONString(b, s)
	if len(b)-n == len(s)+2 { // escaping always lengthens
		*last = s
	}
	return b
}

// appendPlainCSV is AppendCSVField(b, s, ';') with *last a string known to
// need no quoting, which becomes s if s needs none.
func appendPlainCSV(b []byte, s string, last *string) []byte {
	if s == *last {
		return append(b, s...)
	}
	n := len(b)
	b = AppendCSVField(b, s, ';')
	if len(b)-n == len(s) {
		*last = s
	}
	return b
}

// appendJSON is AppendJSON; with an encoder it also fills s.figs and uses
// what the encoder remembers.
func (s *Stock) appendJSON(b []byte, e *JSONChunkEncoder) []byte {
	var memo *figMemo
	var lastAdmin, lastAvail, lastMeasured *string
	if e != nil {
		memo = &s.figs
		lastAdmin, lastAvail, lastMeasured = &e.plain.admin, &e.plain.avail, &e.plain.measured
	}
	b = append(b, `{"administration":`...)
	b = appendPlainJSON(b, s.Administration, lastAdmin)
	b = append(b, `,"item_code":`...)
	b = appendJSONString(b, s.ItemCode)
	b = appendDecMember(b, `,"on_hand":"`, s.OnHand, memo)
	b = appendDecMember(b, `,"reserved":"`, s.Reserved, memo)
	b = appendDecMember(b, `,"incoming":"`, s.Incoming, memo)
	if s.Available != nil {
		b = appendDecMember(b, `,"available":"`, *s.Available, memo)
	}
	b = append(b, `,"availability":`...)
	b = appendPlainJSON(b, s.Availability, lastAvail)
	if s.Display != "" {
		b = append(b, `,"display":`...)
		b = appendJSONString(b, s.Display)
	}
	if s.ExpectedDate != "" {
		b = append(b, `,"expected_date":`...)
		b = appendJSONString(b, s.ExpectedDate)
	}
	if len(s.Warehouses) > 0 {
		b = append(b, `,"warehouses":`...)
		b = appendWarehouses(b, s.Warehouses, memo)
	}
	if s.MeasuredAt != "" {
		b = append(b, `,"measured_at":`...)
		b = appendPlainJSON(b, s.MeasuredAt, lastMeasured)
	}
	return append(b, '}')
}

// appendDecMember appends a decimal member: prefix is `,"name":"`. A
// non-nil memo remembers the text.
func appendDecMember(b []byte, prefix string, d decimal.Dec, memo *figMemo) []byte {
	b = append(b, prefix...)
	if memo != nil {
		b = memo.add(b, d)
	} else {
		b = appendDec(b, d)
	}
	return append(b, '"')
}

func (w *WarehouseStock) appendJSON(b []byte, memo *figMemo) []byte {
	b = appendDecMember(b, `{"on_hand":"`, w.OnHand, memo)
	b = appendDecMember(b, `,"reserved":"`, w.Reserved, memo)
	b = appendDecMember(b, `,"incoming":"`, w.Incoming, memo)
	if w.Available != nil {
		b = appendDecMember(b, `,"available":"`, *w.Available, memo)
	}
	return append(b, '}')
}

// stockRow is the *Stock case of cells for a CSV row, without the
// interface calls per cell (the stock feed has a million rows and more). It
// takes the figures' text from the record's memo where a JSONChunkEncoder
// left it, and knows the plain strings of the rows before (s.plain).
func stockRow(r *Stock, c *Columns, s *csvRow) error {
	figs := figCursor{m: &r.figs}
	ps := &s.plain
	b := s.b
	if s.n > 0 {
		b = append(b, ';')
	}
	b = appendPlainCSV(b, r.Administration, &ps.admin)
	b = append(b, ';')
	b = AppendCSVField(b, r.ItemCode, ';')
	b = append(b, ';')
	b = figs.appendFigures(b, r.OnHand, r.Reserved, r.Incoming, r.Available)
	b = append(b, ';')
	b = appendPlainCSV(b, r.Availability, &ps.avail)
	b = append(b, ';')
	b = AppendCSVField(b, r.Display, ';')
	b = append(b, ';')
	b = AppendCSVField(b, r.ExpectedDate, ';')
	// The columns and the warehouses are both in code order, as a rule:
	// one walk matches them, a lookup serves any other order.
	whs := r.Warehouses.inOrder()
	found, j := 0, 0
	for _, code := range c.Warehouses {
		var w WarehouseStock
		ok := false
		if j < len(whs) && whs[j].Code == code {
			w, ok = whs[j], true
			j++
		} else {
			w, ok = whs.Get(code)
		}
		if !ok {
			b = append(b, ";;;;"...)
			continue
		}
		found++
		b = append(b, ';')
		b = figs.appendFigures(b, w.OnHand, w.Reserved, w.Incoming, w.Available)
	}
	s.n += 10 + 4*len(c.Warehouses)
	if found != len(whs) {
		s.b = b
		return unknownWarehouse(whs, c.Warehouses)
	}
	b = append(b, ';')
	s.b = appendPlainCSV(b, r.MeasuredAt, &ps.measured)
	return nil
}
