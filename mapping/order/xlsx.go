package order

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// maxUnzipped bounds what a workbook may unpack to. A real order workbook of
// 10,000 lines unpacks to a few megabytes; more is refused as a likely zip
// bomb. archive/zip also refuses entries that inflate beyond their declared
// size, so a lying header does not get past this limit.
const maxUnzipped = 64 << 20

// dateColumns hold dates; a number cell there is an Excel serial date.
var dateColumns = map[string]bool{"ordered_at": true, "delivery_date": true, "line_delivery_date": true}

func parseXLSX(data []byte, opt Options) (Result, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit:    maxUnzipped,
		UnzipXMLSizeLimit: maxUnzipped,
	})
	if err != nil {
		switch {
		case errors.Is(err, zip.ErrFormat), errors.Is(err, excelize.ErrWorkbookFileFormat):
			return Result{}, errors.New("not an .xlsx workbook (it is not a zip archive); save it from Excel as .xlsx or export CSV")
		case strings.Contains(err.Error(), "unzip size exceeds"):
			return Result{}, fmt.Errorf("the workbook unpacks to more than %d MiB; refused as a possible zip bomb", maxUnzipped>>20)
		}
		return Result{}, fmt.Errorf("not a readable .xlsx workbook: %v", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return Result{}, errors.New("the workbook has no sheets")
	}
	sheet := sheets[0]
	rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return Result{}, fmt.Errorf("reading sheet %q: %v", sheet, err)
	}
	if len(rows) == 0 || blank(rows[0]) {
		return Result{}, fmt.Errorf("sheet %q is empty or its first row is empty; the first row must name the columns", sheet)
	}
	t, err := newTable(rows[0])
	if err != nil {
		return Result{}, fmt.Errorf("sheet %q: %w", sheet, err)
	}
	if len(rows)-1 > opt.MaxLines+1000 {
		return Result{}, fmt.Errorf("more than %d rows in sheet %q; split it into smaller files", opt.MaxLines, sheet)
	}
	date1904 := false
	if p, err := f.GetWorkbookProps(); err == nil && p.Date1904 != nil {
		date1904 = *p.Date1904
	}
	numeric := numericColumns(rows[0])
	table := make([]tableRow, 0, len(rows)-1)
	for i, cells := range rows[1:] {
		n := i + 2
		for col, isDate := range numeric {
			if col >= len(cells) || cells[col] == "" {
				continue
			}
			name, _ := excelize.CoordinatesToCellName(col+1, n)
			typ, err := f.GetCellType(sheet, name)
			if err != nil || (typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber) {
				continue // a text cell is taken as written
			}
			cells[col] = numberCell(cells[col], isDate, date1904)
		}
		table = append(table, tableRow{n: n, cells: cells})
	}
	raws, err := t.orders(table, opt)
	if err != nil {
		return Result{}, err
	}
	if len(raws) == 0 {
		return Result{}, fmt.Errorf("sheet %q has a header row but no order rows", sheet)
	}
	return finish(raws), nil
}

// numericColumns maps the columns whose number cells need converting to
// whether they hold dates.
func numericColumns(header []string) map[int]bool {
	m := make(map[int]bool)
	for col, name := range header {
		name = strings.ToLower(strings.TrimSpace(name))
		if _, known := columnIndex(name); known {
			m[col] = dateColumns[name]
		}
	}
	return m
}

func columnIndex(name string) (int, bool) {
	for i, n := range csvHeaderNames {
		if n == name {
			return i, true
		}
	}
	for i, n := range csvLineNames {
		if n == name {
			return nHeader + i, true
		}
	}
	return 0, false
}

// numberCell turns the raw value of a number cell into the text a person
// sees. Excel stores numbers as IEEE doubles, written out in decimal and at
// times with binary noise ("0.30000000000000004" for =0.1+0.2) or an exponent
// ("1E-3"). Excel shows at most 15 significant digits, so the value is
// rounded to 15 significant digits and written without exponent. This is the
// one place where a float64 is involved, and only to undo Excel's own binary
// storage; the result is parsed as an exact decimal afterwards. Dates are
// serial day numbers and become YYYY-MM-DD.
func numberCell(raw string, isDate, date1904 bool) string {
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return raw
	}
	if isDate {
		t, err := excelize.ExcelDateToTime(v, date1904)
		if err != nil {
			return raw
		}
		return t.Format("2006-01-02")
	}
	v, _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', 15, 64), 64)
	return strconv.FormatFloat(v, 'f', -1, 64)
}
