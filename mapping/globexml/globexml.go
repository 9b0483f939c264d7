// Package globexml writes a webshop order as an Exact Globe eExact sales
// order import file (topic Orders, Order type="V").
//
// The elements follow the sequence of Exact's eExact-Schema.xsd (groupOIHeader
// and groupOIItem), so every file Write produces validates against it. Write
// never cuts a value: codes that are too long for their Globe column, or that
// hold characters XML cannot carry, are errors. Free text (notes, names,
// address lines) is cleaned instead: characters XML 1.0 forbids are removed
// and each removal is reported as a warning.
//
// Mapping choices that go beyond the schema: OrderedBy, DeliverTo and
// InvoiceTo always name a debtor (the invoice debtor, else the ordering one);
// the ordering contact and e-mail, and a delivery contact other than the
// addressee, have no place in the eExact order that would stay valid without
// a full address, so they are appended to the note Document; a line without
// its own delivery date gets the order's.
package globexml

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"globex/internal/decimal"
	"globex/mapping/order"
)

// Options choose how an order maps onto Globe. The zero value is the
// default mapping of CONTRACT.md §4.
type Options struct {
	// OrderNumberField is where the shop's order number goes: "description"
	// (default; at most 20 characters), "yourref", "reference1".."reference3"
	// (20 each), or "freetext1".."freetext3" (FreeFields/FreeTexts/FreeText
	// with that number). Unless it is "yourref", YourRef holds the customer's
	// reference, or else the order number. With "yourref", YourRef holds the
	// order number and the customer's reference goes into Description.
	OrderNumberField string
	// ResourceNumber is the Globe resource (sales person) written as
	// Resource@number; 0 omits it.
	ResourceNumber int
	// NoteDocumentType is DocumentType@number of the Document that carries
	// the order note; default 2.
	NoteDocumentType int
	// NoteSubject is the Subject of that Document; default "Webshop remark".
	NoteSubject string
	// DefaultWarehouse is the header Warehouse when the order names none;
	// "" omits it.
	DefaultWarehouse string
	// DefaultCurrency is used when the order has no currency; default "EUR".
	DefaultCurrency string
	// DeliveryMethods, PaymentConditions and Units translate the shop's codes
	// into Globe's. Codes without an entry pass through unchanged.
	DeliveryMethods, PaymentConditions, Units map[string]string
	// OmitPrices leaves Price and Discount off the lines so that Globe
	// prices the order itself.
	OmitPrices bool
}

// Globe column lengths (research/globe-formats.md §7).
const (
	maxDescription = 20
	maxReference   = 20
	maxYourRef     = 30
	maxItem        = 30
	maxUnit        = 5
	maxWarehouse   = 4
	maxMethod      = 5
	maxCondition   = 2
	maxDebtor      = 20
	maxInstruction = 160
	maxFreeText    = 75
)

// writer accumulates the document; the first error sticks.
type writer struct {
	buf      []byte
	err      error
	warnings []string
	line     int // the order line being written, 0 for the header
}

// fail records the first error; inside an order line it names the line.
func (w *writer) fail(format string, args ...any) {
	if w.err == nil {
		if w.line > 0 {
			format = "line " + strconv.Itoa(w.line) + " " + format
		}
		w.err = fmt.Errorf(format, args...)
	}
}

func (w *writer) raw(s string) { w.buf = append(w.buf, s...) }

func (w *writer) indent(depth int) {
	w.buf = append(w.buf, '\n')
	for range depth {
		w.buf = append(w.buf, ' ', ' ')
	}
}

// code checks a code value: not empty, at most limit characters (0: no
// limit), no control character and nothing XML forbids.
func (w *writer) code(field, v string, limit int) string {
	if v == "" {
		w.fail("%s is empty", field)
		return v
	}
	if !utf8.ValidString(v) {
		w.fail("%s %q is not valid UTF-8", field, v)
		return v
	}
	for _, c := range v {
		if c < 0x20 || (c >= 0x7f && c <= 0x9f) || !isXMLChar(c) {
			w.fail("%s %q contains the control or forbidden character U+%04X; codes cannot be cleaned, correct it at the source", field, v, c)
			return v
		}
	}
	if limit > 0 {
		if n := utf8.RuneCountInString(v); n > limit {
			w.fail("%s %q is %d characters long; Globe stores at most %d", field, v, n, limit)
		}
	}
	return v
}

// text cleans free text: characters XML 1.0 forbids, other C0/C1 control
// characters (tab, line feed and carriage return stay) and bytes that are not
// UTF-8 are removed, with a warning naming the field. limit > 0 is Globe's
// length for the field, checked after cleaning.
func (w *writer) text(field, v string, limit int) string {
	removed := 0
	for i := 0; i < len(v); {
		c, n := utf8.DecodeRuneInString(v[i:])
		if dropped(c, n) {
			removed++
		}
		i += n
	}
	if removed > 0 {
		b := make([]byte, 0, len(v))
		for i := 0; i < len(v); {
			c, n := utf8.DecodeRuneInString(v[i:])
			if !dropped(c, n) {
				b = append(b, v[i:i+n]...)
			}
			i += n
		}
		v = string(b)
		if w.line > 0 {
			field = "line " + strconv.Itoa(w.line) + " " + field
		}
		w.warnings = append(w.warnings, fmt.Sprintf("%s: removed %d character(s) that XML cannot carry (control characters or bytes that are not UTF-8)", field, removed))
	}
	if limit > 0 {
		if n := utf8.RuneCountInString(v); n > limit {
			w.fail("%s is %d characters long; Globe stores at most %d", field, n, limit)
		}
	}
	return v
}

func dropped(c rune, size int) bool {
	return (c == utf8.RuneError && size == 1) || !isXMLChar(c) || (c >= 0x7f && c <= 0x9f)
}

// date checks a YYYY-MM-DD date.
func (w *writer) date(field, v string) string {
	if len(v) != 10 || v[4] != '-' || v[7] != '-' {
		w.fail("%s %q is not a date in the form YYYY-MM-DD", field, v)
		return v
	}
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		w.fail("%s %q is not a date in the form YYYY-MM-DD", field, v)
	}
	return v
}

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

// escape appends s escaped for element content or a double-quoted attribute.
// Carriage returns and, in attributes, tabs and line feeds are written as
// character references so that a parser gives back exactly s.
func escape(b []byte, s string, attr bool) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case '&':
			rep = "&amp;"
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		case '"':
			if !attr {
				continue
			}
			rep = "&quot;"
		case '\r':
			rep = "&#xD;"
		case '\n':
			if !attr {
				continue
			}
			rep = "&#xA;"
		case '\t':
			if !attr {
				continue
			}
			rep = "&#x9;"
		default:
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, rep...)
		last = i + 1
	}
	return append(b, s[last:]...)
}

// elem writes <name>value</name> on its own line.
func (w *writer) elem(depth int, name, value string) {
	w.indent(depth)
	w.buf = append(w.buf, '<')
	w.buf = append(w.buf, name...)
	w.buf = append(w.buf, '>')
	w.buf = escape(w.buf, value, false)
	w.buf = append(w.buf, "</"...)
	w.buf = append(w.buf, name...)
	w.buf = append(w.buf, '>')
}

// empty writes <name attr="value"/>.
func (w *writer) empty(depth int, name, attr, value string) {
	w.indent(depth)
	w.buf = append(w.buf, '<')
	w.buf = append(w.buf, name...)
	w.buf = append(w.buf, ' ')
	w.buf = append(w.buf, attr...)
	w.buf = append(w.buf, `="`...)
	w.buf = escape(w.buf, value, true)
	w.buf = append(w.buf, `"/>`...)
}

func (w *writer) open(depth int, tag string) {
	w.indent(depth)
	w.buf = append(w.buf, '<')
	w.buf = append(w.buf, tag...)
	w.buf = append(w.buf, '>')
}

func (w *writer) close(depth int, name string) {
	w.indent(depth)
	w.buf = append(w.buf, "</"...)
	w.buf = append(w.buf, name...)
	w.buf = append(w.buf, '>')
}

func (w *writer) dec(depth int, name string, d decimal.Dec) {
	w.indent(depth)
	w.buf = append(w.buf, '<')
	w.buf = append(w.buf, name...)
	w.buf = append(w.buf, '>')
	w.buf = d.Normalize().AppendTo(w.buf)
	w.buf = append(w.buf, "</"...)
	w.buf = append(w.buf, name...)
	w.buf = append(w.buf, '>')
}

// header places the order number and the customer's reference.
type header struct {
	description, yourRef string
	references           [3]string
	freeText             [3]string
}

func placeNumber(o *order.Order, field string) (header, error) {
	var h header
	h.yourRef = o.YourRef
	if h.yourRef == "" {
		h.yourRef = o.Number
	}
	tooLong := func(what string, limit int) error {
		return fmt.Errorf("order number %q is %d characters long and %s holds at most %d; choose another order_number_field (yourref, freetext1..freetext3)",
			o.Number, utf8.RuneCountInString(o.Number), what, limit)
	}
	n := utf8.RuneCountInString(o.Number)
	switch f := strings.ToLower(field); f {
	case "", "description":
		if n > maxDescription {
			return h, tooLong("Description", maxDescription)
		}
		h.description = o.Number
	case "yourref":
		h.yourRef = o.Number
		if o.YourRef != "" {
			if utf8.RuneCountInString(o.YourRef) > maxDescription {
				return h, fmt.Errorf("with order_number_field yourref the customer's reference %q goes into Description, which holds at most %d characters; choose another order_number_field",
					o.YourRef, maxDescription)
			}
			h.description = o.YourRef
		}
	case "reference1", "reference2", "reference3":
		if n > maxReference {
			return h, tooLong("Reference"+f[9:], maxReference)
		}
		h.references[f[9]-'1'] = o.Number
	case "freetext1", "freetext2", "freetext3":
		if n > maxFreeText {
			return h, tooLong("FreeText "+f[8:], maxFreeText)
		}
		h.freeText[f[8]-'1'] = o.Number
	default:
		return h, fmt.Errorf("unknown order_number_field %q; use description, yourref, reference1..reference3 or freetext1..freetext3", field)
	}
	return h, nil
}

// mappedName names a field in messages, with the shop's code when the value
// came from a mapping.
func mappedName(field, shop, globe string) string {
	if shop == globe {
		return field
	}
	return field + " " + shop + " (mapped)"
}

func mapCode(m map[string]string, v string) string {
	if g, ok := m[v]; ok {
		return g
	}
	return v
}

// Write writes o as a complete eExact document with one sales order. It
// returns warnings for free text it had to clean, and an error, with nothing
// written, when the order cannot be expressed in Globe's fields; the error
// names the field and the limit, the caller names the order.
func Write(w io.Writer, o *order.Order, opt Options) (warnings []string, err error) {
	b, warnings, err := build(o, opt)
	if err != nil {
		return warnings, err
	}
	if _, err := w.Write(b); err != nil {
		return warnings, err
	}
	return warnings, nil
}

func build(o *order.Order, opt Options) ([]byte, []string, error) {
	if o == nil {
		return nil, nil, errors.New("no order")
	}
	if len(o.Lines) == 0 {
		return nil, nil, fmt.Errorf("order %q has no lines; Globe needs at least one OrderLine", o.Number)
	}
	if opt.NoteDocumentType == 0 {
		opt.NoteDocumentType = 2
	}
	if opt.NoteSubject == "" {
		opt.NoteSubject = "Webshop remark"
	}
	if opt.DefaultCurrency == "" {
		opt.DefaultCurrency = "EUR"
	}
	h, err := placeNumber(o, opt.OrderNumberField)
	if err != nil {
		return nil, nil, err
	}
	wr := &writer{buf: make([]byte, 0, 1024+512*len(o.Lines))}
	wr.code("order number", o.Number, maxYourRef)
	wr.raw(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<eExact xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="eExact-Schema.xsd">`)
	wr.open(1, "Orders")
	wr.open(2, `Order type="V"`)
	const d = 3
	if h.description != "" {
		wr.elem(d, "Description", wr.text("Description", h.description, maxDescription))
	}
	for i, r := range h.references {
		if r != "" {
			wr.elem(d, "Reference"+strconv.Itoa(i+1), r)
		}
	}
	wr.elem(d, "YourRef", wr.text("YourRef", h.yourRef, maxYourRef))
	if o.OrderedAt != "" {
		// RFC 3339 or a plain date; the date part is the customer's own date.
		wr.elem(d, "Date", wr.date("ordered_at", o.OrderedAt[:min(10, len(o.OrderedAt))]))
	}
	currency := o.Currency
	if currency == "" {
		currency = opt.DefaultCurrency
	}
	wr.code("currency", currency, 3)
	wr.empty(d, "Currency", "code", currency)
	if opt.ResourceNumber != 0 {
		wr.empty(d, "Resource", "number", strconv.Itoa(opt.ResourceNumber))
	}

	debtor := wr.code("debtor code", o.DebtorCode, maxDebtor)
	wr.open(d, "OrderedBy")
	wr.empty(d+1, "Debtor", "code", debtor)
	wr.close(d, "OrderedBy")

	wr.open(d, "DeliverTo")
	wr.empty(d+1, "Debtor", "code", debtor)
	if a := o.Delivery.Address; a != nil {
		wr.address(d+1, a)
	}
	if o.Delivery.Date != "" {
		wr.elem(d+1, "Date", wr.date("delivery date", o.Delivery.Date))
	}
	wr.close(d, "DeliverTo")

	invoiceDebtor := o.DebtorCode
	if o.InvoiceDebtorCode != "" {
		invoiceDebtor = wr.code("invoice debtor code", o.InvoiceDebtorCode, maxDebtor)
	}
	wr.open(d, "InvoiceTo")
	wr.empty(d+1, "Debtor", "code", invoiceDebtor)
	wr.close(d, "InvoiceTo")

	warehouse := o.Delivery.Warehouse
	if warehouse == "" {
		warehouse = opt.DefaultWarehouse
	}
	if warehouse != "" {
		wr.empty(d, "Warehouse", "code", wr.code("warehouse", warehouse, maxWarehouse))
	}
	if o.PaymentCondition != "" {
		pc := mapCode(opt.PaymentConditions, o.PaymentCondition)
		wr.empty(d, "PaymentCondition", "code", wr.code(mappedName("payment condition", o.PaymentCondition, pc), pc, maxCondition))
	}
	if o.Delivery.Method != "" {
		dm := mapCode(opt.DeliveryMethods, o.Delivery.Method)
		wr.empty(d, "DeliveryMethod", "code", wr.code(mappedName("delivery method", o.Delivery.Method, dm), dm, maxMethod))
	}
	if body := noteBody(o); body != "" {
		wr.open(d, "Document")
		wr.empty(d+1, "DocumentType", "number", strconv.Itoa(opt.NoteDocumentType))
		wr.elem(d+1, "Subject", wr.text("note subject", opt.NoteSubject, 0))
		wr.elem(d+1, "Body", wr.text("note", body, 0))
		wr.close(d, "Document")
	}
	if h.freeText != [3]string{} {
		wr.open(d, "FreeFields")
		wr.open(d+1, "FreeTexts")
		for i, t := range h.freeText {
			if t != "" {
				wr.indent(d + 2)
				wr.raw(`<FreeText number="` + strconv.Itoa(i+1) + `">`)
				wr.buf = escape(wr.buf, t, false)
				wr.raw("</FreeText>")
			}
		}
		wr.close(d+1, "FreeTexts")
		wr.close(d, "FreeFields")
	}
	for i := range o.Lines {
		wr.orderLine(d, &o.Lines[i], o, currency, opt)
	}
	wr.close(2, "Order")
	wr.close(1, "Orders")
	wr.raw("\n</eExact>\n")
	if wr.err != nil {
		return nil, wr.warnings, wr.err
	}
	return wr.buf, wr.warnings, nil
}

// noteBody is the order note, followed by the ordering contact and the
// delivery contact, which have no field of their own in the eExact order.
func noteBody(o *order.Order) string {
	var extra []string
	if o.Contact != "" || o.Email != "" {
		extra = append(extra, "Contact: "+joinNonEmpty(o.Contact, o.Email))
	}
	if a := o.Delivery.Address; a != nil && a.Contact != "" && a.Contact != a.Name && a.Contact != o.Contact {
		extra = append(extra, "Delivery contact: "+a.Contact)
	}
	if len(extra) == 0 {
		return o.Note
	}
	if o.Note == "" {
		return strings.Join(extra, "\n")
	}
	return o.Note + "\n\n" + strings.Join(extra, "\n")
}

func joinNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " <" + b + ">"
}

func (w *writer) address(d int, a *order.Address) {
	w.open(d, "Address")
	name := a.Name
	if name == "" {
		name = a.Contact
	}
	if name != "" {
		w.open(d+1, "Addressee")
		w.elem(d+2, "Name", w.text("delivery name", name, 50))
		w.close(d+1, "Addressee")
	}
	if a.Line1 != "" {
		w.elem(d+1, "AddressLine1", w.text("delivery line1", a.Line1, 100))
	}
	if a.Line2 != "" {
		w.elem(d+1, "AddressLine2", w.text("delivery line2", a.Line2, 100))
	}
	if a.Postcode != "" {
		w.elem(d+1, "PostalCode", w.text("delivery postcode", a.Postcode, 20))
	}
	if a.City != "" {
		w.elem(d+1, "City", w.text("delivery city", a.City, 100))
	}
	w.empty(d+1, "Country", "code", w.code("delivery country", a.Country, 2))
	if a.Phone != "" {
		w.elem(d+1, "Phone", w.text("delivery phone", a.Phone, 0))
	}
	if a.Email != "" {
		w.elem(d+1, "Email", w.text("delivery email", a.Email, 0))
	}
	w.close(d, "Address")
}

func (w *writer) orderLine(d int, l *order.Line, o *order.Order, currency string, opt Options) {
	w.indent(d)
	w.raw(`<OrderLine lineNo="`)
	w.buf = strconv.AppendInt(w.buf, int64(l.No), 10)
	w.raw(`">`)
	w.line = l.No
	defer func() { w.line = 0 }()
	d++
	w.empty(d, "Item", "code", w.code("item code", l.ItemCode, maxItem))
	if l.Quantity.Sign() <= 0 {
		w.fail("quantity %s is not greater than 0", l.Quantity)
	}
	w.dec(d, "Quantity", l.Quantity)
	if l.Unit != "" {
		u := mapCode(opt.Units, l.Unit)
		w.empty(d, "Unit", "unit", w.code(mappedName("unit", l.Unit, u), u, maxUnit))
	}
	if !opt.OmitPrices && l.Price != nil {
		w.open(d, "Price")
		w.empty(d+1, "Currency", "code", currency)
		w.dec(d+1, "Value", *l.Price)
		w.close(d, "Price")
	}
	if !opt.OmitPrices && l.DiscountPercent != nil {
		w.open(d, "Discount")
		w.dec(d+1, "Percentage", *l.DiscountPercent)
		w.close(d, "Discount")
	}
	date := l.DeliveryDate
	if date == "" {
		date = o.Delivery.Date
	}
	if date != "" {
		w.open(d, "Delivery")
		w.elem(d+1, "Date", w.date("delivery date", date))
		w.close(d, "Delivery")
	}
	if l.Warehouse != "" {
		w.empty(d, "Warehouse", "code", w.code("warehouse", l.Warehouse, maxWarehouse))
	}
	if l.Note != "" {
		w.elem(d, "Instruction", w.text("note", l.Note, maxInstruction))
	}
	w.close(d-1, "OrderLine")
}
