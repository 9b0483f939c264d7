package stock

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"
)

// readXLSX reads the first (or the named) worksheet through excelize's
// row iterator, with raw cell values: numbers as stored ("1234.5"), not as
// formatted ("1.234,50"), so number formats and the reader's locale do not
// matter. Date cells are serial numbers and converted. The workbook itself
// (compressed) is held in memory by excelize; its unzipped size is bounded
// by Options.MaxXLSXBytes.
func (rd *reader) readXLSX(r io.Reader) error {
	rd.xlsx, rd.unit = true, "row"
	xmlLimit := min(rd.opts.MaxXLSXBytes, 16<<20)
	f, err := excelize.OpenReader(r, excelize.Options{UnzipSizeLimit: rd.opts.MaxXLSXBytes, UnzipXMLSizeLimit: xmlLimit})
	if err != nil {
		return fmt.Errorf("stock: not a readable XLSX workbook: %w", err)
	}
	defer f.Close()
	if p, err := f.GetWorkbookProps(); err == nil && p.Date1904 != nil {
		rd.date1904 = *p.Date1904
	}
	sheets := f.GetSheetList()
	sheet := rd.opts.Sheet
	if sheet == "" {
		if len(sheets) == 0 {
			return fmt.Errorf("stock: the workbook has no worksheet")
		}
		sheet = sheets[0]
	} else if !slices.Contains(sheets, sheet) {
		return fmt.Errorf("stock: the workbook has no worksheet %q (sheets: %q)", sheet, sheets)
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return fmt.Errorf("stock: worksheet %q: %w", sheet, err)
	}
	defer rows.Close()
	rowNum := 0
	var fields [][]byte
	for rows.Next() {
		rowNum++
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return fmt.Errorf("stock: worksheet %q row %d: %w", sheet, rowNum, err)
		}
		empty := true
		for _, c := range cells {
			if strings.TrimSpace(c) != "" {
				empty = false
				break
			}
		}
		if empty {
			continue
		}
		if rd.hdr == nil {
			hdr := make([]string, len(cells))
			for i, c := range cells {
				hdr[i] = strings.TrimSpace(c)
			}
			if err := rd.header(hdr, 0, false); err != nil {
				return fmt.Errorf("%w (worksheet %q row %d)", err, sheet, rowNum)
			}
			continue
		}
		fields = fields[:0]
		for _, c := range cells {
			fields = append(fields, []byte(c))
		}
		if err := rd.rowInOrder(rowNum, fields); err != nil {
			return err
		}
	}
	if err := rows.Error(); err != nil {
		return fmt.Errorf("stock: worksheet %q: %w", sheet, err)
	}
	if rd.hdr == nil {
		return fmt.Errorf("stock: worksheet %q is empty (no header row)", sheet)
	}
	return nil
}
