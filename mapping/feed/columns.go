package feed

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"

	"globex/internal/decimal"
)

// Columns is the set of flattened map and list columns of a CSV or XLSX
// feed. A CSV header is written before the first record, so the set must be
// known up front; a record with a map key outside the set is refused by the
// writer (never silently dropped). Ways to obtain it:
//
//   - from configuration (the languages, attribute labels or warehouses the
//     exchange is set up for);
//   - from the records themselves with Learn, when they are in memory anyway
//     (the stock feed aggregates per item before writing);
//   - from a first pass over the JSONL snapshot with ScanColumns (write the
//     JSONL while streaming, then convert it to CSV with ConvertJSONL).
//
// Column names: descriptions.<lang> and attributes.<label> (catalogue),
// warehouses.<code>.<on_hand|reserved|incoming|available> (stock),
// breaks.<n>.<min_quantity|discount_type|value|net_price> (prices) and
// addresses.<n>.<type|line1|line2|postcode|city|country> (customers), n
// counting from 1. Map columns are sorted byte-wise, like JSON map keys.
type Columns struct {
	Languages  []string // catalogue descriptions
	Attributes []string // catalogue attribute labels
	Warehouses []string // stock warehouse codes
	Breaks     int      // prices: the largest number of quantity breaks
	Addresses  int      // customers: the largest number of addresses
}

// Learn widens c so that rec fits.
func (c *Columns) Learn(rec Record) {
	switch r := rec.(type) {
	case *Catalogue:
		c.Languages = addKeys(c.Languages, r.Descriptions)
		c.Attributes = addKeys(c.Attributes, r.Attributes)
	case *Stock:
		for i := range r.Warehouses {
			if j, found := slices.BinarySearch(c.Warehouses, r.Warehouses[i].Code); !found {
				c.Warehouses = slices.Insert(c.Warehouses, j, r.Warehouses[i].Code)
			}
		}
	case *Price:
		c.Breaks = max(c.Breaks, len(r.Breaks))
	case *Customer:
		c.Addresses = max(c.Addresses, len(r.Addresses))
	}
}

func addKeys[V any](set []string, m map[string]V) []string {
	for k := range m {
		if i, found := slices.BinarySearch(set, k); !found {
			set = slices.Insert(set, i, k)
		}
	}
	return set
}

// normalized returns a sorted, de-duplicated copy.
func (c Columns) normalized() Columns {
	n := c
	for _, p := range []*[]string{&n.Languages, &n.Attributes, &n.Warehouses} {
		s := slices.Clone(*p)
		slices.Sort(s)
		*p = slices.Compact(s)
	}
	return n
}

// ScanColumns reads a JSONL snapshot of the given kind and returns the
// columns its records need. Memory grows with the number of distinct map
// keys only.
func ScanColumns(kind Kind, r io.Reader) (Columns, error) {
	var c Columns
	err := eachJSONL(kind, r, func(line int, rec Record, _ []byte) error {
		c.Learn(rec)
		return nil
	})
	return c, err
}

// ConvertJSONL copies every record of a JSONL snapshot to w (for example a
// CSV or XLSX writer built with the columns from ScanColumns). It does not
// close w.
func ConvertJSONL(kind Kind, r io.Reader, w Writer) error {
	return eachJSONL(kind, r, func(line int, rec Record, _ []byte) error {
		if err := w.Write(rec); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		return nil
	})
}

// maxJSONLLine bounds one line of a JSONL snapshot.
const maxJSONLLine = 16 << 20

// eachJSONL decodes every non-empty line of r into a fresh record of kind.
func eachJSONL(kind Kind, r io.Reader, fn func(line int, rec Record, raw []byte) error) error {
	if !kind.Valid() {
		return fmt.Errorf("feed: unknown kind %q", kind)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxJSONLLine)
	line := 0
	var fast lineDecoders
	for sc.Scan() {
		line++
		raw := sc.Bytes()
		if len(raw) == 0 {
			continue
		}
		rec := newRecord(kind)
		if fast.decode(raw, rec) {
			// the form AppendJSON writes, read as encoding/json would
		} else if err := json.Unmarshal(raw, newRecordInto(kind, &rec)); err != nil {
			return fmt.Errorf("%s snapshot line %d: %w", kind, line, err)
		}
		if err := fn(line, rec, raw); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s snapshot after line %d: %w", kind, line, err)
	}
	return nil
}

// header returns the column names of kind with the columns c.
func header(kind Kind, c Columns) []string {
	var h []string
	switch kind {
	case KindCatalogue:
		h = append(h, "administration", "item_code", "description")
		for _, l := range c.Languages {
			h = append(h, "descriptions."+l)
		}
		h = append(h, "long_description", "group_code", "group_description", "unit", "sales_price",
			"currency", "vat_code", "gtin", "status")
		for _, a := range c.Attributes {
			h = append(h, "attributes."+a)
		}
		h = append(h, "updated_at")
	case KindStock:
		h = append(h, "administration", "item_code", "on_hand", "reserved", "incoming", "available",
			"availability", "display", "expected_date")
		for _, w := range c.Warehouses {
			for _, f := range []string{"on_hand", "reserved", "incoming", "available"} {
				h = append(h, "warehouses."+w+"."+f)
			}
		}
		h = append(h, "measured_at")
	case KindPrices:
		h = append(h, "administration", "price_list", "currency", "item_code", "group_code", "customer",
			"unit", "factor", "base_price", "valid_from", "valid_to")
		for i := 1; i <= c.Breaks; i++ {
			n := "breaks." + strconv.Itoa(i) + "."
			h = append(h, n+"min_quantity", n+"discount_type", n+"value", n+"net_price")
		}
	case KindCustomers:
		h = append(h, "administration", "debtor_code", "debtor_number", "name", "status", "blocked",
			"price_list", "payment_condition", "delivery_method", "discount_percent", "currency")
		for i := 1; i <= c.Addresses; i++ {
			n := "addresses." + strconv.Itoa(i) + "."
			h = append(h, n+"type", n+"line1", n+"line2", n+"postcode", n+"city", n+"country")
		}
	}
	return h
}

// sink receives the cells of one row, in header order.
type sink interface {
	str(s string)
	dec(d decimal.Dec)
	optDec(d *decimal.Dec)
	boolean(v bool)
}

// ErrUnknownColumn is wrapped by writer errors for a map key or list
// element that has no column in the writer's Columns.
var ErrUnknownColumn = fmt.Errorf("record does not fit the feed's columns")

// cells emits the cells of rec for columns c.
func cells(rec Record, c *Columns, s sink) error {
	switch r := rec.(type) {
	case *Catalogue:
		s.str(r.Administration)
		s.str(r.ItemCode)
		s.str(r.Description)
		if err := mapCells(r.Descriptions, c.Languages, "description language", s); err != nil {
			return err
		}
		s.str(r.LongDescription)
		s.str(r.GroupCode)
		s.str(r.GroupDescription)
		s.str(r.Unit)
		s.optDec(r.SalesPrice)
		s.str(r.Currency)
		s.str(r.VATCode)
		s.str(r.GTIN)
		s.str(r.Status)
		if err := mapCells(r.Attributes, c.Attributes, "attribute", s); err != nil {
			return err
		}
		s.str(r.UpdatedAt)
	case *Stock:
		if row, ok := s.(*csvRow); ok {
			return stockRow(r, c, row)
		}
		s.str(r.Administration)
		s.str(r.ItemCode)
		s.dec(r.OnHand)
		s.dec(r.Reserved)
		s.dec(r.Incoming)
		s.optDec(r.Available)
		s.str(r.Availability)
		s.str(r.Display)
		s.str(r.ExpectedDate)
		found := 0
		whs := r.Warehouses.inOrder()
		for _, code := range c.Warehouses {
			w, ok := whs.Get(code)
			if !ok {
				s.str("")
				s.str("")
				s.str("")
				s.str("")
				continue
			}
			found++
			s.dec(w.OnHand)
			s.dec(w.Reserved)
			s.dec(w.Incoming)
			s.optDec(w.Available)
		}
		if found != len(whs) {
			return unknownWarehouse(whs, c.Warehouses)
		}
		s.str(r.MeasuredAt)
	case *Price:
		s.str(r.Administration)
		s.str(r.PriceList)
		s.str(r.Currency)
		s.str(r.ItemCode)
		s.str(r.GroupCode)
		s.str(r.Customer)
		s.str(r.Unit)
		s.optDec(r.Factor)
		s.dec(r.BasePrice)
		s.str(r.ValidFrom)
		s.str(r.ValidTo)
		if len(r.Breaks) > c.Breaks {
			return fmt.Errorf("%w: %d quantity breaks, the columns hold %d", ErrUnknownColumn, len(r.Breaks), c.Breaks)
		}
		for i := range c.Breaks {
			if i >= len(r.Breaks) {
				s.str("")
				s.str("")
				s.str("")
				s.str("")
				continue
			}
			b := &r.Breaks[i]
			s.dec(b.MinQuantity)
			s.str(b.DiscountType)
			s.dec(b.Value)
			s.optDec(b.NetPrice)
		}
	case *Customer:
		s.str(r.Administration)
		s.str(r.DebtorCode)
		s.str(r.DebtorNumber)
		s.str(r.Name)
		s.str(r.Status)
		s.boolean(r.Blocked)
		s.str(r.PriceList)
		s.str(r.PaymentCondition)
		s.str(r.DeliveryMethod)
		s.optDec(r.DiscountPercent)
		s.str(r.Currency)
		if len(r.Addresses) > c.Addresses {
			return fmt.Errorf("%w: %d addresses, the columns hold %d", ErrUnknownColumn, len(r.Addresses), c.Addresses)
		}
		for i := range c.Addresses {
			var a Address
			if i < len(r.Addresses) {
				a = r.Addresses[i]
			}
			s.str(a.Type)
			s.str(a.Line1)
			s.str(a.Line2)
			s.str(a.Postcode)
			s.str(a.City)
			s.str(a.Country)
		}
	default:
		return fmt.Errorf("feed: unsupported record type %T", rec)
	}
	return nil
}

func mapCells(m map[string]string, cols []string, what string, s sink) error {
	found := 0
	for _, k := range cols {
		v, ok := m[k]
		if ok {
			found++
		}
		s.str(v)
	}
	if found != len(m) {
		return unknownKey(m, cols, what)
	}
	return nil
}

func unknownKey[V any](m map[string]V, cols []string, what string) error {
	for _, k := range sortedKeys(m) {
		if !slices.Contains(cols, k) {
			return fmt.Errorf("%w: %s %q has no column (columns: %q)", ErrUnknownColumn, what, k, cols)
		}
	}
	return ErrUnknownColumn
}
