package order

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// text is a JSON scalar read as text: a string, or a number kept as its
// literal ("4.95", "1e3"), so numbers never pass through float64. null is
// absent. Any other JSON type is remembered in bad and reported by the
// validation instead of aborting the whole file.
type text struct {
	s   string
	bad string // "a boolean", "an object", "an array"; "" when fine
}

func (t *text) UnmarshalJSON(b []byte) error {
	switch b[0] {
	case '"':
		if bytes.IndexByte(b, '\\') < 0 {
			// No escapes: the document was checked to be UTF-8 and valid
			// JSON, so the bytes between the quotes are the string.
			t.s = string(b[1 : len(b)-1])
		} else {
			// The syntax was checked; this cannot fail.
			_ = json.Unmarshal(b, &t.s)
		}
	case 'n':
		t.s = ""
	case 't', 'f':
		t.bad = "a boolean"
	case '{':
		t.bad = "an object"
	case '[':
		t.bad = "an array"
	default:
		t.s = string(b)
	}
	return nil
}

type jsonAddress struct {
	Name     text `json:"name"`
	Contact  text `json:"contact"`
	Line1    text `json:"line1"`
	Line2    text `json:"line2"`
	Postcode text `json:"postcode"`
	City     text `json:"city"`
	Country  text `json:"country"`
	Phone    text `json:"phone"`
	Email    text `json:"email"`
}

type jsonLine struct {
	ItemCode        text `json:"item_code"`
	Quantity        text `json:"quantity"`
	Unit            text `json:"unit"`
	Price           text `json:"price"`
	DiscountPercent text `json:"discount_percent"`
	Warehouse       text `json:"warehouse"`
	DeliveryDate    text `json:"delivery_date"`
	Note            text `json:"note"`
}

type jsonOrder struct {
	OrderNumber text `json:"order_number"`
	Customer    struct {
		DebtorCode text `json:"debtor_code"`
		Contact    text `json:"contact"`
		Email      text `json:"email"`
	} `json:"customer"`
	OrderedAt         text `json:"ordered_at"`
	YourReference     text `json:"your_reference"`
	Currency          text `json:"currency"`
	InvoiceDebtorCode text `json:"invoice_debtor_code"`
	PaymentCondition  text `json:"payment_condition"`
	Delivery          struct {
		Date      text         `json:"date"`
		Method    text         `json:"method"`
		Warehouse text         `json:"warehouse"`
		Address   *jsonAddress `json:"address"`
	} `json:"delivery"`
	Note  text       `json:"note"`
	Lines []jsonLine `json:"lines"`
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// checkUTF8 refuses bytes that are not UTF-8, naming the first bad byte.
func checkUTF8(data []byte) error {
	if utf8.Valid(data) {
		return nil
	}
	off := 0
	for off < len(data) {
		r, n := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		off += n
	}
	line, col := lineCol(data, off)
	return fmt.Errorf("byte 0x%02X at byte offset %d (line %d, column %d) is not UTF-8; save the file as UTF-8", data[off], off, line, col)
}

// lineCol converts a byte offset into a 1-based line and column (columns
// count bytes).
func lineCol(data []byte, off int) (int, int) {
	off = min(off, len(data))
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	col := off - bytes.LastIndexByte(data[:off], '\n')
	return line, col
}

func parseJSON(data []byte, opt Options) (Result, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if err := checkUTF8(data); err != nil {
		return Result{}, err
	}
	start := skipSpace(data, 0)
	if start == len(data) {
		return Result{}, errors.New("the file is empty; expected an order object or an array of order objects")
	}
	// Check the syntax of the whole document first: json.Unmarshal reports
	// absolute offsets, the streaming decoder below does not.
	var whole json.RawMessage
	if err := json.Unmarshal(data, &whole); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off := int(se.Offset) - 1 // the offending byte
			if off >= len(data)-1 && strings.Contains(se.Error(), "unexpected end") {
				line, col := lineCol(data, len(data))
				return Result{}, fmt.Errorf("malformed JSON: the file ends early at line %d, column %d (truncated?)", line, col)
			}
			line, col := lineCol(data, max(off, 0))
			return Result{}, fmt.Errorf("malformed JSON at line %d, column %d: %v", line, col, se)
		}
		return Result{}, fmt.Errorf("malformed JSON: %v", err)
	}
	syntaxErr := func(err error) error { return fmt.Errorf("malformed JSON: %v", err) }

	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type element struct {
		raw json.RawMessage
		off int
	}
	var elems []element
	switch data[start] {
	case '{':
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return Result{}, syntaxErr(err)
		}
		elems = append(elems, element{raw, start})
	case '[':
		if _, err := dec.Token(); err != nil {
			return Result{}, syntaxErr(err)
		}
		for dec.More() {
			off := skipSpaceComma(data, int(dec.InputOffset()))
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return Result{}, syntaxErr(err)
			}
			elems = append(elems, element{raw, off})
		}
		if _, err := dec.Token(); err != nil {
			return Result{}, syntaxErr(err)
		}
		if len(elems) == 0 {
			return Result{}, errors.New("the array holds no orders")
		}
	default:
		line, col := lineCol(data, start)
		return Result{}, fmt.Errorf("malformed JSON at line %d, column %d: expected an order object ({) or an array of them ([)", line, col)
	}
	raws := make([]rawOrder, 0, len(elems))
	totalLines := 0
	for i, e := range elems {
		line, _ := lineCol(data, e.off)
		r := rawOrder{json: true, pos: fmt.Sprintf("object %d at line %d", i+1, line)}
		if e.raw[0] != '{' {
			r.problems = append(r.problems, Problem{Pos: r.pos, Message: "is not an order object; each array element must be {...}"})
			raws = append(raws, r)
			continue
		}
		var jo jsonOrder
		if err := json.Unmarshal(e.raw, &jo); err != nil {
			// Only type errors remain (the syntax was checked): a field of
			// the wrong JSON type. Unmarshal goes on after them.
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				r.problems = append(r.problems, Problem{Field: te.Field, Pos: r.pos,
					Message: fmt.Sprintf("is a JSON %s, expected %s", te.Value, jsonKind(te.Type.Kind().String()))})
			} else {
				r.problems = append(r.problems, Problem{Pos: r.pos, Message: err.Error()})
			}
		}
		r.fromJSON(&jo)
		for j := range r.problems {
			r.problems[j].Order = r.h[hNumber]
		}
		totalLines += len(r.lines)
		if totalLines > opt.MaxLines {
			return Result{}, fmt.Errorf("more than %d order lines in one file; split it into smaller files", opt.MaxLines)
		}
		raws = append(raws, r)
	}
	return finish(raws), nil
}

func jsonKind(k string) string {
	switch k {
	case "struct", "ptr":
		return "an object"
	case "slice":
		return "an array"
	}
	return "a " + k
}

// fromJSON copies the decoded fields into r and records wrongly typed
// scalars as problems.
func (r *rawOrder) fromJSON(jo *jsonOrder) {
	set := func(i int, t text) {
		r.h[i] = t.s
		if t.bad != "" {
			r.problems = append(r.problems, Problem{Field: jsonHeaderNames[i], Pos: r.pos,
				Message: fmt.Sprintf("is %s; expected a string", t.bad)})
		}
	}
	set(hNumber, jo.OrderNumber)
	set(hDebtor, jo.Customer.DebtorCode)
	set(hContact, jo.Customer.Contact)
	set(hEmail, jo.Customer.Email)
	set(hOrderedAt, jo.OrderedAt)
	set(hYourRef, jo.YourReference)
	set(hCurrency, jo.Currency)
	set(hInvoiceDebtor, jo.InvoiceDebtorCode)
	set(hPayment, jo.PaymentCondition)
	set(hDelDate, jo.Delivery.Date)
	set(hDelMethod, jo.Delivery.Method)
	set(hDelWarehouse, jo.Delivery.Warehouse)
	if a := jo.Delivery.Address; a != nil {
		set(hAddrName, a.Name)
		set(hAddrContact, a.Contact)
		set(hAddrLine1, a.Line1)
		set(hAddrLine2, a.Line2)
		set(hAddrPostcode, a.Postcode)
		set(hAddrCity, a.City)
		set(hAddrCountry, a.Country)
		set(hAddrPhone, a.Phone)
		set(hAddrEmail, a.Email)
	}
	set(hNote, jo.Note)
	r.lines = make([]rawLine, len(jo.Lines))
	for i := range jo.Lines {
		jl := &jo.Lines[i]
		rl := &r.lines[i]
		rl.pos = fmt.Sprintf("%s, lines entry %d", r.pos, i+1)
		for j, t := range [nLine]text{jl.ItemCode, jl.Quantity, jl.Unit, jl.Price, jl.DiscountPercent, jl.Warehouse, jl.DeliveryDate, jl.Note} {
			rl.f[j] = t.s
			if t.bad != "" {
				r.problems = append(r.problems, Problem{Line: i + 1, Field: jsonLineNames[j], Pos: r.pos,
					Message: fmt.Sprintf("is %s; expected a string or a number", t.bad)})
			}
		}
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

func skipSpaceComma(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n', ',':
			i++
		default:
			return i
		}
	}
	return i
}
