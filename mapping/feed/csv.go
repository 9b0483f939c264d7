package feed

import (
	"bufio"
	"fmt"
	"io"

	"globex/internal/decimal"
)

// CSVWriter writes a CSV feed as CONTRACT §5 fixes it: UTF-8 without BOM,
// ';' separated, '.' decimals, a header row, RFC 4180 quoting (a field is
// quoted when it contains ';', '"', CR or LF, or starts or ends with a
// space; quotes are doubled), CRLF-free "\n" line ends. Booleans are
// "true"/"false", absent optional values empty cells.
type CSVWriter struct {
	kind   Kind
	cols   Columns
	w      *bufio.Writer
	row    csvRow
	header bool
	err    error
}

// NewCSVWriter returns a CSV writer for records of kind with the flattened
// columns cols (see Columns). The header is written with the first record,
// or by Close for an empty feed.
func NewCSVWriter(w io.Writer, kind Kind, cols Columns) *CSVWriter {
	return &CSVWriter{kind: kind, cols: cols.normalized(), w: bufio.NewWriterSize(w, 256<<10),
		row: csvRow{b: make([]byte, 0, 1024)}}
}

func (c *CSVWriter) writeHeader() {
	c.header = true
	c.row.b = c.row.b[:0]
	c.row.n = 0
	for _, h := range header(c.kind, c.cols) {
		c.row.str(h)
	}
	c.row.b = append(c.row.b, '\n')
	_, c.err = c.w.Write(c.row.b)
}

// Write appends rec as one row. A record of another kind, or one that does
// not fit the columns, is an error (wrapping ErrUnknownColumn for the
// latter) and nothing is written for it.
func (c *CSVWriter) Write(rec Record) error {
	if c.err != nil {
		return c.err
	}
	if rec.Kind() != c.kind {
		return fmt.Errorf("feed: %s record written to a %s CSV", rec.Kind(), c.kind)
	}
	if !c.header {
		if c.writeHeader(); c.err != nil {
			return c.err
		}
	}
	c.row.b = c.row.b[:0]
	c.row.n = 0
	if err := cells(rec, &c.cols, &c.row); err != nil {
		return fmt.Errorf("feed: %s %q: %w", c.kind, rec.Key(), err)
	}
	c.row.b = append(c.row.b, '\n')
	_, c.err = c.w.Write(c.row.b)
	return c.err
}

// Close writes the header if no record was written, and flushes.
func (c *CSVWriter) Close() error {
	if c.err != nil {
		return c.err
	}
	if !c.header {
		if c.writeHeader(); c.err != nil {
			return c.err
		}
	}
	c.err = c.w.Flush()
	return c.err
}

// csvRow appends the cells of one row; it implements sink.
type csvRow struct {
	b     []byte
	n     int
	plain stockStrings // see stockRow
}

func (r *csvRow) sep() {
	if r.n > 0 {
		r.b = append(r.b, ';')
	}
	r.n++
}

func (r *csvRow) str(s string) {
	r.sep()
	r.b = AppendCSVField(r.b, s, ';')
}

func (r *csvRow) dec(d decimal.Dec) {
	r.sep()
	r.b = appendDec(r.b, d)
}

func (r *csvRow) optDec(d *decimal.Dec) {
	r.sep()
	if d != nil {
		r.b = appendDec(r.b, *d)
	}
}

func (r *csvRow) boolean(v bool) {
	r.sep()
	if v {
		r.b = append(r.b, "true"...)
	} else {
		r.b = append(r.b, "false"...)
	}
}

// AppendCSVField appends s as one RFC 4180 field for the delimiter delim,
// quoted when needed.
func AppendCSVField(b []byte, s string, delim byte) []byte {
	need := len(s) > 0 && (s[0] == ' ' || s[0] == '\t' || s[len(s)-1] == ' ' || s[len(s)-1] == '\t')
	if !need {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c == delim || c == '"' || c == '\n' || c == '\r' {
				need = true
				break
			}
		}
	}
	if !need {
		return append(b, s...)
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, s[start:i+1]...)
			b = append(b, '"')
			start = i + 1
		}
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
