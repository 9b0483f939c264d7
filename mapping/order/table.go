package order

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"globex/internal/textenc"
)

// CSV and XLSX order files have a header row and one row per order line.
// Rows are grouped by order_number; the rows of one order must be adjacent.
// An order number that comes back after another order is a second order with
// the same number, and both are refused as duplicates. The order's own
// columns (everything but the line columns) are taken from the order's first
// row; later rows must repeat the same value or leave the cell empty.

// requiredColumns must be in the header of every CSV or XLSX order file.
var requiredColumns = []string{"order_number", "debtor_code", "item_code", "quantity"}

// table is the column layout found in a header row.
type table struct {
	header [nHeader]int // column index of each header field, -1 when absent
	line   [nLine]int
	width  int
}

func newTable(header []string) (*table, error) {
	t := &table{width: len(header)}
	for i := range t.header {
		t.header[i] = -1
	}
	for i := range t.line {
		t.line[i] = -1
	}
	index := make(map[string]int, nHeader+nLine)
	for i, n := range csvHeaderNames {
		index[n] = i
	}
	for i, n := range csvLineNames {
		index[n] = nHeader + i
	}
	seen := make(map[string]int, len(header))
	for col, name := range header {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		if prev, dup := seen[name]; dup {
			return nil, fmt.Errorf("column %q appears twice in the header (columns %d and %d)", name, prev+1, col+1)
		}
		seen[name] = col
		f, ok := index[name]
		switch {
		case !ok: // unknown columns are ignored, like unknown JSON fields
		case f < nHeader:
			t.header[f] = col
		default:
			t.line[f-nHeader] = col
		}
	}
	var missing []string
	for _, n := range requiredColumns {
		if _, ok := seen[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the header row lacks the required column(s) %s; the first row must name the columns, e.g. order_number;debtor_code;item_code;quantity",
			strings.Join(missing, ", "))
	}
	return t, nil
}

// tableRow is one data row and its 1-based row number in the file.
type tableRow struct {
	n     int
	cells []string
}

func cell(cells []string, col int) string {
	if col < 0 || col >= len(cells) {
		return ""
	}
	return cells[col]
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// orders groups the data rows into raw orders.
func (t *table) orders(rows []tableRow, opt Options) ([]rawOrder, error) {
	var raws []rawOrder
	var cur *rawOrder
	first, last := 0, 0 // row numbers of the current order
	closeCur := func() {
		if cur == nil {
			return
		}
		if first == last {
			cur.pos = fmt.Sprintf("row %d", first)
		} else {
			cur.pos = fmt.Sprintf("rows %d-%d", first, last)
		}
		for i := range cur.problems {
			if cur.problems[i].Pos == "" {
				cur.problems[i].Pos = cur.pos
			}
		}
		raws = append(raws, *cur)
		cur = nil
	}
	lines := 0
	for _, row := range rows {
		if blank(row.cells) {
			continue
		}
		lines++
		if lines > opt.MaxLines {
			return nil, fmt.Errorf("more than %d order lines in one file; split it into smaller files", opt.MaxLines)
		}
		rowPos := fmt.Sprintf("row %d", row.n)
		number := strings.TrimSpace(cell(row.cells, t.header[hNumber]))
		if cur == nil || number == "" || number != strings.TrimSpace(cur.h[hNumber]) {
			closeCur()
			cur = &rawOrder{}
			first = row.n
			for i, col := range t.header {
				cur.h[i] = cell(row.cells, col)
			}
		} else {
			for i, col := range t.header {
				v := strings.TrimSpace(cell(row.cells, col))
				if v != "" && v != strings.TrimSpace(cur.h[i]) {
					cur.problems = append(cur.problems, Problem{Order: number, Field: csvHeaderNames[i], Pos: rowPos,
						Message: fmt.Sprintf("is %q here but %q on row %d, the order's first row; repeat the order's value on every row or leave it empty after the first", v, strings.TrimSpace(cur.h[i]), first)})
				}
			}
		}
		last = row.n
		if len(row.cells) > t.width && !blank(row.cells[t.width:]) {
			cur.problems = append(cur.problems, Problem{Order: number, Line: len(cur.lines) + 1, Pos: rowPos,
				Message: fmt.Sprintf("the row has %d cells but the header only %d columns; a separator or quote is probably misplaced", len(row.cells), t.width)})
		}
		var rl rawLine
		rl.pos = rowPos
		for i, col := range t.line {
			rl.f[i] = cell(row.cells, col)
		}
		cur.lines = append(cur.lines, rl)
	}
	closeCur()
	return raws, nil
}

func parseCSV(data []byte, opt Options) (Result, error) {
	data, err := csvText(data)
	if err != nil {
		return Result{}, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return Result{}, errors.New("the file is empty; expected a header row and one row per order line")
	}
	comma, err := detectComma(data)
	if err != nil {
		return Result{}, err
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = comma
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return Result{}, csvError(err)
	}
	t, err := newTable(header)
	if err != nil {
		return Result{}, err
	}
	var rows []tableRow
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Result{}, csvError(err)
		}
		line, _ := r.FieldPos(0)
		rows = append(rows, tableRow{n: line, cells: rec})
		if len(rows) > opt.MaxLines+1000 { // blank rows do not count as lines, but bound them too
			return Result{}, fmt.Errorf("more than %d rows in one file; split it into smaller files", opt.MaxLines)
		}
	}
	raws, err := t.orders(rows, opt)
	if err != nil {
		return Result{}, err
	}
	if len(raws) == 0 {
		return Result{}, errors.New("the file has a header row but no order rows")
	}
	return finish(raws), nil
}

// csvText returns a CSV file's text as UTF-8. Excel on Dutch and Belgian
// Windows saves "CSV" in Windows-1252 (and "Unicode text" in UTF-16 with a
// byte order mark), so a file without a UTF-8 byte order mark whose bytes
// are not UTF-8 is read as Windows-1252 unless it also holds UTF-8
// characters of Western text (é, ß, €, “”): then it is damaged UTF-8, and
// refused with the first bad byte.
// (A Windows-1252 "É”" happens to be valid UTF-8 for "ɔ", which is why only
// plausible characters count as evidence.)
func csvText(data []byte) ([]byte, error) {
	if label, _ := textenc.Sniff(data); strings.HasPrefix(label, "utf-16") {
		return decodeAll(data, "", "UTF-16")
	}
	data, bom := bytes.CutPrefix(data, utf8BOM)
	if utf8.Valid(data) {
		return data, nil
	}
	if bom { // declared UTF-8 (Excel's "CSV UTF-8"): damaged
		return nil, checkUTF8(data)
	}
	for i := 0; i < len(data); {
		if data[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(data[i:])
		if n > 1 && westernRune(r) { // a UTF-8 character of Western text: damaged UTF-8
			return nil, checkUTF8(data)
		}
		i += n
	}
	out, err := decodeAll(data, "windows-1252", "Windows-1252")
	if de := (*textenc.DecodeError)(nil); errors.As(err, &de) && errors.Is(err, textenc.ErrUndefinedByte) {
		line, col := lineCol(data, int(de.Offset))
		return nil, fmt.Errorf("byte 0x%02X at byte offset %d (line %d, column %d) is neither UTF-8 nor Windows-1252; save the file as UTF-8", data[de.Offset], de.Offset, line, col)
	}
	return out, err
}

// decodeAll decodes data from the encoding label ("": by its byte order
// mark) to UTF-8.
func decodeAll(data []byte, label, name string) ([]byte, error) {
	dec, err := textenc.Decode(bytes.NewReader(data), label)
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(dec)
	if err != nil {
		return nil, fmt.Errorf("reading the file as %s: %w", name, err)
	}
	return out, nil
}

// westernRune reports the characters of Western European text that a
// UTF-8 file holds beyond ASCII: Latin-1 and Latin Extended-A letters, the
// euro sign and typographic punctuation.
func westernRune(r rune) bool {
	return r >= 0xA0 && r <= 0x17F || r == '€' || r >= 0x2010 && r <= 0x203A
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("malformed CSV at line %d, column %d: %v", pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("malformed CSV: %v", err)
}

// detectComma picks ';' or ',' from the header row: whichever occurs more
// often outside quotes ("order_number;debtor_code;…").
func detectComma(data []byte) (rune, error) {
	semi, comma := 0, 0
	quoted := false
	for _, c := range data {
		if c == '"' {
			quoted = !quoted
		}
		if quoted {
			continue
		}
		if c == '\n' {
			break
		}
		switch c {
		case ';':
			semi++
		case ',':
			comma++
		}
	}
	switch {
	case semi == 0 && comma == 0:
		return 0, errors.New("the header row has no ';' or ',' between column names; expected e.g. order_number;debtor_code;item_code;quantity")
	case semi >= comma:
		return ';', nil
	default:
		return ',', nil
	}
}
