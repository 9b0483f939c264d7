// Package order reads webshop order files (JSON, CSV, XLSX) into a validated,
// format-neutral Order model.
//
// The file formats are fixed by CONTRACT.md §4. Every reader produces the same
// normalised Order for the same order, whatever the file format, so Hash can
// recognise an order that is sent twice, once as JSON and once as CSV.
//
// Parse separates two kinds of failure:
//   - the whole file is unusable (malformed JSON, bytes that are not UTF-8, a
//     CSV without a required column, a damaged workbook, an unknown extension):
//     Parse returns an error and no orders;
//   - single orders are bad (a missing debtor, quantity "1,5", a field longer
//     than Globe stores): those orders are left out of Result.Orders and each
//     is described by one or more Problems, while the good orders of the same
//     file are returned.
//
// JSON files hold one order object or an array of them (CONTRACT.md §4),
// UTF-8 with or without BOM; unknown fields are ignored; numbers may be JSON
// numbers or strings but are always read from their literal text, so "1e3"
// and "1,5" are refused rather than guessed. CSV (';' or ',', detected from
// the header) and XLSX (first sheet) files carry the same fields as columns,
// one row per order line; the header is matched case-insensitively. The rows
// of one order must be adjacent; its header columns are taken from its first
// row, and later rows repeat them or leave them empty. An order number that
// occurs twice in one file refuses every order with that number.
package order

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"globex/internal/decimal"
)

// Order is one webshop order, normalised: surrounding white space trimmed,
// country and currency codes upper-cased, an address with no field filled in
// is nil, and decimals as given (compare them with Equal).
type Order struct {
	Number            string // the shop's order number (order_number); required, ≤ 30
	DebtorCode        string // Globe debtor code of the customer (customer.debtor_code); required, ≤ 20
	Contact           string // contact person of the customer (customer.contact)
	Email             string // e-mail of the customer (customer.email)
	OrderedAt         string // as given: RFC 3339 or YYYY-MM-DD; "" when absent
	YourRef           string // the customer's own reference (your_reference), ≤ 30
	Currency          string // ISO 4217 code, three letters; "" when absent
	InvoiceDebtorCode string // invoice debtor when it differs from DebtorCode, ≤ 20
	PaymentCondition  string // shop's payment condition code, ≤ 2
	Delivery          Delivery
	Note              string // free text for the whole order
	Lines             []Line
	Pos               string // where the order is in its file: "object 2 (line 14)" or "rows 3-5"
}

// Delivery holds the requested delivery of an order.
type Delivery struct {
	Date      string   // YYYY-MM-DD or ""
	Method    string   // shop's delivery method code, ≤ 5
	Warehouse string   // Globe warehouse code, ≤ 4
	Address   *Address // a one-off delivery address, nil for the debtor's own address
}

// Address is a one-off delivery address. Country is an ISO 3166-1 alpha-2
// code and is always set when the address is not nil.
type Address struct {
	Name, Contact, Line1, Line2, Postcode, City, Country, Phone, Email string
}

// Line is one order line.
type Line struct {
	No              int // 1-based line number within the order
	ItemCode        string
	Quantity        decimal.Dec  // > 0
	Unit            string       // shop's unit code, "" when absent
	Price           *decimal.Dec // unit price ≥ 0; nil when absent
	DiscountPercent *decimal.Dec // 0..100; nil when absent
	Warehouse       string       // line warehouse, "" when absent
	DeliveryDate    string       // YYYY-MM-DD or ""
	Note            string       // free text for the line (Globe: Instruction, ≤ 160)
	Pos             string       // where the line is in its file: "object 2 (line 14), lines[3]" or "row 4"
}

// Problem describes why one order was refused. Order is the order number as
// far as it could be read (it may be ""), Line the 1-based order line (0 for
// the order header), Field the field or column name, Pos the place in the
// file.
type Problem struct {
	Order   string
	Line    int
	Field   string
	Pos     string
	Message string
}

// Error returns one readable sentence that names the order, the line, the
// field, the place in the file and what to do.
func (p Problem) Error() string {
	var b strings.Builder
	if p.Order != "" {
		fmt.Fprintf(&b, "order %q", p.Order)
	} else {
		b.WriteString("order without a number")
	}
	if p.Pos != "" {
		fmt.Fprintf(&b, " (%s)", p.Pos)
	}
	if p.Line > 0 {
		fmt.Fprintf(&b, ", order line %d", p.Line)
	}
	if p.Field != "" {
		fmt.Fprintf(&b, ", field %s", p.Field)
	}
	b.WriteString(": ")
	b.WriteString(p.Message)
	return b.String()
}

// Result is what Parse found in a usable file: the valid orders in file order,
// and a Problem for every reason an order was left out.
type Result struct {
	Orders   []Order
	Problems []Problem
}

// Options bounds what Parse accepts.
type Options struct {
	// MaxLines is the largest number of order lines (JSON lines, CSV or XLSX
	// data rows) in one file; a file with more is refused whole. Default 10000.
	MaxLines int
	// MaxBytes is the largest file Parse reads; default 32 MiB.
	MaxBytes int64
}

const (
	defaultMaxLines = 10000
	defaultMaxBytes = 32 << 20
)

func (o Options) withDefaults() Options {
	if o.MaxLines <= 0 {
		o.MaxLines = defaultMaxLines
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = defaultMaxBytes
	}
	return o
}

// Parse reads the order file name from r; the extension (.json, .csv or
// .xlsx, in any case) picks the format. It returns an error when the file as
// a whole cannot be used, and otherwise the valid orders and a Problem per
// refusal.
func Parse(name string, r io.Reader, opt Options) (Result, error) {
	opt = opt.withDefaults()
	ext := strings.ToLower(filepath.Ext(name))
	switch ext {
	case ".json", ".csv", ".xlsx":
	default:
		return Result{}, fmt.Errorf("%s: unknown order file type %q; use .json, .csv or .xlsx", name, ext)
	}
	data, err := readLimited(r, opt.MaxBytes)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", name, err)
	}
	var res Result
	switch ext {
	case ".json":
		res, err = parseJSON(data, opt)
	case ".csv":
		res, err = parseCSV(data, opt)
	default:
		res, err = parseXLSX(data, opt)
	}
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", name, err)
	}
	return res, nil
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("the file is larger than %d bytes; split it into smaller files", limit)
	}
	return data, nil
}

// Hash returns the hex SHA-256 of a canonical encoding of the order: every
// field except the Pos fields, decimals normalised ("12" and "12.0" hash the
// same). The same order read from JSON, CSV or XLSX has the same Hash.
func (o *Order) Hash() string {
	h := sha256.New()
	var buf []byte
	put := func(s string) {
		buf = strconv.AppendInt(buf[:0], int64(len(s)), 10)
		buf = append(buf, ':')
		buf = append(buf, s...)
		h.Write(buf)
	}
	putDec := func(d *decimal.Dec) {
		if d == nil {
			put("-")
			return
		}
		put(d.Normalize().String())
	}
	put("globex-order-v1")
	put(o.Number)
	put(o.DebtorCode)
	put(o.Contact)
	put(o.Email)
	put(o.OrderedAt)
	put(o.YourRef)
	put(o.Currency)
	put(o.InvoiceDebtorCode)
	put(o.PaymentCondition)
	put(o.Delivery.Date)
	put(o.Delivery.Method)
	put(o.Delivery.Warehouse)
	if a := o.Delivery.Address; a != nil {
		put("address")
		for _, s := range [...]string{a.Name, a.Contact, a.Line1, a.Line2, a.Postcode, a.City, a.Country, a.Phone, a.Email} {
			put(s)
		}
	} else {
		put("no address")
	}
	put(o.Note)
	put(strconv.Itoa(len(o.Lines)))
	for i := range o.Lines {
		l := &o.Lines[i]
		put(strconv.Itoa(l.No))
		put(l.ItemCode)
		q := l.Quantity
		putDec(&q)
		put(l.Unit)
		putDec(l.Price)
		putDec(l.DiscountPercent)
		put(l.Warehouse)
		put(l.DeliveryDate)
		put(l.Note)
	}
	return hex.EncodeToString(h.Sum(nil))
}
