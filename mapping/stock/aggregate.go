package stock

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"time"

	"globex/internal/decimal"
)

// Result is a stock export aggregated per administration and item, ready
// to be turned into feed records with Each or WriteTo.
type Result struct {
	admins   []string
	adminIdx map[string]uint16
	whs      []string
	whIdx    map[string]uint16
	index    *itemIndex
	keys     arena
	items    chunked[itemAgg]
	whRows   chunked[whAgg]
	rows     int
	badRows  []*RowError
	badTotal int
	badAgg   []aggBad
	loc      *time.Location
}

// Items is the number of records (distinct administration and item pairs).
func (r *Result) Items() int { return r.items.n }

// Rows is the number of data rows read, bad ones included.
func (r *Result) Rows() int { return r.rows }

// BadRows lists the rows skipped under Options.SkipBadRows (at most
// Options.MaxBadRows of them) and BadRowCount counts them all.
func (r *Result) BadRows() []*RowError { return r.badRows }

// BadRowCount is the number of bad rows skipped.
func (r *Result) BadRowCount() int { return r.badTotal }

// Warehouses lists the warehouse codes found, in order of appearance.
func (r *Result) Warehouses() []string { return r.whs }

// MeasuredAt returns the earliest measuring time in the file (zero when
// there is none): orders sent to the ERP after it are not yet in the stock
// figures (see Rules.Reserved).
func (r *Result) MeasuredAt() time.Time {
	var min int64 = math.MaxInt64
	for i := range int32(r.items.n) {
		if it := r.items.at(i); it.hasMeasured && it.measured < min {
			min = it.measured
		}
	}
	if min == math.MaxInt64 {
		return time.Time{}
	}
	return time.Unix(min, 0).UTC()
}

// reader holds the per-file parsing state.
type reader struct {
	opts     *Options
	res      *Result
	cols     colMap
	hdr      []string
	unit     string
	xlsx     bool
	date1904 bool
	sep      sepTracker
	measured dateCache
	expected dateCache
	defMeas  int64
	hasDef   bool
	sink     func(pr *parsedRow, item []byte) // pipelined aggregation, or nil
	pr       parsedRow
	// per-row caches (see row)
	adminBytes          []byte
	adminCache, whCache internCache
	measUnix            int64
}

func newReader(o *Options) *reader {
	rd := &reader{opts: o, unit: "line", sep: sepTracker{fixed: o.Decimal},
		res: &Result{adminIdx: map[string]uint16{}, whIdx: map[string]uint16{}, index: newItemIndex(itemsHint(o.SizeHint)), loc: o.Location}}
	if !o.MeasuredAt.IsZero() {
		rd.defMeas, rd.hasDef = o.MeasuredAt.Unix(), true
	}
	return rd
}

// bytesPerItemHint is the export size per distinct item assumed by
// itemsHint: a CSV row takes 40 to 100 bytes, and items usually have a row
// in more than one warehouse.
const bytesPerItemHint = 128

// itemsHint estimates the number of distinct items of an export of size
// bytes (0 when unknown).
func itemsHint(size int64) int {
	if size <= 0 {
		return 0
	}
	return int(min(size/bytesPerItemHint, 1<<30))
}

func (rd *reader) header(hdr []string, delim byte, csv bool) error {
	m, err := mapHeader(hdr, rd.opts.Columns, delim, csv)
	if err != nil {
		return fmt.Errorf("stock: %w", err)
	}
	rd.cols, rd.hdr = m, hdr
	return nil
}

func (rd *reader) bad(line int, col, val, msg string) {
	rd.res.badTotal++
	if len(rd.res.badRows) < rd.opts.MaxBadRows {
		rd.res.badRows = append(rd.res.badRows, &RowError{Unit: rd.unit, Line: line, Column: col, Value: val, Msg: msg})
	}
}

func (rd *reader) finish() (*Result, error) {
	if len(rd.res.badAgg) > 0 {
		for _, b := range rd.res.badAgg {
			rd.res.badTotal++
			rd.res.badRows = append(rd.res.badRows, &RowError{Unit: rd.unit, Line: b.line, Msg: b.msg})
		}
		rd.res.badAgg = nil
		slices.SortStableFunc(rd.res.badRows, func(a, b *RowError) int { return a.Line - b.Line })
		if len(rd.res.badRows) > rd.opts.MaxBadRows {
			rd.res.badRows = rd.res.badRows[:rd.opts.MaxBadRows]
		}
	}
	if rd.res.badTotal > 0 && !rd.opts.SkipBadRows {
		return nil, &BadRowsError{Rows: rd.res.badRows, Total: rd.res.badTotal}
	}
	if err := rd.sep.finish(rd.unit); err != nil {
		return nil, fmt.Errorf("stock: %w", err)
	}
	return rd.res, nil
}

// trim drops surrounding white space; ASCII fast path.
func trim(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	if len(b) > 0 && (b[0] >= 0x80 || b[len(b)-1] >= 0x80) {
		return bytes.TrimSpace(b)
	}
	return b
}

func intern(b []byte, idx map[string]uint16, list *[]string) (uint16, bool) {
	if i, ok := idx[string(b)]; ok {
		return i, true
	}
	if len(*list) >= math.MaxUint16 {
		return 0, false
	}
	s := string(b)
	i := uint16(len(*list))
	idx[s] = i
	*list = append(*list, s)
	return i, true
}

// internCache remembers the last value interned into one table: exports
// repeat the administration and the warehouse row after row, so most rows
// need no map lookup.
type internCache struct {
	last  []byte
	idx   uint16
	valid bool
}

func (c *internCache) intern(b []byte, idx map[string]uint16, list *[]string) (uint16, bool) {
	if c.valid && string(b) == string(c.last) {
		return c.idx, true
	}
	i, ok := intern(b, idx, list)
	if ok {
		c.last, c.idx, c.valid = append(c.last[:0], b...), i, true
	}
	return i, ok
}

// get returns the field f of a row, or nil when the row lacks it.
func (rd *reader) get(fields [][]byte, f field) []byte {
	if i := rd.cols[f]; i >= 0 && i < len(fields) {
		return fields[i]
	}
	return nil
}

func (rd *reader) colName(f field) string { return rd.hdr[rd.cols[f]] }

// num parses the quantity field f of a row; a bad value is reported as a
// bad row and ok is false.
func (rd *reader) num(line int, fields [][]byte, f field) (decimal.Dec, bool) {
	raw := rd.get(fields, f)
	d, info, err := parseNum(raw, rd.xlsx)
	if err != nil {
		rd.bad(line, rd.colName(f), string(raw), err.Error())
		return d, false
	}
	if !rd.xlsx && info.sep != 0 {
		if msg := rd.sep.check(info, line, rd.colName(f), trim(raw)); msg != "" {
			rd.bad(line, rd.colName(f), string(raw), msg)
			return d, false
		}
	}
	return d, true
}

// row aggregates one data row.
func (rd *reader) row(line int, fields [][]byte) {
	rd.res.rows++
	if n := len(rd.hdr); len(fields) != n {
		if len(fields) < n && !rd.xlsx {
			rd.bad(line, "", "", fmt.Sprintf("has %d fields, the header has %d", len(fields), n))
			return
		}
		for _, f := range fields[min(n, len(fields)):] {
			if len(trim(f)) > 0 {
				rd.bad(line, "", "", fmt.Sprintf("has %d fields, the header has %d", len(fields), n))
				return
			}
		}
	}
	item := trim(rd.get(fields, fItem))
	if len(item) == 0 {
		rd.bad(line, rd.colName(fItem), "", "missing item code")
		return
	}
	admin := trim(rd.get(fields, fAdmin))
	if len(admin) == 0 {
		if rd.adminBytes == nil {
			rd.adminBytes = []byte(rd.opts.Administration)
		}
		admin = rd.adminBytes
	} else if rd.opts.Administration != "" && string(admin) != rd.opts.Administration {
		rd.bad(line, rd.colName(fAdmin), string(admin), fmt.Sprintf("differs from the exchange's administration %q", rd.opts.Administration))
		return
	}
	var onHand, reserved, incoming, free, safety decimal.Dec
	var ok bool
	if rd.cols[fOnHand] >= 0 {
		if onHand, ok = rd.num(line, fields, fOnHand); !ok {
			return
		}
	}
	if rd.cols[fFree] >= 0 {
		if free, ok = rd.num(line, fields, fFree); !ok {
			return
		}
	}
	switch {
	case rd.cols[fReserved] >= 0:
		if reserved, ok = rd.num(line, fields, fReserved); !ok {
			return
		}
	case rd.cols[fFree] >= 0 && rd.cols[fOnHand] >= 0:
		r, err := onHand.Sub(free)
		if err != nil {
			rd.bad(line, rd.colName(fFree), "", err.Error())
			return
		}
		reserved = r
	case rd.cols[fFree] >= 0:
		onHand = free
	}
	if rd.cols[fIncoming] >= 0 {
		if incoming, ok = rd.num(line, fields, fIncoming); !ok {
			return
		}
	}
	hasSafety := false
	if raw := rd.get(fields, fSafety); len(trim(raw)) > 0 {
		if safety, ok = rd.num(line, fields, fSafety); !ok {
			return
		}
		hasSafety = true
	}
	meas, hasMeas := rd.defMeas, rd.hasDef
	if raw := trim(rd.get(fields, fMeasured)); len(raw) > 0 {
		if rd.measured.raw != nil && string(raw) == string(rd.measured.raw) && rd.measured.err == nil {
			meas, hasMeas = rd.measUnix, true // same date as the last row
		} else {
			t, err := rd.measured.parse(raw, rd.opts.Location, rd.xlsx, rd.date1904)
			if err != nil {
				rd.bad(line, rd.colName(fMeasured), string(raw), err.Error())
				return
			}
			rd.measUnix = t.Unix()
			meas, hasMeas = rd.measUnix, true
		}
	}
	var expected int32
	if raw := trim(rd.get(fields, fExpected)); len(raw) > 0 {
		t, err := rd.expected.parse(raw, rd.opts.Location, rd.xlsx, rd.date1904)
		if err != nil {
			rd.bad(line, rd.colName(fExpected), string(raw), err.Error())
			return
		}
		expected = int32(t.Year()*10000 + int(t.Month())*100 + t.Day())
	}

	res := rd.res
	ai, ok := rd.adminCache.intern(admin, res.adminIdx, &res.admins)
	if !ok {
		rd.bad(line, rd.colName(fAdmin), string(admin), "too many distinct administrations")
		return
	}
	wh := trim(rd.get(fields, fWarehouse))
	wi, ok := rd.whCache.intern(wh, res.whIdx, &res.whs)
	if !ok {
		rd.bad(line, rd.colName(fWarehouse), string(wh), "too many distinct warehouses")
		return
	}
	pr := &rd.pr
	*pr = parsedRow{line: line, admin: ai, wh: wi, onHand: onHand, reserved: reserved, incoming: incoming,
		safety: safety, measured: meas, expected: expected, hasSafety: hasSafety, hasMeasured: hasMeas}
	if rd.sink != nil {
		rd.sink(pr, item)
		return
	}
	rd.res.add(pr, item, &rd.res.badAgg)
}

// parsedRow is one good row, ready to be added to the aggregates.
type parsedRow struct {
	onHand, reserved, incoming, safety decimal.Dec
	measured                           int64
	line                               int
	itemOff, itemLen                   int // item code in a batch buffer (pipelined reading)
	expected                           int32
	admin, wh                          uint16
	hasSafety, hasMeasured             bool
}

// aggBad is a row that parsed but cannot be added up.
type aggBad struct {
	line int
	msg  string
}

// add adds one parsed row to the aggregates. It touches only the index,
// the arena and the aggregates, so it may run in its own goroutine while
// the next rows are parsed.
func (res *Result) add(pr *parsedRow, item []byte, bad *[]aggBad) {
	h := res.index.hash(pr.admin, item)
	ii, slot := res.index.find(h, pr.admin, item, &res.items, &res.keys)
	if ii < 0 {
		ii = res.items.add(itemAgg{keyOff: res.keys.add(item), keyLen: uint32(len(item)), first: -1, last: -1, admin: pr.admin})
		res.index.insert(slot, h, ii, &res.items, &res.keys)
	}
	it := res.items.at(ii)
	if pr.hasMeasured && (!it.hasMeasured || pr.measured > it.measured) {
		it.measured, it.hasMeasured = pr.measured, true
	}
	if pr.hasSafety {
		if it.hasSafety && !it.safety.Equal(pr.safety) {
			*bad = append(*bad, aggBad{pr.line, fmt.Sprintf("safety stock %s differs from the safety stock %s of an earlier row of item %q", pr.safety, it.safety, item)})
			return
		}
		it.safety, it.hasSafety = pr.safety, true
	}
	// An item may have several rows for one warehouse (locations, batches):
	// they are added up.
	for j := it.first; j >= 0; j = res.whRows.at(j).next {
		w := res.whRows.at(j)
		if w.wh != pr.wh {
			continue
		}
		a, err1 := w.onHand.Add(pr.onHand)
		b, err2 := w.reserved.Add(pr.reserved)
		c, err3 := w.incoming.Add(pr.incoming)
		if err1 != nil || err2 != nil || err3 != nil {
			*bad = append(*bad, aggBad{pr.line, "quantities too large to add up"})
			return
		}
		w.onHand, w.reserved, w.incoming = a, b, c
		if pr.expected != 0 && (w.expected == 0 || pr.expected < w.expected) {
			w.expected = pr.expected
		}
		return
	}
	j := res.whRows.add(whAgg{onHand: pr.onHand, reserved: pr.reserved, incoming: pr.incoming, next: -1, expected: pr.expected, wh: pr.wh})
	if it.last >= 0 {
		res.whRows.at(it.last).next = j
	} else {
		it.first = j
	}
	it.last = j
}
