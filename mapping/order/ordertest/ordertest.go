// Package ordertest builds order workbooks for tests and samples: the same
// rows as a CSV order file, written as an .xlsx the way Excel would store
// them (numbers as number cells, dates as date cells).
package ordertest

import (
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// XLSXFromCSV converts a ';'-separated CSV order file into an .xlsx workbook
// with one sheet named "Orders". Cells in the quantity, price and
// discount_percent columns, and all-digit debtor codes, become number cells;
// YYYY-MM-DD cells in the delivery date columns become date cells; everything
// else stays text.
func XLSXFromCSV(csvText string) ([]byte, error) {
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(csvText, "\uFEFF")))
	r.Comma = ';'
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Orders"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		return nil, err
	}
	var header []string
	for i, row := range rows {
		if i == 0 {
			header = row
		}
		for j, v := range row {
			ref, err := excelize.CoordinatesToCellName(j+1, i+1)
			if err != nil {
				return nil, err
			}
			if err := setCell(f, sheet, ref, header[min(j, len(header)-1)], v, i == 0, dateStyle); err != nil {
				return nil, fmt.Errorf("%s: %w", ref, err)
			}
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func setCell(f *excelize.File, sheet, ref, column, v string, header bool, dateStyle int) error {
	if v == "" {
		return nil
	}
	if !header {
		switch strings.ToLower(column) {
		case "quantity", "price", "discount_percent":
			if x, err := strconv.ParseFloat(v, 64); err == nil && !strings.ContainsAny(v, "eE") {
				return f.SetCellFloat(sheet, ref, x, -1, 64)
			}
		case "debtor_code", "invoice_debtor_code":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && !strings.HasPrefix(v, "0") {
				return f.SetCellInt(sheet, ref, n)
			}
		case "delivery_date", "line_delivery_date":
			if t, err := time.Parse(time.DateOnly, v); err == nil {
				if err := f.SetCellValue(sheet, ref, t); err != nil {
					return err
				}
				return f.SetCellStyle(sheet, ref, ref, dateStyle)
			}
		}
	}
	return f.SetCellStr(sheet, ref, v)
}
