package feed

import (
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"

	"globex/internal/decimal"
)

// XLSXWriter writes a feed as one worksheet ("Sheet1") through excelize's
// StreamWriter: a header row, then one row per record, with the same
// columns as the CSV feed. Decimals of up to 15 significant digits are
// numeric cells (a float64 holds them exactly and Excel shows them as
// written); longer ones are text cells, so no digit is ever lost. The
// workbook is assembled on Close, which writes it to w; excelize keeps rows
// beyond 16 MB in a temporary file, not in memory.
type XLSXWriter struct {
	kind Kind
	cols Columns
	w    io.Writer
	f    *excelize.File
	sw   *excelize.StreamWriter
	row  xlsxRow
	n    int
	err  error
}

// NewXLSXWriter returns an XLSX writer for records of kind with columns cols.
func NewXLSXWriter(w io.Writer, kind Kind, cols Columns) (*XLSXWriter, error) {
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("feed: xlsx: %w", err)
	}
	x := &XLSXWriter{kind: kind, cols: cols.normalized(), w: w, f: f, sw: sw}
	h := header(kind, x.cols)
	vals := make([]any, len(h))
	for i, s := range h {
		vals[i] = s
	}
	if err := sw.SetRow("A1", vals); err != nil {
		f.Close()
		return nil, fmt.Errorf("feed: xlsx header: %w", err)
	}
	x.n = 1
	return x, nil
}

// Write appends rec as one row.
func (x *XLSXWriter) Write(rec Record) error {
	if x.err != nil {
		return x.err
	}
	if rec.Kind() != x.kind {
		return fmt.Errorf("feed: %s record written to a %s XLSX", rec.Kind(), x.kind)
	}
	x.row.v = x.row.v[:0]
	if err := cells(rec, &x.cols, &x.row); err != nil {
		return fmt.Errorf("feed: %s %q: %w", x.kind, rec.Key(), err)
	}
	x.n++
	cell, err := excelize.CoordinatesToCellName(1, x.n)
	if err == nil {
		err = x.sw.SetRow(cell, x.row.v)
	}
	if err != nil {
		x.err = fmt.Errorf("feed: xlsx row %d: %w", x.n, err)
	}
	return x.err
}

// Close finishes the workbook and writes it to w.
func (x *XLSXWriter) Close() error {
	defer x.f.Close()
	if x.err != nil {
		return x.err
	}
	if err := x.sw.Flush(); err != nil {
		x.err = fmt.Errorf("feed: xlsx: %w", err)
		return x.err
	}
	if _, err := x.f.WriteTo(x.w); err != nil {
		x.err = fmt.Errorf("feed: xlsx: %w", err)
		return x.err
	}
	x.err = fmt.Errorf("feed: xlsx writer closed")
	return nil
}

// xlsxRow collects the cells of one row; it implements sink.
type xlsxRow struct{ v []any }

func (r *xlsxRow) str(s string) { r.v = append(r.v, s) }

func (r *xlsxRow) dec(d decimal.Dec) {
	c := d.Coef()
	if c < 0 {
		c = -c
	}
	if c < 1e15 {
		f, err := strconv.ParseFloat(d.String(), 64)
		if err == nil {
			r.v = append(r.v, f)
			return
		}
	}
	r.v = append(r.v, d.String())
}

func (r *xlsxRow) optDec(d *decimal.Dec) {
	if d == nil {
		r.v = append(r.v, nil)
		return
	}
	r.dec(*d)
}

func (r *xlsxRow) boolean(v bool) { r.v = append(r.v, v) }
