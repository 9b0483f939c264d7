// Package stock reads Exact Globe stock exports (CSV or XLSX, one row per
// item per warehouse) and turns them into stock feed records (feed.Stock),
// one per administration and item, with the exchange's availability rules
// applied.
//
// Reading is streaming, but aggregation is not: rows need not be sorted by
// item, so Read keeps one small aggregate per distinct item (about 100
// bytes plus the item code) and per item-warehouse pair (about 64 bytes);
// a million items in two warehouses take roughly 250 MB. Memory does not
// otherwise grow with the file: lines are bounded (Options.MaxLineBytes) and
// fields are parsed in place without allocation.
package stock

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"globex/internal/textenc"
)

// Options say how to read one stock export. The zero value reads a CSV or
// XLSX export with automatic detection of everything.
type Options struct {
	// Format is "csv", "xlsx" or "" to decide from the content (a ZIP
	// signature means XLSX).
	Format string
	// Encoding of a CSV file, as a textenc label. "" detects: a BOM decides
	// (UTF-8, UTF-16LE/BE); otherwise the first 64 KiB are checked, and are
	// UTF-8 when valid UTF-8, else Windows-1252. A file that turns out not to
	// be UTF-8 after that point is refused with the line; configure
	// "windows-1252" for it.
	Encoding string
	// Delimiter of a CSV file: ';', ',' or '\t'; 0 detects it from the
	// header line (the most frequent of the three outside quotes).
	Delimiter byte
	// Decimal separator of quantities: ',' or '.'; 0 detects it per file.
	// Thousands separators are never accepted, and a file whose values do
	// not tell which separator it uses ("1.234" only) is refused rather than
	// guessed; see the package's number policy in number.go. XLSX numbers are
	// read raw and always use '.'.
	Decimal byte
	// Columns maps logical fields (FieldItemCode, FieldOnHand, …) to the
	// header of the column that holds them, overriding the built-in Dutch
	// and English header aliases for those fields.
	Columns map[string]string
	// Sheet is the XLSX worksheet to read; "" is the first one.
	Sheet string
	// Administration is the Globe administration (company) number. Rows
	// without an administration column get it; a row whose administration
	// column differs from it is a bad row.
	Administration string
	// Location is the zone of dates without an offset; nil is time.Local.
	Location *time.Location
	// MeasuredAt is used as the measuring time when the file has no
	// measuring-date column (e.g. the time the export was received); zero
	// leaves measured_at empty.
	MeasuredAt time.Time
	// SkipBadRows publishes the good rows of a file with bad rows (the bad
	// ones are listed in Result.BadRows). By default a file with any bad row
	// is refused whole with a *BadRowsError.
	SkipBadRows bool
	// MaxBadRows caps the bad rows listed (default 50); all are counted.
	MaxBadRows int
	// MaxLineBytes bounds one CSV record (default 1 MiB); a longer one
	// refuses the file without buffering it.
	MaxLineBytes int
	// MaxXLSXBytes bounds the unzipped size of an XLSX workbook (default
	// 256 MiB), against zip bombs.
	MaxXLSXBytes int64
	// SizeHint is the size of the export in bytes when known (0: unknown).
	// It only presizes the table of items; any value reads the same.
	SizeHint int64
}

func (o *Options) defaults() error {
	if o.MaxBadRows <= 0 {
		o.MaxBadRows = 50
	}
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = 1 << 20
	}
	if o.MaxXLSXBytes <= 0 {
		o.MaxXLSXBytes = 256 << 20
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	switch o.Delimiter {
	case 0, ';', ',', '\t':
	default:
		return fmt.Errorf("stock: delimiter %q is not one of ';', ',' or tab", o.Delimiter)
	}
	switch o.Decimal {
	case 0, ',', '.':
	default:
		return fmt.Errorf("stock: decimal separator %q is not ',' or '.'", o.Decimal)
	}
	if o.Decimal != 0 && o.Decimal == o.Delimiter {
		return fmt.Errorf("stock: the decimal separator and the delimiter are both %q", o.Decimal)
	}
	switch o.Format {
	case "", "csv", "xlsx":
	default:
		return fmt.Errorf("stock: format %q is not csv or xlsx", o.Format)
	}
	return nil
}

// RowError is one bad row.
type RowError struct {
	Unit   string // "line" (CSV) or "row" (XLSX)
	Line   int    // 1-based line (CSV: where the record starts) or row number
	Column string // the header of the offending column, if any
	Value  string // the offending value, if any
	Msg    string
}

func (e *RowError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d", e.Unit, e.Line)
	if e.Column != "" {
		fmt.Fprintf(&b, ", column %q", e.Column)
	}
	b.WriteString(": ")
	if e.Value != "" || e.Column != "" {
		fmt.Fprintf(&b, "%q ", e.Value)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// BadRowsError refuses a file with bad rows (Options.SkipBadRows off).
type BadRowsError struct {
	Rows  []*RowError // the first Options.MaxBadRows of them
	Total int         // all bad rows
}

func (e *BadRowsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d bad row(s), file refused", e.Total)
	for _, r := range e.Rows {
		b.WriteString("\n  ")
		b.WriteString(r.Error())
	}
	if e.Total > len(e.Rows) {
		fmt.Fprintf(&b, "\n  … and %d more", e.Total-len(e.Rows))
	}
	return b.String()
}

// Read reads a stock export and aggregates it per administration and item.
// Errors: *HeaderError (missing or ambiguous columns), *LineTooLongError,
// *BadRowsError, an encoding error naming the line, or an error about an
// ambiguous decimal separator.
func Read(r io.Reader, opts Options) (*Result, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(r, 64<<10)
	format := opts.Format
	if format == "" {
		head, _ := br.Peek(4)
		format = "csv"
		if bytes.Equal(head, []byte("PK\x03\x04")) {
			format = "xlsx"
		}
	}
	rd := newReader(&opts)
	if format == "xlsx" {
		if err := rd.readXLSX(br); err != nil {
			return nil, err
		}
	} else if err := rd.readCSV(br); err != nil {
		return nil, err
	}
	return rd.finish()
}

// sniffEncoding implements the automatic encoding choice of Options.Encoding.
func sniffEncoding(br *bufio.Reader) string {
	prefix, _ := br.Peek(64 << 10)
	if label, _ := textenc.Sniff(prefix); label != "" {
		return ""
	}
	// Ignore a multi-byte character cut off by the end of the peek.
	for i := 1; i <= 3 && i <= len(prefix); i++ {
		c := prefix[len(prefix)-i]
		if c&0xC0 != 0x80 { // start byte or ASCII
			if !utf8.FullRune(prefix[len(prefix)-i:]) {
				prefix = prefix[:len(prefix)-i]
			}
			break
		}
	}
	if utf8.Valid(prefix) {
		return "utf-8"
	}
	return "windows-1252"
}

func (rd *reader) readCSV(raw *bufio.Reader) error {
	label := rd.opts.Encoding
	if label == "" {
		label = sniffEncoding(raw)
	}
	dec, err := textenc.Decode(raw, label)
	if err != nil {
		return fmt.Errorf("stock: %w", err)
	}
	br := bufio.NewReaderSize(dec, 64<<10)
	delim := rd.opts.Delimiter
	if delim == 0 {
		peek, _ := br.Peek(br.Size())
		peek = bytes.TrimLeft(peek, "\r\n")
		if i := bytes.IndexByte(peek, '\n'); i >= 0 {
			peek = peek[:i]
		}
		if delim = detectDelimiter(peek); delim == 0 {
			delim = ';'
		}
	}
	sp := newSplitter(br, delim, rd.opts.MaxLineBytes)
	wrap := func(err error) error {
		var de *textenc.DecodeError
		if errors.As(err, &de) {
			return fmt.Errorf("stock: line %d: %w", sp.numLine+1, err)
		}
		var lt *LineTooLongError
		if errors.As(err, &lt) {
			return err
		}
		return fmt.Errorf("stock: after line %d: %w", sp.numLine, err)
	}
	// Header.
	var hdr []string
	for hdr == nil {
		fields, err := sp.next()
		if err == io.EOF {
			return errors.New("stock: the file is empty (no header row)")
		}
		var se *csvSyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("stock: header: %w", err)
		}
		if err != nil {
			return wrap(err)
		}
		for _, f := range fields {
			hdr = append(hdr, strings.TrimSpace(string(f)))
		}
	}
	if err := rd.header(hdr, delim, true); err != nil {
		return err
	}
	stop := rd.pipeline()
	defer stop()
	var se *csvSyntaxError
	for {
		fields, err := sp.next()
		if err == nil {
			rd.row(sp.start, fields)
			continue
		}
		if err == io.EOF {
			stop()
			return nil
		}
		if errors.As(err, &se) {
			msg := fmt.Sprintf("byte %d: %v", se.Column, se.Err)
			if se.Line != se.StartLine {
				msg = fmt.Sprintf("the quoted field starting here goes wrong at line %d, byte %d: %v", se.Line, se.Column, se.Err)
			}
			rd.bad(se.StartLine, "", "", msg)
			continue
		}
		return wrap(err)
	}
}

// batch carries parsed rows from the parsing goroutine to the aggregating
// one.
type batch struct {
	rows []parsedRow
	buf  []byte // item codes
}

const batchRows = 4096

// pipeline makes row() hand parsed rows to an aggregating goroutine, so
// parsing and aggregation use both cores. The returned stop function
// flushes, waits for the aggregator and must be called before the result is
// used.
func (rd *reader) pipeline() (stop func()) {
	full := make(chan *batch, 3)
	free := make(chan *batch, 4)
	for range 4 {
		free <- &batch{rows: make([]parsedRow, 0, batchRows), buf: make([]byte, 0, batchRows*16)}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for b := range full {
			for i := range b.rows {
				pr := &b.rows[i]
				rd.res.add(pr, b.buf[pr.itemOff:pr.itemOff+pr.itemLen], &rd.res.badAgg)
			}
			b.rows, b.buf = b.rows[:0], b.buf[:0]
			free <- b
		}
	}()
	cur := <-free
	rd.sink = func(pr *parsedRow, item []byte) {
		pr.itemOff, pr.itemLen = len(cur.buf), len(item)
		cur.buf = append(cur.buf, item...)
		cur.rows = append(cur.rows, *pr)
		if len(cur.rows) == batchRows {
			full <- cur
			cur = <-free
		}
	}
	stopped := false
	return func() {
		if stopped {
			return
		}
		stopped = true
		rd.sink = nil
		if len(cur.rows) > 0 {
			full <- cur
		}
		close(full)
		<-done
	}
}
