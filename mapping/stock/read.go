// Package stock reads Exact Globe stock exports (CSV or XLSX, one row per
// item per warehouse) and turns them into stock feed records (feed.Stock),
// one per administration and item, with the exchange's availability rules
// applied.
//
// Rows need not be sorted by item. Read cuts a CSV export into blocks of
// whole records and parses them on all CPUs; each row goes, as a compact
// record, to one of 256 partitions by a hash of its item, so every item's
// rows meet in one partition. The partitions are then added up on all CPUs
// (each with a small table that stays in the CPU's caches), and the items
// come out in the order of their first row in the file. Rows and items
// beyond Options.MemoryBudget go to a temporary file, so memory does not
// grow with the export: lines are bounded (Options.MaxLineBytes), fields
// are parsed in place, and a block's results are committed in file order,
// so bad rows, their numbers and the decimal-separator decisions are the
// same as reading the file row by row (see sepSummary).
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
	// TempDir is where a large export's rows and aggregates go beyond
	// MemoryBudget ("": the system's temporary folder). Result.Close
	// removes the file.
	TempDir string
	// MemoryBudget bounds the memory that rows and aggregates take
	// (default 32 MiB); beyond it they go to a temporary file, so memory
	// does not grow with the export.
	MemoryBudget int
}

func (o *Options) defaults() error {
	if o.MaxBadRows <= 0 {
		o.MaxBadRows = 50
	}
	if o.MemoryBudget <= 0 {
		o.MemoryBudget = 32 << 20
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
	var err error
	if format == "xlsx" {
		err = rd.readXLSX(br)
	} else {
		err = rd.readCSV(br)
	}
	var res *Result
	if err == nil {
		res, err = rd.finish()
	}
	if err != nil {
		// Nothing of a refused file stays behind, in memory or on disk.
		rd.rowStore.close()
		rd.res.aggs.close()
		return nil, err
	}
	return res, nil
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
	rest, line, err := rd.readBlocks(br, sp.numLine)
	if err != nil || rest == nil {
		return err
	}
	// The rest of the file, in order.
	sp = newSplitter(bufio.NewReaderSize(rest, 64<<10), delim, rd.opts.MaxLineBytes)
	sp.numLine = line
	for {
		fields, err := sp.next()
		if err == nil {
			if err := rd.rowInOrder(sp.start, fields); err != nil {
				return err
			}
			continue
		}
		if err == io.EOF {
			return nil
		}
		if !rd.seq.syntaxBad(err) {
			return wrap(err)
		}
	}
}
