package feed

import (
	"unicode/utf8"

	"globex/internal/decimal"
)

// Reading a price or customer snapshot back (the parts of several
// administrations, the XLSX copy of a feed) decodes a line per record, as
// for stock (see stockDecoder): priceDecoder and customerDecoder read
// exactly what Price.AppendJSON and Customer.AppendJSON write, member by
// member, and decline anything else (other member order or members, white
// space, an empty omitempty member, invalid UTF-8, surrogate escapes),
// which then goes to encoding/json. Unlike stock lines, names and
// addresses often need escapes ("Jansen & Zn" is written "Jansen \u0026
// Zn"): the escapes encoding/json's scanner accepts are read, except
// \uD800-\uDFFF, which AppendJSON never writes. A differential test and
// fuzz targets hold the decoders to encoding/json.

// lineDecoders are the fast decoders of eachJSONL, one per kind that has
// one.
type lineDecoders struct {
	stock    stockDecoder
	price    priceDecoder
	customer customerDecoder
}

// decode fills rec (a fresh record) from line; false when no fast decoder
// takes it (rec may then be partly filled: decode into a fresh record).
func (d *lineDecoders) decode(line []byte, rec Record) bool {
	switch r := rec.(type) {
	case *Stock:
		return d.stock.decode(line, r)
	case *Price:
		return d.price.decode(line, r)
	case *Customer:
		return d.customer.decode(line, r)
	}
	return false
}

// jsonLine is a cursor over one line in AppendJSON's form.
type jsonLine struct {
	b   []byte
	i   int
	buf []byte // unescaped text
}

func (d *jsonLine) reset(line []byte) { d.b, d.i = line, 0 }

func (d *jsonLine) lit(s string) bool {
	if len(d.b)-d.i < len(s) || string(d.b[d.i:d.i+len(s)]) != s {
		return false
	}
	d.i += len(s)
	return true
}

// end is true when the object closes and the line ends.
func (d *jsonLine) end() bool { return d.i == len(d.b)-1 && d.b[d.i] == '}' }

// text reads a JSON string and returns its text, as encoding/json reads it;
// the bytes are valid until the next call.
func (d *jsonLine) text() ([]byte, bool) {
	b := d.b
	if d.i >= len(b) || b[d.i] != '"' {
		return nil, false
	}
	start := d.i + 1
	ascii := true
	for j := start; j < len(b); j++ {
		c := b[j]
		if c >= utf8.RuneSelf {
			ascii = false
			continue
		}
		switch {
		case c == '"':
			s := b[start:j]
			if !ascii && !utf8.Valid(s) { // encoding/json would replace bytes
				return nil, false
			}
			d.i = j + 1
			return s, true
		case c == '\\':
			return d.unescape(start, j, ascii)
		case c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// unescape reads the rest of a string from its first backslash at j.
func (d *jsonLine) unescape(start, j int, ascii bool) ([]byte, bool) {
	b := d.b
	buf := append(d.buf[:0], b[start:j]...)
	for j < len(b) {
		c := b[j]
		switch {
		case c == '"':
			d.buf = buf
			// An escape writes a whole character, so the raw parts are
			// valid UTF-8 exactly when the text is.
			if !ascii && !utf8.Valid(buf) {
				return nil, false
			}
			d.i = j + 1
			return buf, true
		case c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
			buf = append(buf, c)
			j++
		case c != '\\':
			buf = append(buf, c)
			j++
		case j+1 >= len(b):
			return nil, false
		default:
			switch e := b[j+1]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				if j+6 > len(b) {
					return nil, false
				}
				var r rune
				for _, h := range b[j+2 : j+6] {
					switch {
					case h >= '0' && h <= '9':
						h -= '0'
					case h >= 'a' && h <= 'f':
						h -= 'a' - 10
					case h >= 'A' && h <= 'F':
						h -= 'A' - 10
					default:
						return nil, false
					}
					r = r<<4 | rune(h)
				}
				if r >= 0xD800 && r < 0xE000 { // surrogates: pairs and replacements are encoding/json's
					return nil, false
				}
				buf = utf8.AppendRune(buf, r)
				j += 4
			default:
				return nil, false
			}
			j += 2
		}
	}
	d.buf = buf
	return nil, false
}

// str reads a string into a new Go string.
func (d *jsonLine) str() (string, bool) {
	s, ok := d.text()
	return string(s), ok
}

// strIn reads a string, shared with c's recent ones when equal.
func (d *jsonLine) strIn(c *strCache) (string, bool) {
	s, ok := d.text()
	if !ok {
		return "", false
	}
	return c.get(s), true
}

// optStr reads an omitempty string member named by name (`,"x":`): absent,
// or present and not empty.
func (d *jsonLine) optStr(name string, c *strCache, v *string) bool {
	if !d.lit(name) {
		return true
	}
	s, ok := d.text()
	if !ok || len(s) == 0 {
		return false
	}
	if c == nil {
		*v = string(s)
	} else {
		*v = c.get(s)
	}
	return true
}

// dec reads a decimal in quotes as decimal.Dec.UnmarshalJSON reads it (no
// escapes: AppendJSON writes none in a number).
func (d *jsonLine) dec() (decimal.Dec, bool) {
	b := d.b
	if d.i >= len(b) || b[d.i] != '"' {
		return decimal.Dec{}, false
	}
	j := d.i + 1
	neg := j < len(b) && b[j] == '-'
	if neg {
		j++
	}
	// The form appendDec writes, at most 18 digits: the value directly.
	var coef int64
	digits, scale, point := 0, 0, false
	k := j
	for ; k < len(b); k++ {
		c := b[k]
		if c >= '0' && c <= '9' {
			coef = coef*10 + int64(c-'0')
			digits++
			if point {
				scale++
			}
			continue
		}
		if c == '.' && !point && digits > 0 {
			point = true
			continue
		}
		break
	}
	if k < len(b) && b[k] == '"' && digits > 0 && digits <= 18 && (!point || scale > 0) {
		if neg {
			coef = -coef
		}
		d.i = k + 1
		return decimal.New(coef, scale), true
	}
	// Anything else (a sign, ".5", more digits) as decimal.Parse reads it;
	// escapes, controls and non-ASCII text are left to encoding/json.
	for k = d.i + 1; k < len(b) && b[k] != '"'; k++ {
		if c := b[k]; c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			return decimal.Dec{}, false
		}
	}
	if k == len(b) {
		return decimal.Dec{}, false
	}
	v, err := decimal.Parse(string(b[d.i+1 : k]))
	d.i = k + 1
	return v, err == nil
}

// decPtr reads a decimal to point to, from a block shared by the pointers of one
// record.
func (d *jsonLine) decPtr(block *[]decimal.Dec) (*decimal.Dec, bool) {
	v, ok := d.dec()
	if !ok {
		return nil, false
	}
	if len(*block) == cap(*block) {
		*block = make([]decimal.Dec, 0, 4)
	}
	*block = append(*block, v)
	return &(*block)[len(*block)-1], true
}

// strCache holds the recent values of a member; equal text yields the same
// string instead of a new one. Only short values are kept (codes, cities):
// a long one would stay alive with the decoder after its record is gone.
type strCache struct {
	last [4]string
	next int
}

// maxCached is the longest value a strCache keeps.
const maxCached = 64

func (c *strCache) get(s []byte) string {
	if len(s) > maxCached {
		return string(s)
	}
	for _, l := range c.last {
		if l == string(s) {
			return l
		}
	}
	v := string(s)
	c.last[c.next] = v
	c.next = (c.next + 1) & (len(c.last) - 1)
	return v
}

// priceDecoder reads a line of Price.AppendJSON.
type priceDecoder struct {
	jsonLine
	admin, list, currency, group, customer, unit, from, to, kind strCache
	breaks                                                       []Break // scratch
}

// decode fills p (a fresh record) from line; false when the line is not
// exactly in AppendJSON's form.
func (d *priceDecoder) decode(line []byte, p *Price) bool {
	d.reset(line)
	var ok bool
	var block []decimal.Dec // Factor and NetPrice values
	if !d.lit(`{"administration":`) {
		return false
	}
	if p.Administration, ok = d.strIn(&d.admin); !ok || !d.lit(`,"price_list":`) {
		return false
	}
	if p.PriceList, ok = d.strIn(&d.list); !ok {
		return false
	}
	if !d.optStr(`,"currency":`, &d.currency, &p.Currency) ||
		!d.optStr(`,"item_code":`, nil, &p.ItemCode) ||
		!d.optStr(`,"group_code":`, &d.group, &p.GroupCode) ||
		!d.lit(`,"customer":`) {
		return false
	}
	if p.Customer, ok = d.strIn(&d.customer); !ok || !d.optStr(`,"unit":`, &d.unit, &p.Unit) {
		return false
	}
	if d.lit(`,"factor":`) {
		if p.Factor, ok = d.decPtr(&block); !ok {
			return false
		}
	}
	if !d.lit(`,"base_price":`) {
		return false
	}
	if p.BasePrice, ok = d.dec(); !ok {
		return false
	}
	if !d.optStr(`,"valid_from":`, &d.from, &p.ValidFrom) || !d.optStr(`,"valid_to":`, &d.to, &p.ValidTo) {
		return false
	}
	if d.lit(`,"breaks":[`) {
		brs := d.breaks[:0]
		for {
			var br Break
			if !d.lit(`{"min_quantity":`) {
				return false
			}
			if br.MinQuantity, ok = d.dec(); !ok || !d.lit(`,"discount_type":`) {
				return false
			}
			if br.DiscountType, ok = d.discountType(); !ok || !d.lit(`,"value":`) {
				return false
			}
			if br.Value, ok = d.dec(); !ok {
				return false
			}
			if d.lit(`,"net_price":`) {
				if br.NetPrice, ok = d.decPtr(&block); !ok {
					return false
				}
			}
			if !d.lit(`}`) {
				return false
			}
			brs = append(brs, br)
			if d.lit(`]`) {
				break
			}
			if !d.lit(`,`) {
				return false
			}
		}
		d.breaks = brs
		p.Breaks = append([]Break(nil), brs...)
		clear(brs) // no pointers kept into a record
	}
	return d.end()
}

func (d *priceDecoder) discountType() (string, bool) {
	s, ok := d.text()
	if !ok {
		return "", false
	}
	switch string(s) {
	case DiscountPercentage:
		return DiscountPercentage, true
	case DiscountAmount:
		return DiscountAmount, true
	case DiscountNetPrice:
		return DiscountNetPrice, true
	case DiscountMarkup:
		return DiscountMarkup, true
	}
	return d.kind.get(s), true
}

// customerDecoder reads a line of Customer.AppendJSON.
type customerDecoder struct {
	jsonLine
	admin, status, list, payment, delivery, currency, addrType, city, country strCache
	addrs                                                                     []Address // scratch
}

// decode fills c (a fresh record) from line; false when the line is not
// exactly in AppendJSON's form.
func (d *customerDecoder) decode(line []byte, c *Customer) bool {
	d.reset(line)
	var ok bool
	if !d.lit(`{"administration":`) {
		return false
	}
	if c.Administration, ok = d.strIn(&d.admin); !ok || !d.lit(`,"debtor_code":`) {
		return false
	}
	if c.DebtorCode, ok = d.str(); !ok || !d.optStr(`,"debtor_number":`, nil, &c.DebtorNumber) || !d.lit(`,"name":`) {
		return false
	}
	if c.Name, ok = d.str(); !ok || !d.optStr(`,"status":`, &d.status, &c.Status) {
		return false
	}
	switch {
	case d.lit(`,"blocked":true`):
		c.Blocked = true
	case d.lit(`,"blocked":false`):
	default:
		return false
	}
	if !d.optStr(`,"price_list":`, &d.list, &c.PriceList) ||
		!d.optStr(`,"payment_condition":`, &d.payment, &c.PaymentCondition) ||
		!d.optStr(`,"delivery_method":`, &d.delivery, &c.DeliveryMethod) {
		return false
	}
	if d.lit(`,"discount_percent":`) {
		v, ok := d.dec()
		if !ok {
			return false
		}
		c.DiscountPercent = &v
	}
	if !d.optStr(`,"currency":`, &d.currency, &c.Currency) {
		return false
	}
	if d.lit(`,"addresses":[`) {
		as := d.addrs[:0]
		for {
			var a Address
			if !d.lit(`{"type":`) {
				return false
			}
			if a.Type, ok = d.strIn(&d.addrType); !ok || !d.lit(`,"line1":`) {
				return false
			}
			if a.Line1, ok = d.str(); !ok || !d.lit(`,"line2":`) {
				return false
			}
			if a.Line2, ok = d.str(); !ok || !d.lit(`,"postcode":`) {
				return false
			}
			if a.Postcode, ok = d.str(); !ok || !d.lit(`,"city":`) {
				return false
			}
			if a.City, ok = d.strIn(&d.city); !ok || !d.lit(`,"country":`) {
				return false
			}
			if a.Country, ok = d.strIn(&d.country); !ok || !d.lit(`}`) {
				return false
			}
			as = append(as, a)
			if d.lit(`]`) {
				break
			}
			if !d.lit(`,`) {
				return false
			}
		}
		d.addrs = as
		c.Addresses = append([]Address(nil), as...)
		clear(as)
	}
	return d.end()
}
