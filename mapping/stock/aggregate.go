package stock

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"globex/internal/decimal"
)

// Result is a stock export aggregated per administration and item, ready
// to be turned into feed records with Each or WriteTo. It may keep a
// temporary file: call Close when done with it.
type Result struct {
	admins      []string
	adminIdx    map[string]uint16
	whs         []string
	whIdx       map[string]uint16
	rows        int
	items       int
	badRows     []*RowError
	badTotal    int
	measured    int64 // earliest measuring time of an item
	hasMeasured bool
	lastLine    uint64     // the largest first line of an item
	whUsed      []bool     // per warehouse: an item has a row in it
	aggs        *partStore // per partition, the items in order of appearance
}

// Items is the number of records (distinct administration and item pairs).
func (r *Result) Items() int { return r.items }

// Rows is the number of data rows read, bad ones included.
func (r *Result) Rows() int { return r.rows }

// BadRows lists the rows skipped under Options.SkipBadRows (at most
// Options.MaxBadRows of them) and BadRowCount counts them all.
func (r *Result) BadRows() []*RowError { return r.badRows }

// BadRowCount is the number of bad rows skipped.
func (r *Result) BadRowCount() int { return r.badTotal }

// Warehouses lists the codes of the warehouses the items have rows in,
// sorted.
func (r *Result) Warehouses() []string {
	var w []string
	for i, used := range r.whUsed {
		if used {
			w = append(w, r.whs[i])
		}
	}
	slices.Sort(w)
	return w
}

// MeasuredAt returns the earliest measuring time in the file (zero when
// there is none): orders sent to the ERP after it are not yet in the stock
// figures (see Rules.Reserved).
func (r *Result) MeasuredAt() time.Time {
	if !r.hasMeasured {
		return time.Time{}
	}
	return time.Unix(r.measured, 0).UTC()
}

// Close removes the result's temporary file, if any.
func (r *Result) Close() error {
	if r.aggs == nil {
		return nil
	}
	return r.aggs.close()
}

// reader holds the per-file reading state; parsers (one per goroutine)
// share it.
type reader struct {
	opts     *Options
	res      *Result
	cols     colMap
	hdr      []string
	unit     string
	xlsx     bool
	date1904 bool
	delim    byte
	sep      sepTracker // the file's separator decisions, in file order
	defMeas  int64
	hasDef   bool
	internMu sync.Mutex
	rowStore *partStore
	seq      *parser // the parser of rows taken in file order
	badAgg   []aggBad
}

func newReader(o *Options) *reader {
	rd := &reader{opts: o, unit: "line", sep: sepTracker{fixed: o.Decimal},
		res: &Result{adminIdx: map[string]uint16{}, whIdx: map[string]uint16{}}}
	if !o.MeasuredAt.IsZero() {
		rd.defMeas, rd.hasDef = o.MeasuredAt.Unix(), true
	}
	// Rows leave memory as they are added up, so rows and items may each
	// use most of the budget.
	rd.rowStore = newPartStore(o.TempDir, "rows", o.MemoryBudget*3/4)
	rd.res.aggs = newPartStore(o.TempDir, "items", o.MemoryBudget*3/4)
	rd.seq = rd.newParser(&rd.sep)
	return rd
}

func (rd *reader) header(hdr []string, delim byte, csv bool) error {
	m, err := mapHeader(hdr, rd.opts.Columns, delim, csv)
	if err != nil {
		return fmt.Errorf("stock: %w", err)
	}
	rd.cols, rd.hdr, rd.delim = m, hdr, delim
	return nil
}

// blockBytes is about how many bytes of a CSV file make a block (see
// readBlocks), and of rows a parser collects before they are committed. A
// variable for tests.
var blockBytes = 256 << 10

// maxCodeBytes bounds administration and warehouse codes, which are kept
// for the whole file.
const maxCodeBytes = 256

// blockOut is what a parser made of a run of rows: the rows, encoded per
// partition, and the bad ones.
type blockOut struct {
	fatal    error // ends the file
	parts    [nParts][]byte
	bytes    int
	rows     int
	bad      []*RowError
	badTotal int
	sep      sepSummary
}

func (o *blockOut) reset() {
	for i := range o.parts {
		o.parts[i] = o.parts[i][:0]
	}
	o.bytes, o.rows, o.bad, o.badTotal, o.sep, o.fatal = 0, 0, o.bad[:0], 0, sepSummary{}, nil
}

// commit adds a block's rows to the file's, in file order.
func (rd *reader) commit(o *blockOut) error {
	res := rd.res
	res.rows += o.rows
	res.badTotal += o.badTotal
	for _, b := range o.bad {
		if len(res.badRows) < rd.opts.MaxBadRows {
			res.badRows = append(res.badRows, b)
		}
	}
	for p := range o.parts {
		if err := rd.rowStore.add(p, o.parts[p]); err != nil {
			return err
		}
	}
	o.reset()
	return nil
}

// rowInOrder parses a row taken in file order (XLSX, or CSV past a point
// where blocks cannot be cut).
func (rd *reader) rowInOrder(line int, fields [][]byte) error {
	rd.seq.row(line, fields)
	if err := rd.seq.out.fatal; err != nil {
		return err
	}
	if rd.seq.out.bytes >= blockBytes {
		return rd.commit(rd.seq.out)
	}
	return nil
}

func (rd *reader) finish() (*Result, error) {
	if err := rd.commit(rd.seq.out); err != nil {
		return nil, err
	}
	err := rd.aggregate()
	if cerr := rd.rowStore.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if len(rd.badAgg) > 0 {
		// Each partition kept its first MaxBadRows, so the first
		// MaxBadRows of the file are among them.
		slices.SortFunc(rd.badAgg, func(a, b aggBad) int { return a.line - b.line })
		for _, b := range rd.badAgg {
			rd.res.badRows = append(rd.res.badRows, &RowError{Unit: rd.unit, Line: b.line, Msg: b.msg})
		}
		rd.badAgg = nil
		slices.SortStableFunc(rd.res.badRows, func(a, b *RowError) int { return a.Line - b.Line })
		if len(rd.res.badRows) > rd.opts.MaxBadRows {
			rd.res.badRows = slices.Clone(rd.res.badRows[:rd.opts.MaxBadRows])
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
	b = trimNum(b)
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

// internCache remembers the last few values a parser interned into one
// table: exports repeat the administration and the warehouses row after
// row (one warehouse, or a few in turn), so most rows need neither the
// lock nor a map lookup.
type internCache struct {
	last [internCached][]byte // the most recent first
	idx  [internCached]uint16
	n    int // entries in use
}

const internCached = 4

// intern returns b's index in the table idx/list, from c when c has it
// (store tests the most recent value itself).
func (p *parser) intern(c *internCache, b []byte, idx map[string]uint16, list *[]string) (uint16, bool) {
	k := 0
	for k < c.n && !sameBytes(b, c.last[k]) {
		k++
	}
	if k < c.n {
		// To the front (a no-op for k 0).
		c.last[0], c.last[k] = c.last[k], c.last[0]
		c.idx[0], c.idx[k] = c.idx[k], c.idx[0]
		return c.idx[0], true
	}
	p.rd.internMu.Lock()
	i, ok := intern(b, idx, list)
	p.rd.internMu.Unlock()
	if ok {
		// In front; the least recent entry (or a free one) makes room.
		k = min(c.n, internCached-1)
		buf := c.last[k]
		copy(c.last[1:k+1], c.last[:k])
		copy(c.idx[1:k+1], c.idx[:k])
		c.last[0], c.idx[0] = append(buf[:0], b...), i
		c.n = min(c.n+1, internCached)
	}
	return i, ok
}

// parser turns rows into row records; one per goroutine.
type parser struct {
	rd                  *reader
	sep                 *sepTracker
	out                 *blockOut
	measured, expected  dateCache
	measUnix            int64
	adminBytes          []byte
	adminCache, whCache internCache
	fast                fastState // see fastRow
}

// newParser returns a parser checking decimal separators with sep: the
// file's tracker, or a recording one for blocks parsed ahead.
func (rd *reader) newParser(sep *sepTracker) *parser {
	return &parser{rd: rd, sep: sep, out: &blockOut{}}
}

// get returns the field f of a row, or nil when the row lacks it.
func (p *parser) get(fields [][]byte, f field) []byte {
	if i := p.rd.cols[f]; i >= 0 && i < len(fields) {
		return fields[i]
	}
	return nil
}

func (p *parser) colName(f field) string { return p.rd.hdr[p.rd.cols[f]] }

func (p *parser) bad(line int, col, val, msg string) {
	o := p.out
	o.badTotal++
	if len(o.bad) < p.rd.opts.MaxBadRows {
		o.bad = append(o.bad, &RowError{Unit: p.rd.unit, Line: line, Column: col, Value: val, Msg: msg})
	}
}

// num parses the quantity field f of a row; a bad value is reported as a
// bad row and ok is false.
func (p *parser) num(line int, fields [][]byte, f field) (decimal.Dec, bool) {
	raw := p.get(fields, f)
	d, info, err := parseNum(raw, p.rd.xlsx)
	if err != nil {
		p.bad(line, p.colName(f), string(raw), err.Error())
		return d, false
	}
	if !p.rd.xlsx && info.sep != 0 {
		if msg := p.sep.check(info, line, p.colName(f), trim(raw)); msg != "" {
			p.bad(line, p.colName(f), string(raw), msg)
			return d, false
		}
	}
	return d, true
}

// row parses one data row into a row record. fastRow is row for ordinary
// lines of a CSV block: a change here is a change there.
func (p *parser) row(line int, fields [][]byte) {
	rd := p.rd
	p.out.rows++
	if n := len(rd.hdr); len(fields) != n {
		if len(fields) < n && !rd.xlsx {
			p.bad(line, "", "", fmt.Sprintf("has %d fields, the header has %d", len(fields), n))
			return
		}
		for _, f := range fields[min(n, len(fields)):] {
			if len(trim(f)) > 0 {
				p.bad(line, "", "", fmt.Sprintf("has %d fields, the header has %d", len(fields), n))
				return
			}
		}
	}
	item := trim(p.get(fields, fItem))
	if len(item) == 0 {
		p.bad(line, p.colName(fItem), "", "missing item code")
		return
	}
	admin := trim(p.get(fields, fAdmin))
	if len(admin) == 0 {
		if p.adminBytes == nil {
			p.adminBytes = []byte(rd.opts.Administration)
		}
		admin = p.adminBytes
	} else if rd.opts.Administration != "" && string(admin) != rd.opts.Administration {
		p.bad(line, p.colName(fAdmin), string(admin), fmt.Sprintf("differs from the exchange's administration %q", rd.opts.Administration))
		return
	}
	var r rowRec
	var ok bool
	if rd.cols[fOnHand] >= 0 {
		if r.onHand, ok = p.num(line, fields, fOnHand); !ok {
			return
		}
	}
	// Free stock is read only when it is needed: without a reserved
	// column (reserved = on hand - free) or without an on-hand column.
	var free decimal.Dec
	if rd.cols[fFree] >= 0 && (rd.cols[fReserved] < 0 || rd.cols[fOnHand] < 0) {
		if free, ok = p.num(line, fields, fFree); !ok {
			return
		}
	}
	switch {
	case rd.cols[fReserved] >= 0:
		if r.reserved, ok = p.num(line, fields, fReserved); !ok {
			return
		}
		if rd.cols[fOnHand] < 0 { // free stock and reserved: on hand is their sum
			sum, err := free.Add(r.reserved)
			if err != nil {
				p.bad(line, p.colName(fFree), "", err.Error())
				return
			}
			r.onHand = sum
		}
	case rd.cols[fFree] >= 0 && rd.cols[fOnHand] >= 0:
		res, err := r.onHand.Sub(free)
		if err != nil {
			p.bad(line, p.colName(fFree), "", err.Error())
			return
		}
		r.reserved = res
	case rd.cols[fFree] >= 0:
		r.onHand = free
	}
	if rd.cols[fIncoming] >= 0 {
		if r.incoming, ok = p.num(line, fields, fIncoming); !ok {
			return
		}
	}
	if raw := p.get(fields, fSafety); len(trim(raw)) > 0 {
		if r.safety, ok = p.num(line, fields, fSafety); !ok {
			return
		}
		r.flags |= rowSafety
	}
	r.measured = rd.defMeas
	if rd.hasDef {
		r.flags |= rowMeasured
	}
	if raw := trim(p.get(fields, fMeasured)); len(raw) > 0 {
		if p.measured.raw != nil && string(raw) == string(p.measured.raw) && p.measured.err == nil {
			r.measured = p.measUnix // same date as the last row
		} else {
			t, err := p.measured.parse(raw, rd.opts.Location, rd.xlsx, rd.date1904)
			if err != nil {
				p.bad(line, p.colName(fMeasured), string(raw), err.Error())
				return
			}
			p.measUnix = t.Unix()
			r.measured = p.measUnix
		}
		r.flags |= rowMeasured
	}
	if raw := trim(p.get(fields, fExpected)); len(raw) > 0 {
		t, err := p.expected.parse(raw, rd.opts.Location, rd.xlsx, rd.date1904)
		if err != nil {
			p.bad(line, p.colName(fExpected), string(raw), err.Error())
			return
		}
		r.expected = uint32(t.Year()*10000 + int(t.Month())*100 + t.Day())
	}
	if len(item) > math.MaxUint16 {
		p.bad(line, p.colName(fItem), "", fmt.Sprintf("the item code is longer than %d bytes", math.MaxUint16))
		return
	}
	if uint64(line) > math.MaxUint32 {
		p.out.fatal = fmt.Errorf("stock: more than %d lines: this does not look like a stock export", uint64(math.MaxUint32))
		return
	}
	wh := trim(p.get(fields, fWarehouse))
	if len(admin) > maxCodeBytes {
		p.bad(line, p.colName(fAdmin), string(admin), fmt.Sprintf("is longer than %d bytes: not an administration number", maxCodeBytes))
		return
	}
	if len(wh) > maxCodeBytes {
		p.bad(line, p.colName(fWarehouse), string(wh), fmt.Sprintf("is longer than %d bytes: not a warehouse code", maxCodeBytes))
		return
	}
	p.store(&r, line, item, admin, wh)
}

// store interns a good row's administration and warehouse codes and
// appends the row record to its partition; running out of codes ends the
// file (p.out.fatal).
func (p *parser) store(r *rowRec, line int, item, admin, wh []byte) {
	res := p.rd.res
	var ok bool
	// Running out of codes refuses the file whole, whichever row meets the
	// limit first (rows are parsed out of order).
	// (intern's first test, inlined by hand: this runs for every row.)
	if c := &p.adminCache; c.n > 0 && sameBytes(admin, c.last[0]) {
		r.admin = c.idx[0]
	} else if r.admin, ok = p.intern(c, admin, res.adminIdx, &res.admins); !ok {
		p.out.fatal = fmt.Errorf("stock: more than %d distinct administrations: this does not look like a stock export (check the delimiter and the columns)", math.MaxUint16)
		return
	}
	if c := &p.whCache; c.n > 0 && sameBytes(wh, c.last[0]) {
		r.wh = c.idx[0]
	} else if r.wh, ok = p.intern(c, wh, res.whIdx, &res.whs); !ok {
		p.out.fatal = fmt.Errorf("stock: more than %d distinct warehouses: this does not look like a stock export (check the delimiter and the columns)", math.MaxUint16)
		return
	}
	r.line = uint64(line)
	r.item = item
	r.hash = rowHash(item, r.admin)
	pp := partOf(r.hash)
	b := p.out.parts[pp]
	n := len(b)
	b = r.append(le.AppendUint32(b, 0)) // length-prefixed, for recCursor
	le.PutUint32(b[n:], uint32(len(b)-n-4))
	p.out.parts[pp] = b
	p.out.bytes += len(b) - n
}

// rowRec is one good row. Encoded (append), it is: the line (32 bits),
// administration, warehouse, flags, expected date, the item code's length
// (16 bits), on hand, reserved, incoming, then safety stock and measuring
// time when present, and the item code. The hash is computed again from
// the item code where it is needed.
type rowRec struct {
	hash                       uint64
	line                       uint64
	onHand, reserved, incoming decimal.Dec
	safety                     decimal.Dec
	measured                   int64
	expected                   uint32 // yyyymmdd, 0 for none
	admin, wh                  uint16
	flags                      byte
	item                       []byte
}

const (
	rowSafety = 1 << iota
	rowMeasured
	rowSmall // on hand, reserved and incoming fit 32 bits
)

// Records use fixed-width little-endian fields: decoding them is a load
// each, where varints cost a loop per field.

var le = binary.LittleEndian

func appendDec(b []byte, d decimal.Dec) []byte {
	return append(le.AppendUint64(b, uint64(d.Coef())), byte(d.Scale()))
}

// readDec decodes what appendDec wrote at b[i:] and returns the position
// after it.
func readDec(b []byte, i int) (decimal.Dec, int) {
	return decimal.New(int64(le.Uint64(b[i:])), int(b[i+8])), i + 9
}

// Quantities mostly fit 32 bits: a record flags that its three do, and
// keeps them in 5 bytes each instead of 9.

// small reports that the coefficients of x, y and z all fit 32 bits.
func small(x, y, z decimal.Dec) bool { return fits32(x) && fits32(y) && fits32(z) }

// fits32 reports that d's coefficient fits 32 bits.
func fits32(d decimal.Dec) bool { return int64(int32(d.Coef())) == d.Coef() }

func appendDecs(b []byte, sm bool, x, y, z decimal.Dec) []byte {
	if !sm {
		return appendDec(appendDec(appendDec(b, x), y), z)
	}
	for _, d := range [3]decimal.Dec{x, y, z} {
		b = append(le.AppendUint32(b, uint32(int32(d.Coef()))), byte(d.Scale()))
	}
	return b
}

func readDecs(b []byte, i int, sm bool) (x, y, z decimal.Dec, next int) {
	if !sm {
		x, i = readDec(b, i)
		y, i = readDec(b, i)
		z, i = readDec(b, i)
		return x, y, z, i
	}
	x = decimal.New(int64(int32(le.Uint32(b[i:]))), int(b[i+4]))
	y = decimal.New(int64(int32(le.Uint32(b[i+5:]))), int(b[i+9]))
	z = decimal.New(int64(int32(le.Uint32(b[i+10:]))), int(b[i+14]))
	return x, y, z, i + 15
}

// rowHash is the hash of a row's item: it picks the partition and finds
// the item in the partition's table. It is itemHash, keyed per process,
// which costs less than maphash for short codes.
func rowHash(item []byte, admin uint16) uint64 {
	return itemHash(item) ^ uint64(admin)*0x9e3779b97f4a7c15
}

func (r *rowRec) append(b []byte) []byte {
	flags := r.flags
	sm := small(r.onHand, r.reserved, r.incoming)
	size := 15 + 3*9 + len(r.item)
	if sm {
		flags |= rowSmall
		size -= 3 * 4
	}
	if r.flags&rowSafety != 0 {
		size += 9
	}
	if r.flags&rowMeasured != 0 {
		size += 8
	}
	// One growth, then stores: this runs for every row.
	n := len(b)
	b = slices.Grow(b, size)[:n+size]
	o := b[n:]
	le.PutUint32(o, uint32(r.line))
	o[4], o[5], o[6], o[7], o[8] = byte(r.admin), byte(r.admin>>8), byte(r.wh), byte(r.wh>>8), flags
	le.PutUint32(o[9:], r.expected)
	le.PutUint16(o[13:], uint16(len(r.item)))
	i := 15
	if sm {
		le.PutUint32(o[i:], uint32(int32(r.onHand.Coef())))
		o[i+4] = byte(r.onHand.Scale())
		le.PutUint32(o[i+5:], uint32(int32(r.reserved.Coef())))
		o[i+9] = byte(r.reserved.Scale())
		le.PutUint32(o[i+10:], uint32(int32(r.incoming.Coef())))
		o[i+14] = byte(r.incoming.Scale())
		i += 15
	} else {
		i = putDec(o, i, r.onHand)
		i = putDec(o, i, r.reserved)
		i = putDec(o, i, r.incoming)
	}
	if r.flags&rowSafety != 0 {
		i = putDec(o, i, r.safety)
	}
	if r.flags&rowMeasured != 0 {
		le.PutUint64(o[i:], uint64(r.measured))
		i += 8
	}
	copy(o[i:], r.item)
	return b
}

// putDec writes d at o[i:] as appendDec does and returns the position
// after it.
func putDec(o []byte, i int, d decimal.Dec) int {
	le.PutUint64(o[i:], uint64(d.Coef()))
	o[i+8] = byte(d.Scale())
	return i + 9
}

// decode reads the row record at b[i:] (its item aliases b) and returns
// the position after it.
func (r *rowRec) decode(b []byte, i int) int {
	r.line = uint64(le.Uint32(b[i:]))
	r.admin = le.Uint16(b[i+4:])
	r.wh = le.Uint16(b[i+6:])
	r.flags = b[i+8]
	r.expected = le.Uint32(b[i+9:])
	l := int(le.Uint16(b[i+13:]))
	r.onHand, r.reserved, r.incoming, i = readDecs(b, i+15, r.flags&rowSmall != 0)
	if r.flags&rowSafety != 0 {
		r.safety, i = readDec(b, i)
	} else {
		r.safety = decimal.Dec{}
	}
	r.measured = 0
	if r.flags&rowMeasured != 0 {
		r.measured = int64(le.Uint64(b[i:]))
		i += 8
	}
	r.item = b[i : i+l : i+l]
	return i + l
}

// aggBad is a row that parsed but cannot be added up.
type aggBad struct {
	line int
	msg  string
}

// aggItem and aggWh are one partition's aggregates while it is added up.
type aggItem struct {
	hash        uint64
	keyOff      int // item code in partAgg.keys
	keyLen      int
	first       uint64 // line of the item's first row
	measured    int64
	safety      decimal.Dec
	whFirst     int32 // list of aggWh
	whLast      int32
	nWh         int32
	admin       uint16
	hasMeasured bool
	hasSafety   bool
}

type aggWh struct {
	onHand, reserved, incoming decimal.Dec
	next                       int32
	expected                   uint32
	wh                         uint16
}

// partAgg is the reusable state of one aggregating goroutine.
type partAgg struct {
	keys  []byte
	items []aggItem
	// (item, warehouse) to aggWh for items with many warehouses
	whIndex map[uint64]int32
	whs     []aggWh
	slots   []int32 // open addressing on the item hash: item index + 1
	out     []byte
	bad     []aggBad // the first MaxBadRows of each partition
	// bad rows of all partitions, and of the current one
	badCount, partBad int
	maxBad            int
	// earliest measuring time of an item, largest first line, warehouses
	// used
	measured    int64
	hasMeasured bool
	lastLine    uint64
	whUsed      []bool
}

// aggregate adds up every partition's rows into item records, the
// partitions spread over the CPUs.
func (rd *reader) aggregate() error {
	workers := max(1, runtime.GOMAXPROCS(0))
	var next atomic.Int32
	errs := make([]error, workers)
	aggs := make([]*partAgg, workers)
	var items atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		aggs[w] = &partAgg{whUsed: make([]bool, len(rd.res.whs)), maxBad: rd.opts.MaxBadRows}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := aggs[w]
			for {
				p := int(next.Add(1)) - 1
				if p >= nParts {
					return
				}
				n, err := rd.aggregatePart(a, p)
				if err != nil {
					errs[w] = err
					return
				}
				items.Add(int64(n))
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	res := rd.res
	res.items = int(items.Load())
	res.whUsed = make([]bool, len(res.whs))
	for _, a := range aggs {
		for i, u := range a.whUsed {
			res.whUsed[i] = res.whUsed[i] || u
		}
		rd.badAgg = append(rd.badAgg, a.bad...)
		res.badTotal += a.badCount
		if a.hasMeasured && (!res.hasMeasured || a.measured < res.measured) {
			res.measured, res.hasMeasured = a.measured, true
		}
		res.lastLine = max(res.lastLine, a.lastLine)
	}
	return nil
}

// aggregatePart adds up partition p's rows, in file order, and stores its
// items in order of first appearance. It returns the number of items.
func (rd *reader) aggregatePart(a *partAgg, p int) (int, error) {
	n := rd.rowStore.lens[p]
	if n == 0 {
		return 0, nil
	}
	// The rows are streamed: a partition may be large when a few items
	// have most of the rows.
	c := rd.rowStore.cursor(p)
	a.items, a.whs, a.keys, a.partBad = a.items[:0], a.whs[:0], a.keys[:0], 0
	clear(a.whIndex)
	// Size the table for about one item per 80 bytes of rows, at most half
	// full; it grows when there are more.
	size := 64
	for int64(size) < n/40 && size < 1<<20 {
		size *= 2
	}
	if cap(a.slots) >= size {
		a.slots = a.slots[:size]
		clear(a.slots)
	} else {
		a.slots = make([]int32, size)
	}
	var r rowRec
	for rec := c.next(); rec != nil; rec = c.next() {
		r.decode(rec, 0)
		r.hash = rowHash(r.item, r.admin)
		a.add(&r)
	}
	if c.err != nil {
		return 0, c.err
	}
	rd.rowStore.release(p)
	a.out = a.out[:0]
	for k := range a.items {
		it := &a.items[k]
		n := len(a.out)
		a.out = a.encodeItem(le.AppendUint32(a.out, 0), it)
		le.PutUint32(a.out[n:], uint32(len(a.out)-n-4))
		if it.hasMeasured && (!a.hasMeasured || it.measured < a.measured) {
			a.measured, a.hasMeasured = it.measured, true
		}
		a.lastLine = max(a.lastLine, it.first)
	}
	if err := rd.res.aggs.add(p, a.out); err != nil {
		return 0, err
	}
	return len(a.items), nil
}

// badRow counts a bad row and tells whether to list it.
func (a *partAgg) badRow() bool {
	a.badCount++
	a.partBad++
	return a.partBad <= a.maxBad
}

// find returns the index of the row's item, adding it when new.
func (a *partAgg) find(r *rowRec) int32 {
	mask := len(a.slots) - 1
	for i := int(r.hash) & mask; ; i = (i + 1) & mask {
		s := a.slots[i]
		if s == 0 {
			a.items = append(a.items, aggItem{hash: r.hash, keyOff: len(a.keys), keyLen: len(r.item), first: r.line, whFirst: -1, whLast: -1, admin: r.admin})
			a.keys = append(a.keys, r.item...)
			idx := int32(len(a.items) - 1)
			a.slots[i] = idx + 1
			if 2*len(a.items) > len(a.slots) {
				a.grow()
			}
			return idx
		}
		it := &a.items[s-1]
		if it.hash == r.hash && it.admin == r.admin && string(a.keys[it.keyOff:it.keyOff+it.keyLen]) == string(r.item) {
			return s - 1
		}
	}
}

func (a *partAgg) grow() {
	a.slots = make([]int32, 2*len(a.slots))
	mask := len(a.slots) - 1
	for k := range a.items {
		i := int(a.items[k].hash) & mask
		for a.slots[i] != 0 {
			i = (i + 1) & mask
		}
		a.slots[i] = int32(k + 1)
	}
}

// add adds one row to its item.
func (a *partAgg) add(r *rowRec) {
	idx := a.find(r)
	it := &a.items[idx]
	line := int(r.line)
	if r.flags&rowMeasured != 0 && (!it.hasMeasured || r.measured > it.measured) {
		it.measured, it.hasMeasured = r.measured, true
	}
	if r.flags&rowSafety != 0 {
		if it.hasSafety && !it.safety.Equal(r.safety) {
			if a.badRow() {
				a.bad = append(a.bad, aggBad{line, fmt.Sprintf("safety stock %s differs from the safety stock %s of an earlier row of item %q", r.safety, it.safety, r.item)})
			}
			return
		}
		it.safety, it.hasSafety = r.safety, true
	}
	// An item may have several rows for one warehouse (locations, batches):
	// they are added up.
	if j := a.findWh(idx, it, r.wh); j >= 0 {
		w := &a.whs[j]
		x, err1 := w.onHand.Add(r.onHand)
		y, err2 := w.reserved.Add(r.reserved)
		z, err3 := w.incoming.Add(r.incoming)
		if err1 != nil || err2 != nil || err3 != nil {
			if a.badRow() {
				a.bad = append(a.bad, aggBad{line, "quantities too large to add up"})
			}
			return
		}
		w.onHand, w.reserved, w.incoming = x, y, z
		if r.expected != 0 && (w.expected == 0 || r.expected < w.expected) {
			w.expected = r.expected
		}
		return
	}
	a.whs = append(a.whs, aggWh{onHand: r.onHand, reserved: r.reserved, incoming: r.incoming, next: -1, expected: r.expected, wh: r.wh})
	a.whUsed[r.wh] = true
	j := int32(len(a.whs) - 1)
	if it.whLast >= 0 {
		a.whs[it.whLast].next = j
	} else {
		it.whFirst = j
	}
	it.whLast = j
	it.nWh++
	switch {
	case it.nWh == whListMax+1: // from now on, the item's warehouses are indexed
		if a.whIndex == nil {
			a.whIndex = map[uint64]int32{}
		}
		for k := it.whFirst; k >= 0; k = a.whs[k].next {
			a.whIndex[uint64(idx)<<16|uint64(a.whs[k].wh)] = k
		}
	case it.nWh > whListMax:
		a.whIndex[uint64(idx)<<16|uint64(r.wh)] = j
	}
}

// whListMax is how many warehouses of an item are searched in a list;
// beyond it a map finds them.
const whListMax = 8

// findWh returns the aggWh of item idx for warehouse wh, or -1.
func (a *partAgg) findWh(idx int32, it *aggItem, wh uint16) int32 {
	if it.nWh > whListMax {
		if j, ok := a.whIndex[uint64(idx)<<16|uint64(wh)]; ok {
			return j
		}
		return -1
	}
	for j := it.whFirst; j >= 0; j = a.whs[j].next {
		if a.whs[j].wh == wh {
			return j
		}
	}
	return -1
}

// An item record is: the line of its first row, the administration, flags,
// the measuring time and safety stock when present, the item code, and its
// warehouses (warehouse, expected date, on hand, reserved, incoming) in
// order of appearance.
const (
	itemMeasured = 1 << iota
	itemSafety
)

func (a *partAgg) encodeItem(b []byte, it *aggItem) []byte {
	b = le.AppendUint32(b, uint32(it.first))
	var flags byte
	if it.hasMeasured {
		flags |= itemMeasured
	}
	if it.hasSafety {
		flags |= itemSafety
	}
	b = append(b, byte(it.admin), byte(it.admin>>8), flags)
	if it.hasMeasured {
		b = le.AppendUint64(b, uint64(it.measured))
	}
	if it.hasSafety {
		b = appendDec(b, it.safety)
	}
	b = le.AppendUint16(b, uint16(it.keyLen))
	b = append(b, a.keys[it.keyOff:it.keyOff+it.keyLen]...)
	n := 0
	for j := it.whFirst; j >= 0; j = a.whs[j].next {
		n++
	}
	b = le.AppendUint16(b, uint16(n))
	for j := it.whFirst; j >= 0; j = a.whs[j].next {
		w := &a.whs[j]
		sm := small(w.onHand, w.reserved, w.incoming)
		var f byte
		if sm {
			f = 1
		}
		b = append(b, byte(w.wh), byte(w.wh>>8), f)
		b = le.AppendUint32(b, w.expected)
		b = appendDecs(b, sm, w.onHand, w.reserved, w.incoming)
	}
	return b
}

// itemRec is a decoded item record; its key and warehouses alias the
// record's bytes and the decoder's buffer.
type itemRec struct {
	first       uint64
	admin       uint16
	hasMeasured bool
	hasSafety   bool
	measured    int64
	safety      decimal.Dec
	key         []byte
	whs         []whRec
}

type whRec struct {
	onHand, reserved, incoming decimal.Dec
	expected                   uint32
	wh                         uint16
}

func (it *itemRec) decode(b []byte) {
	it.first = uint64(le.Uint32(b))
	it.admin = le.Uint16(b[4:])
	flags := b[6]
	i := 7
	it.hasMeasured, it.hasSafety = flags&itemMeasured != 0, flags&itemSafety != 0
	it.measured, it.safety = 0, decimal.Dec{}
	if it.hasMeasured {
		it.measured = int64(le.Uint64(b[i:]))
		i += 8
	}
	if it.hasSafety {
		it.safety, i = readDec(b, i)
	}
	l := int(le.Uint16(b[i:]))
	i += 2
	it.key = b[i : i+l]
	i += l
	nw := int(le.Uint16(b[i:]))
	i += 2
	if cap(it.whs) < nw {
		it.whs = make([]whRec, nw)
	}
	it.whs = it.whs[:nw]
	for k := range it.whs {
		w := &it.whs[k]
		w.wh = le.Uint16(b[i:])
		sm := b[i+2] != 0
		w.expected = le.Uint32(b[i+3:])
		w.onHand, w.reserved, w.incoming, i = readDecs(b, i+7, sm)
	}
}

// firstLine reads only the line of an item record's first row.
func firstLine(b []byte) uint64 { return uint64(le.Uint32(b)) }

// rangeLines is how many lines of the file one batch of output covers:
// the items whose first row is in those lines.
const rangeLines = 8192

// lineBatch holds the item records whose first row lies in the lines
// [lo, lo+rangeLines), in no particular order; order puts them in file
// order.
type lineBatch struct {
	seq   int
	lo    uint64
	data  []byte
	ends  []int32
	slots []int32
	recs  [][]byte
}

// order returns the batch's records in order of first appearance: lines
// are unique per item, so each record goes straight to its line's slot.
func (lb *lineBatch) order() [][]byte {
	if cap(lb.slots) < rangeLines {
		lb.slots = make([]int32, rangeLines)
	}
	slots := lb.slots[:rangeLines]
	clear(slots)
	start := int32(0)
	for k, end := range lb.ends {
		slots[firstLine(lb.data[start:end])-lb.lo] = int32(k + 1)
		start = end
	}
	lb.recs = lb.recs[:0]
	for _, k := range slots {
		if k == 0 {
			continue
		}
		s := int32(0)
		if k > 1 {
			s = lb.ends[k-2]
		}
		lb.recs = append(lb.recs, lb.data[s:lb.ends[k-1]])
	}
	return lb.recs
}

// batches cuts the items into lineBatches, in order, taking each batch's
// records from the partitions (whose items are in order of first
// appearance) and passing it to fn with a batch from get.
func (r *Result) batches(get func() *lineBatch, fn func(*lineBatch) error) error {
	var curs [nParts]*recCursor
	var heads [nParts][]byte
	for p := range nParts {
		curs[p] = r.aggs.cursor(p)
		if heads[p] = curs[p].next(); heads[p] == nil && curs[p].err != nil {
			return curs[p].err
		}
	}
	seq := 0
	var lb *lineBatch
	for lo := uint64(0); lo <= r.lastLine; lo += rangeLines {
		hi := lo + rangeLines
		if lb == nil {
			lb = get()
		}
		lb.seq, lb.lo, lb.data, lb.ends = seq, lo, lb.data[:0], lb.ends[:0]
		for p := range nParts {
			for rec := heads[p]; rec != nil && firstLine(rec) < hi; rec = heads[p] {
				lb.data = append(lb.data, rec...)
				lb.ends = append(lb.ends, int32(len(lb.data)))
				if heads[p] = curs[p].next(); heads[p] == nil && curs[p].err != nil {
					return curs[p].err
				}
			}
		}
		if len(lb.ends) == 0 {
			continue
		}
		seq++
		if err := fn(lb); err != nil {
			return err
		}
		lb = nil
	}
	return nil
}
