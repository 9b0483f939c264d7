package order

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"globex/internal/decimal"
)

// Header fields of a raw order, in one fixed order shared by every reader.
const (
	hNumber = iota
	hDebtor
	hContact
	hEmail
	hOrderedAt
	hYourRef
	hCurrency
	hInvoiceDebtor
	hPayment
	hDelDate
	hDelMethod
	hDelWarehouse
	hAddrName
	hAddrContact
	hAddrLine1
	hAddrLine2
	hAddrPostcode
	hAddrCity
	hAddrCountry
	hAddrPhone
	hAddrEmail
	hNote
	nHeader
)

// Line fields of a raw order line.
const (
	lItem = iota
	lQuantity
	lUnit
	lPrice
	lDiscount
	lWarehouse
	lDate
	lNote
	nLine
)

// Column names of CSV and XLSX order files (CONTRACT.md §4: the JSON field
// names, flattened).
var csvHeaderNames = [nHeader]string{
	"order_number", "debtor_code", "contact", "email", "ordered_at", "your_reference", "currency",
	"invoice_debtor_code", "payment_condition", "delivery_date", "delivery_method", "delivery_warehouse",
	"delivery_name", "delivery_contact", "delivery_line1", "delivery_line2", "delivery_postcode",
	"delivery_city", "delivery_country", "delivery_phone", "delivery_email", "note",
}

var csvLineNames = [nLine]string{
	"item_code", "quantity", "unit", "price", "discount_percent", "warehouse", "line_delivery_date", "line_note",
}

// JSON paths of the same fields, for messages about JSON files.
var jsonHeaderNames = [nHeader]string{
	"order_number", "customer.debtor_code", "customer.contact", "customer.email", "ordered_at",
	"your_reference", "currency", "invoice_debtor_code", "payment_condition", "delivery.date",
	"delivery.method", "delivery.warehouse", "delivery.address.name", "delivery.address.contact",
	"delivery.address.line1", "delivery.address.line2", "delivery.address.postcode",
	"delivery.address.city", "delivery.address.country", "delivery.address.phone",
	"delivery.address.email", "note",
}

var jsonLineNames = [nLine]string{
	"item_code", "quantity", "unit", "price", "discount_percent", "warehouse", "delivery_date", "note",
}

// Globe's column lengths (globe-formats.md §1.4 and §7), in characters.
// Values are refused when longer, never cut.
var headerLimits = [nHeader]int{
	hNumber:        30,
	hDebtor:        20,
	hYourRef:       30,
	hInvoiceDebtor: 20,
	hPayment:       2,
	hDelMethod:     5,
	hDelWarehouse:  4,
	hAddrName:      50,
	hAddrContact:   50,
	hAddrLine1:     100,
	hAddrLine2:     100,
	hAddrPostcode:  20,
	hAddrCity:      100,
}

var lineLimits = [nLine]int{
	lItem:      30,
	lUnit:      5,
	lWarehouse: 4,
	lNote:      160,
}

// Header fields that are codes: no control characters, nothing XML 1.0
// forbids. Everything else is free text that the XML writer cleans.
var headerIsCode = [nHeader]bool{
	hNumber: true, hDebtor: true, hCurrency: true, hInvoiceDebtor: true, hPayment: true,
	hDelMethod: true, hDelWarehouse: true, hAddrCountry: true,
	hOrderedAt: true, hDelDate: true,
}

var lineIsCode = [nLine]bool{
	lItem: true, lQuantity: true, lUnit: true, lPrice: true, lDiscount: true, lWarehouse: true, lDate: true,
}

// rawOrder is an order as read from a file: every value still text, with the
// problems the reader already found (wrong JSON types, inconsistent CSV rows).
type rawOrder struct {
	h        [nHeader]string
	lines    []rawLine
	pos      string
	problems []Problem
	json     bool // field names in messages: JSON paths or CSV columns
}

type rawLine struct {
	f   [nLine]string
	pos string
}

func (r *rawOrder) headerName(i int) string {
	if i < 0 {
		return "lines"
	}
	if r.json {
		return jsonHeaderNames[i]
	}
	return csvHeaderNames[i]
}

func (r *rawOrder) lineName(i int) string {
	if r.json {
		return jsonLineNames[i]
	}
	return csvLineNames[i]
}

// build normalises and validates a raw order. It returns the order and the
// problems; the order is usable only when there are none.
func (r *rawOrder) build() (Order, []Problem) {
	probs := r.problems
	for i := range r.h {
		r.h[i] = strings.TrimSpace(r.h[i])
	}
	number := r.h[hNumber]
	hp := func(field int, format string, args ...any) {
		probs = append(probs, Problem{Order: number, Field: r.headerName(field), Pos: r.pos, Message: fmt.Sprintf(format, args...)})
	}
	r.h[hCurrency] = strings.ToUpper(r.h[hCurrency])
	r.h[hAddrCountry] = strings.ToUpper(r.h[hAddrCountry])

	for i, v := range r.h {
		if v == "" {
			continue
		}
		if headerIsCode[i] {
			if msg := checkCode(v); msg != "" {
				hp(i, "%s", msg)
				r.h[i] = "" // reported; the checks below skip it
				continue
			}
		}
		if limit := headerLimits[i]; limit > 0 {
			if n := utf8.RuneCountInString(v); n > limit {
				hp(i, "%s", tooLong(v, n, limit))
			}
		}
	}
	if number == "" && !hasProblem(probs, r.headerName(hNumber)) {
		hp(hNumber, "is missing; every order needs the webshop's order number")
	}
	if r.h[hDebtor] == "" && !hasProblem(probs, r.headerName(hDebtor)) {
		hp(hDebtor, "is missing; every order needs the customer's Globe debtor code")
	}
	if v := r.h[hOrderedAt]; v != "" && !validDate(v) && !validDateTime(v) {
		hp(hOrderedAt, "%q is not a date (YYYY-MM-DD) or an RFC 3339 time such as 2026-11-27T10:15:00+01:00", v)
	}
	if v := r.h[hDelDate]; v != "" && !validDate(v) {
		hp(hDelDate, "%q is not a date in the form YYYY-MM-DD, e.g. 2026-12-01", v)
	}
	if v := r.h[hCurrency]; v != "" && !isLetters(v, 3) {
		hp(hCurrency, "%q is not a three-letter currency code such as EUR", v)
	}
	hasAddress := false
	for i := hAddrName; i <= hAddrEmail; i++ {
		if r.h[i] != "" {
			hasAddress = true
		}
	}
	if hasAddress {
		switch c := r.h[hAddrCountry]; {
		case c == "":
			hp(hAddrCountry, "is missing; a delivery address needs its ISO 3166 country code, e.g. NL or BE")
		case !isCountry(c):
			hp(hAddrCountry, "%q is not an ISO 3166-1 alpha-2 country code such as NL, BE or DE", c)
		}
	}

	o := Order{
		Number:            number,
		DebtorCode:        r.h[hDebtor],
		Contact:           r.h[hContact],
		Email:             r.h[hEmail],
		OrderedAt:         r.h[hOrderedAt],
		YourRef:           r.h[hYourRef],
		Currency:          r.h[hCurrency],
		InvoiceDebtorCode: r.h[hInvoiceDebtor],
		PaymentCondition:  r.h[hPayment],
		Delivery: Delivery{
			Date:      r.h[hDelDate],
			Method:    r.h[hDelMethod],
			Warehouse: r.h[hDelWarehouse],
		},
		Note: r.h[hNote],
		Pos:  r.pos,
	}
	if hasAddress {
		o.Delivery.Address = &Address{
			Name: r.h[hAddrName], Contact: r.h[hAddrContact], Line1: r.h[hAddrLine1], Line2: r.h[hAddrLine2],
			Postcode: r.h[hAddrPostcode], City: r.h[hAddrCity], Country: r.h[hAddrCountry],
			Phone: r.h[hAddrPhone], Email: r.h[hAddrEmail],
		}
	}

	if len(r.lines) == 0 {
		hp(-1, "the order has no lines; it needs at least one line with item_code and quantity")
	}
	o.Lines = make([]Line, 0, len(r.lines))
	for i := range r.lines {
		l, lp := r.buildLine(number, i+1, &r.lines[i])
		probs = append(probs, lp...)
		o.Lines = append(o.Lines, l)
	}
	return o, probs
}

func (r *rawOrder) buildLine(number string, no int, rl *rawLine) (Line, []Problem) {
	var probs []Problem
	pos := rl.pos
	if r.json {
		pos = r.pos // the line number is in Problem.Line; JSON has no finer position
	}
	lp := func(field int, format string, args ...any) {
		probs = append(probs, Problem{Order: number, Line: no, Field: r.lineName(field), Pos: pos, Message: fmt.Sprintf(format, args...)})
	}
	for i := range rl.f {
		rl.f[i] = strings.TrimSpace(rl.f[i])
	}
	f := &rl.f
	var bad [nLine]bool
	for i, v := range f {
		if v == "" {
			continue
		}
		if lineIsCode[i] {
			if msg := checkCode(v); msg != "" {
				lp(i, "%s", msg)
				f[i], bad[i] = "", true // reported; the checks below skip it
				continue
			}
		}
		if limit := lineLimits[i]; limit > 0 {
			if n := utf8.RuneCountInString(v); n > limit {
				lp(i, "%s", tooLong(v, n, limit))
			}
		}
	}
	l := Line{
		No:           no,
		ItemCode:     f[lItem],
		Unit:         f[lUnit],
		Warehouse:    f[lWarehouse],
		DeliveryDate: f[lDate],
		Note:         f[lNote],
		Pos:          rl.pos,
	}
	if l.ItemCode == "" && !bad[lItem] {
		lp(lItem, "is missing; every line needs the Globe item code")
	}
	switch q := f[lQuantity]; {
	case bad[lQuantity]:
	case q == "":
		lp(lQuantity, "is missing; every line needs a quantity greater than 0")
	default:
		d, msg := parseDec(q)
		switch {
		case msg != "":
			lp(lQuantity, "%s", msg)
		case d.Sign() <= 0:
			lp(lQuantity, "%s is not greater than 0; order lines need a positive quantity", q)
		default:
			l.Quantity = d
		}
	}
	if p := f[lPrice]; p != "" {
		d, msg := parseDec(p)
		switch {
		case msg != "":
			lp(lPrice, "%s", msg)
		case d.Sign() < 0:
			lp(lPrice, "%s is negative; a unit price must be 0 or more", p)
		default:
			l.Price = &d
		}
	}
	if p := f[lDiscount]; p != "" {
		d, msg := parseDec(p)
		switch {
		case msg != "":
			lp(lDiscount, "%s", msg)
		case d.Sign() < 0 || d.Cmp(decimal.FromInt(100)) > 0:
			lp(lDiscount, "%s is outside 0..100; a discount is a percentage", p)
		default:
			l.DiscountPercent = &d
		}
	}
	if v := f[lDate]; v != "" && !validDate(v) {
		lp(lDate, "%q is not a date in the form YYYY-MM-DD, e.g. 2026-12-01", v)
	}
	return l, probs
}

// parseDec reads a decimal with a point and explains a refusal.
func parseDec(s string) (decimal.Dec, string) {
	d, err := decimal.Parse(s)
	if err == nil {
		return d, ""
	}
	switch {
	case errors.Is(err, decimal.ErrRange):
		return d, fmt.Sprintf("%q has too many digits (at most 18 digits, 18 of them after the point)", s)
	case strings.Count(s, ",") == 1 && !strings.Contains(s, "."):
		if _, err := decimal.ParseComma(s); err == nil {
			return d, fmt.Sprintf("%q uses a decimal comma; write it with a point: %s", s, strings.Replace(s, ",", ".", 1))
		}
	case strings.ContainsAny(s, "eE") && !strings.ContainsAny(s, "aAbBcCdDfF"):
		return d, fmt.Sprintf("%q is in exponent notation; write the plain number, e.g. 1000", s)
	}
	return d, fmt.Sprintf("%q is not a decimal number such as 12 or 4.95", s)
}

func hasProblem(probs []Problem, field string) bool {
	for _, p := range probs {
		if p.Field == field && p.Line == 0 {
			return true
		}
	}
	return false
}

func tooLong(v string, n, limit int) string {
	return fmt.Sprintf("%q is %d characters long; Globe stores at most %d. Nothing is cut: shorten it in the webshop and send the order again", v, n, limit)
}

// checkCode returns why s cannot be a code, or "" when it can.
func checkCode(s string) string {
	if !utf8.ValidString(s) {
		return fmt.Sprintf("%q is not valid UTF-8", s)
	}
	for i, c := range s {
		if c < 0x20 || (c >= 0x7f && c <= 0x9f) || !isXMLChar(c) {
			return fmt.Sprintf("%q contains the control or forbidden character U+%04X at byte %d; codes must be plain text", s, c, i)
		}
	}
	return ""
}

// isXMLChar reports whether XML 1.0 allows c in a document (the Char
// production).
func isXMLChar(c rune) bool {
	switch {
	case c == 0x9 || c == 0xA || c == 0xD:
		return true
	case c >= 0x20 && c <= 0xD7FF:
		return true
	case c >= 0xE000 && c <= 0xFFFD:
		return true
	case c >= 0x10000 && c <= 0x10FFFF:
		return true
	}
	return false
}

func isLetters(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func validDate(s string) bool {
	if len(s) != 10 {
		return false
	}
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

func validDateTime(s string) bool {
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}
