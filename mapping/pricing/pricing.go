// Package pricing turns the lines of a Globe ItemPrices export
// (globe.ItemPrice) into prices feed records (feed.Price, CONTRACT §5):
// price-list lines, customer price agreements and item-group lines, with
// their quantity breaks and, where the inputs allow, the net price of every
// break.
//
// # Discount types
//
// Discounts@type is read as [INF, strong; globe-formats §3.1]:
//
//	P  percentage  net = base × (1 − v/100)
//	B  amount      net = base − v            (Dutch "bedrag": an amount off per unit)
//	N  net_price   net = v                   ("nieuwe prijs")
//	M  markup      net = cost × factor × (1 + v/100), only when the cost is known
//
// base is the line's Value (the price per Unit the discounts apply to);
// when the line has no Value it is Options.BasePrice(item) × Factor, Globe's
// own default ("the Sls. price" × factor). cost is Options.Cost(item), a
// price per standard unit, times Factor. Nothing is guessed: when the
// inputs are missing (markup without a known cost, percentage or amount
// without a base), the break keeps its value and its net_price stays nil,
// and a warning says so. An amount larger than the base would give a
// negative price; that net_price is nil too, with a warning.
//
// # Rounding
//
// Amount and net-price breaks are exact. Percentage and markup breaks
// multiply by (100 ± v)/100, which is exact as well, but the digits add up
// (0.4275 × 0.875 = 0.37406250); such a result is rounded half away from
// zero to 4 decimals when it has more than 4 significant decimals, and
// otherwise kept exact. A result has at least its base's decimals, up to 4
// (10.00 × 90% is "9.00", not "9").
//
// # Lines
//
// An item-group line (LineType 2) carries group_code instead of item_code:
// the assortment code from Options.GroupCode when it knows the number, else
// the assortment number itself (with a warning, because the catalogue feed
// uses Assortment@code where the items export has one). Only a net-price
// (N) group line has net prices: a percentage, amount or markup applies
// to each item's own price or cost, so its net_price stays nil (with a
// warning). A line with an
// Account is a customer price agreement: customer is the account code,
// trimmed; Globe's account code normally equals the debtor code [INF].
// Lines of a purchase price list (PriceList@type P) never reach the feed:
// Map returns a nil record with a warning. Validity dates are YYYY-MM-DD;
// Globe's open end 2299-12-31 is passed on as written.
package pricing

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"globex/internal/decimal"
	"globex/mapping/feed"
	"globex/mapping/globe"
)

// DefaultCurrency fills currency when the line's price list names none
// (not even on an earlier line of the same list) and Options.Currency is
// empty.
const DefaultCurrency = "EUR"

// Places is the number of decimals a percentage or markup net price is
// rounded to when the exact product has more.
const Places = 4

// Options are the choices and lookups for the prices feed. A nil *Options
// means the zero value.
type Options struct {
	// Administration is the Globe administration number carried into
	// every record.
	Administration string

	// Cost returns an item's cost price per standard unit (Costs/Price of
	// the items export), for markup breaks. Optional: without it, markup
	// breaks have no net_price.
	Cost func(item string) (decimal.Dec, bool)

	// BasePrice returns an item's standard sales price per standard unit
	// (Sales/Price of the items export), used when a line has no Value.
	// Optional.
	BasePrice func(item string) (decimal.Dec, bool)

	// GroupCode returns the Assortment@code of an assortment number, so
	// that group lines carry the same group_code as the catalogue feed.
	// Optional: without it, or when it does not know the number,
	// group_code is the number.
	GroupCode func(number string) (string, bool)

	// Currency fills currency when the price list names none; empty means
	// DefaultCurrency (EUR).
	Currency string
}

// Validate checks the configured values.
func (o *Options) Validate() error {
	if o == nil {
		return nil
	}
	if err := feed.CheckCurrency(o.Currency); err != nil {
		return err
	}
	return nil
}

// discountTypes maps Discounts@type to the feed's discount_type.
var discountTypes = map[string]string{
	"P": feed.DiscountPercentage,
	"B": feed.DiscountAmount,
	"N": feed.DiscountNetPrice,
	"M": feed.DiscountMarkup,
}

var hundred = decimal.FromInt(100)

// Map turns one ItemPrice line into a price record. warnings say what could
// not be computed or was assumed, one sentence each, naming the line. A
// nil record with a nil error means the line is left out on purpose (a
// purchase price list); the warning says why. An error means the line
// cannot be read as a price (no item code, an unknown discount type or line
// type, a number out of range); the caller decides whether that fails the
// export. p may be a record reused by the reader: the result shares
// nothing with it.
func Map(p *globe.ItemPrice, opt *Options) (*feed.Price, []string, error) {
	if opt == nil {
		opt = &Options{}
	}
	var warns []string
	code := strings.TrimSpace(p.ItemCode)
	list := strings.TrimSpace(p.PriceList)
	group := "" // assortment number of a group line
	// where names the line in warnings and errors; built only when needed.
	where := func() string {
		switch {
		case group != "":
			return fmt.Sprintf("line %d (item group %s, price list %s): ", p.Line, group, list)
		case code != "":
			return fmt.Sprintf("line %d (item %s, price list %s): ", p.Line, code, list)
		}
		return fmt.Sprintf("line %d: ", p.Line)
	}
	warn := func(format string, args ...any) {
		warns = append(warns, where()+fmt.Sprintf(format, args...))
	}
	fail := func(format string, args ...any) (*feed.Price, []string, error) {
		return nil, warns, errors.New(where() + fmt.Sprintf(format, args...))
	}

	if strings.EqualFold(strings.TrimSpace(p.PriceListType), "P") {
		warn("purchase price list left out")
		return nil, warns, nil
	}
	if list == "" {
		return fail("no price list code")
	}
	rec := &feed.Price{
		Administration: opt.Administration,
		PriceList:      list,
		Currency:       strings.TrimSpace(p.Currency),
		Customer:       strings.TrimSpace(p.Account),
		Unit:           strings.TrimSpace(p.Unit),
	}
	if rec.Currency == "" {
		rec.Currency = opt.Currency
		if rec.Currency == "" {
			rec.Currency = DefaultCurrency
		}
	}
	switch p.LineType {
	case 0, 1:
		if code == "" {
			return fail("no item code")
		}
		rec.ItemCode = code
	case 2:
		num := strings.TrimSpace(p.GroupNumber)
		if num == "" {
			num = strings.TrimSpace(strings.TrimPrefix(code, globe.GroupItemPrefix))
		}
		if num == "" {
			return fail("item-group line (LineType 2) without an assortment number in Item@code")
		}
		group = num
		rec.GroupCode = num
		if opt.GroupCode != nil {
			if g, ok := opt.GroupCode(num); ok && strings.TrimSpace(g) != "" {
				rec.GroupCode = strings.TrimSpace(g)
			} else {
				warn("assortment number %s has no code in the items export; group_code is the number", num)
			}
		} else {
			warn("no assortment lookup configured; group_code is the assortment number %s", num)
		}
	default:
		return fail("unknown LineType %d (want 1 item or 2 item group)", p.LineType)
	}

	// factor: standard units per Unit; 1 when absent.
	factor := decimal.FromInt(1)
	if p.HasFactor {
		f := p.Factor
		rec.Factor = &f
		if f.Sign() > 0 {
			factor = f
		} else {
			warn("factor %s is not positive; cost and base price fall-backs use 1", f)
		}
	}

	base, hasBase := p.Value, p.HasValue
	if !hasBase && rec.ItemCode != "" && opt.BasePrice != nil {
		if sp, ok := opt.BasePrice(rec.ItemCode); ok {
			b, err := sp.Mul(factor)
			if err != nil {
				return fail("base price %s × factor %s: %v", sp, factor, err)
			}
			base, hasBase = b, true
			warn("no Value on the line; base_price is the item's sales price %s × factor %s", sp, factor)
		}
	}
	if hasBase {
		rec.BasePrice = base
	} else {
		warn("no Value on the line and no sales price known; base_price is 0")
	}
	if !p.ValidFrom.IsZero() {
		rec.ValidFrom = p.ValidFrom.UTC().Format(time.DateOnly)
	}
	if !p.ValidTo.IsZero() {
		rec.ValidTo = p.ValidTo.UTC().Format(time.DateOnly)
	}
	if !p.ValidFrom.IsZero() && !p.ValidTo.IsZero() && p.ValidTo.Before(p.ValidFrom) {
		warn("valid_to %s is before valid_from %s", rec.ValidTo, rec.ValidFrom)
	}

	dt := strings.ToUpper(strings.TrimSpace(p.DiscountType))
	if len(p.Breaks) == 0 {
		return rec, warns, nil
	}
	kind, ok := discountTypes[dt]
	if !ok {
		if dt == "" {
			return fail("quantity breaks without a Discounts@type")
		}
		return fail("unknown Discounts@type %q (want P, B, N or M)", p.DiscountType)
	}

	// markup: cost per Unit, known or not.
	var cost decimal.Dec
	hasCost := false
	if rec.GroupCode != "" && kind != feed.DiscountNetPrice {
		// A group line's percentage, amount or markup applies to each
		// item's own price or cost: there is no single net price.
		warn("item-group line: %s applies to each item's own price; net_price left empty", kind)
		hasBase = false
	} else if kind == feed.DiscountMarkup {
		switch {
		case opt.Cost == nil:
			warn("markup without a cost price lookup: net_price left empty")
		default:
			c, ok := opt.Cost(rec.ItemCode)
			if !ok {
				warn("markup but the cost price of item %s is unknown: net_price left empty", rec.ItemCode)
				break
			}
			cu, err := c.Mul(factor)
			if err != nil {
				return fail("cost price %s × factor %s: %v", c, factor, err)
			}
			cost, hasCost = cu, true
		}
	}
	if (kind == feed.DiscountPercentage || kind == feed.DiscountAmount) && !hasBase && rec.GroupCode == "" {
		warn("%s breaks without a base price: net_price left empty", kind)
	}

	rec.Breaks = make([]feed.Break, 0, len(p.Breaks))
	nets := make([]decimal.Dec, len(p.Breaks)) // one allocation for all net prices
	var prev decimal.Dec
	for i, b := range p.Breaks {
		if i > 0 && b.Quantity.Cmp(prev) <= 0 {
			warn("break %d: quantity %s does not rise above %s", b.Number, b.Quantity, prev)
		}
		prev = b.Quantity
		fb := feed.Break{MinQuantity: b.Quantity, DiscountType: kind, Value: b.Value}
		var net decimal.Dec
		var err error
		have := false
		switch kind {
		case feed.DiscountPercentage:
			if hasBase {
				net, err = percentOf(base, b.Value, -1)
				have = true
			}
		case feed.DiscountAmount:
			if hasBase {
				net, err = base.Sub(b.Value)
				have = true
			}
		case feed.DiscountNetPrice:
			net, have = b.Value, true
		case feed.DiscountMarkup:
			if hasCost {
				net, err = percentOf(cost, b.Value, +1)
				have = true
			}
		}
		if err != nil {
			return fail("break %d: net price out of range: %v", b.Number, err)
		}
		if have && net.Sign() < 0 {
			warn("break %d: %s %s gives a negative net price; net_price left empty", b.Number, kind, b.Value)
			have = false
		}
		if have {
			nets[i] = net
			fb.NetPrice = &nets[i]
		}
		rec.Breaks = append(rec.Breaks, fb)
	}
	return rec, warns, nil
}

// percentOf returns x × (100 + sign×v) / 100, rounded half away from zero
// to Places decimals only when the exact result has more, and with at least
// min(x's decimals, Places) decimals.
func percentOf(x, v decimal.Dec, sign int) (decimal.Dec, error) {
	if sign < 0 {
		v = v.Neg()
	}
	f, err := hundred.Add(v)
	if err != nil {
		return decimal.Dec{}, err
	}
	r, err := x.Mul(f)
	if err != nil {
		return decimal.Dec{}, err
	}
	if r, err = r.Shift(2); err != nil {
		return decimal.Dec{}, err
	}
	r = r.Normalize()
	if r.Scale() > Places {
		r = r.Round(Places).Normalize()
	}
	if want := min(x.Scale(), Places); r.Scale() < want {
		// widen to x's decimals: 9 → 9.00 when x is 10.00
		return decimal.New(0, want).Add(r)
	}
	return r, nil
}
