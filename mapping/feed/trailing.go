package feed

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// TrailingCSV writes the CSV of a feed whose learned columns are one group
// at the end of the row (prices: the quantity breaks, customers: the
// addresses) in one pass over the records. Each row is encoded with its own
// groups into a spool file, beside how many it has; WriteCSV then writes the
// header for the most groups of any record and every row padded with empty
// cells to it. The bytes are those of a CSVWriter given the learned columns,
// without reading the records back (the CSV of a 200,000-price feed took a
// second pass of JSON decoding).
//
// Use: Write every record, Close, then WriteCSV; Remove deletes the spool.
type TrailingCSV struct {
	kind  Kind
	f     *os.File
	w     *bufio.Writer
	row   csvRow
	most  int
	width int // cells per group
	hdr   []byte
	err   error
}

// TrailingGroups reports whether a feed of kind has its learned columns in a
// trailing group (see TrailingCSV).
func TrailingGroups(kind Kind) bool { return kind == KindPrices || kind == KindCustomers }

// NewTrailingCSV returns a TrailingCSV for records of kind (prices or
// customers) with its spool in dir.
func NewTrailingCSV(kind Kind, dir string) (*TrailingCSV, error) {
	t := &TrailingCSV{kind: kind, row: csvRow{b: make([]byte, 0, 1024)}}
	switch kind {
	case KindPrices:
		t.width = 4
	case KindCustomers:
		t.width = 6
	default:
		return nil, fmt.Errorf("feed: a %s CSV has no trailing group of columns", kind)
	}
	f, err := os.CreateTemp(dir, ".csv-rows-*")
	if err != nil {
		return nil, err
	}
	t.f, t.w = f, bufio.NewWriterSize(f, 256<<10)
	return t, nil
}

// groups is how many trailing groups rec has, and the columns that are
// exactly those.
func (t *TrailingCSV) groups(rec Record) (int, Columns, error) {
	switch r := rec.(type) {
	case *Price:
		if t.kind == KindPrices {
			return len(r.Breaks), Columns{Breaks: len(r.Breaks)}, nil
		}
	case *Customer:
		if t.kind == KindCustomers {
			return len(r.Addresses), Columns{Addresses: len(r.Addresses)}, nil
		}
	}
	return 0, Columns{}, fmt.Errorf("feed: %s record written to a %s CSV", rec.Kind(), t.kind)
}

// Write encodes rec's row into the spool.
func (t *TrailingCSV) Write(rec Record) error {
	if t.err != nil {
		return t.err
	}
	g, cols, err := t.groups(rec)
	if err != nil {
		return err
	}
	t.row.b, t.row.n = t.row.b[:0], 0
	if err := cells(rec, &cols, &t.row); err != nil {
		return fmt.Errorf("feed: %s %q: %w", t.kind, rec.Key(), err)
	}
	t.most = max(t.most, g)
	t.hdr = binary.AppendUvarint(binary.AppendUvarint(t.hdr[:0], uint64(len(t.row.b))), uint64(g))
	if _, t.err = t.w.Write(t.hdr); t.err == nil {
		_, t.err = t.w.Write(t.row.b)
	}
	return t.err
}

// Columns are the learned columns: the most groups of any record.
func (t *TrailingCSV) Columns() Columns {
	if t.kind == KindPrices {
		return Columns{Breaks: t.most}
	}
	return Columns{Addresses: t.most}
}

// Close ends the records (it flushes the spool; WriteCSV follows).
func (t *TrailingCSV) Close() error {
	if t.err == nil {
		t.err = t.w.Flush()
	}
	return t.err
}

// WriteCSV writes the CSV: the header for the learned columns, then every
// row padded to them.
func (t *TrailingCSV) WriteCSV(out io.Writer) error {
	if err := t.Close(); err != nil {
		return err
	}
	if _, err := t.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	w := bufio.NewWriterSize(out, 256<<10)
	t.row.b, t.row.n = t.row.b[:0], 0
	for _, h := range header(t.kind, t.Columns()) {
		t.row.str(h)
	}
	w.Write(append(t.row.b, '\n'))
	r := bufio.NewReaderSize(t.f, 256<<10)
	row := io.LimitedReader{R: r}
	for {
		n, err := binary.ReadUvarint(r)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("feed: reading back the CSV rows: %w", err)
		}
		g, err := binary.ReadUvarint(r)
		if err != nil || g > uint64(t.most) || n > math.MaxInt64 {
			return fmt.Errorf("feed: the CSV rows' spool is damaged")
		}
		// Copied through, not read whole: a row has no limit of its own
		// (a CSVWriter has none), nor does it take memory again.
		row.N = int64(n)
		if _, err := w.ReadFrom(&row); err != nil {
			return fmt.Errorf("feed: copying the CSV rows from the spool: %w", err)
		}
		if row.N != 0 {
			return fmt.Errorf("feed: reading back the CSV rows: %w", io.ErrUnexpectedEOF)
		}
		for range (t.most - int(g)) * t.width {
			w.WriteByte(';')
		}
		if err := w.WriteByte('\n'); err != nil {
			return err
		}
	}
	return w.Flush()
}

// Remove deletes the spool.
func (t *TrailingCSV) Remove() error {
	t.f.Close()
	return os.Remove(t.f.Name())
}
