package globe

import (
	"io"
	"strings"
	"time"

	"globex/internal/decimal"
)

// GroupItemPrefix starts the synthetic Item@code of an item-group price line
// (LineType 2); the assortment number follows it.
const GroupItemPrefix = "972CF629-4279-45E4-I"

// ItemPrice is one <ItemPrice> line of an ItemPrices export: a price-list
// line, or a customer price agreement when Account is set.
type ItemPrice struct {
	Line int // line of the <ItemPrice> start tag

	ItemCode    string // Item@code, trimmed; synthetic for group lines
	GroupNumber string // LineType 2: the assortment number after GroupItemPrefix (or the whole code)

	PriceList            string // PriceList@code
	PriceListType        string // PriceList@type: S sales, P purchase
	PriceListDescription string // PriceList/Description
	Currency             string // PriceList/Currency@code, or inherited (see CurrencyInherited)
	// CurrencyInherited is true when this line's PriceList had no Currency
	// and it was taken from an earlier line of the same list in this file.
	CurrencyInherited bool

	Account string // Account@code: set for a price agreement, "" for a list price

	Value     decimal.Dec // Value: the price the discounts apply to (base price)
	HasValue  bool
	Unit      string      // Unit@unit (also @code)
	Factor    decimal.Dec // Factor: standard units per Unit
	HasFactor bool
	LineType  int // 1 item line, 2 item-group line, 0 when absent (means 1)

	ValidFrom time.Time // Availability/DateStart (zero: no start)
	ValidTo   time.Time // Availability/DateEnd (zero: no end)

	DiscountType string  // Discounts@type: P percentage, B amount, N net price, M markup
	Breaks       []Break // Discounts/Discount in file order
}

// Break is one quantity break: from Quantity (in Unit) on, Value applies as
// DiscountType says (P: percent off, B: amount off per unit, N: net price,
// M: markup percent on cost).
type Break struct {
	Number   int // Discount@number, 1..10
	Quantity decimal.Dec
	Value    decimal.Dec
}

// IsGroupLine reports whether p prices an item group rather than an item.
func (p *ItemPrice) IsGroupLine() bool {
	return p.LineType == 2
}

// Clone returns a copy of p that shares no slices with it.
func (p *ItemPrice) Clone() *ItemPrice {
	c := *p
	c.Breaks = append([]Break(nil), p.Breaks...)
	return &c
}

// maxListMemory bounds how many price-list headers are remembered to fill in
// the currency of later lines.
const maxListMemory = 10000

// ReadItemPrices reads an ItemPrices export (<eExact><ItemPrices><ItemPrice>…)
// and calls fn for each line in file order. The *ItemPrice is reused after fn
// returns. A line whose PriceList carries no Currency (or Description)
// inherits them from an earlier line of the same list in the same file.
func ReadItemPrices(r io.Reader, opt Options, fn func(*ItemPrice) error) error {
	h := &priceHandler{fn: fn, lists: map[string]listHead{}}
	return run(r, opt, eItemPrices, eItemPrice, h)
}

type listHead struct{ typ, desc, cur string }

type priceHandler struct {
	fn    func(*ItemPrice) error
	p     ItemPrice
	lists map[string]listHead
	brk   Break
}

func (h *priceHandler) begin(w *walker) {
	br := h.p.Breaks[:0]
	h.p = ItemPrice{Breaks: br, Line: w.recLine}
}

func (h *priceHandler) fail(w *walker, field string, val []byte, err error) {
	key := h.p.ItemCode
	if h.p.PriceList != "" {
		key += " in " + h.p.PriceList
	}
	w.fail("ItemPrice", key, field, val, err)
}

func (h *priceHandler) start(w *walker, rel []elem) bool {
	p := &h.p
	switch len(rel) {
	case 1:
		switch rel[0] {
		case eItem:
			p.ItemCode = str(w.attr("code"))
		case ePriceList:
			p.PriceList = w.intern(w.attr("code"))
			p.PriceListType = w.intern(w.attr("type"))
		case eAccount:
			p.Account = str(w.attr("code"))
		case eUnit:
			if u := w.attr("unit"); len(u) > 0 {
				p.Unit = w.intern(u)
			} else {
				p.Unit = str(w.attr("code"))
			}
		case eValue, eFactor, eLineType:
			return true
		case eDiscounts:
			p.DiscountType = w.intern(w.attr("type"))
		}
	case 2:
		switch rel[0] {
		case ePriceList:
			if rel[1] == eCurrency {
				p.Currency = w.intern(w.attr("code"))
			}
			return rel[1] == eDescription
		case eAvailability:
			return rel[1] == eDateStart || rel[1] == eDateEnd
		case eDiscounts:
			if rel[1] == eDiscount {
				h.brk = Break{Number: w.number(h.fail, "Discounts/Discount")}
			}
		}
	case 3:
		if rel[0] == eDiscounts && rel[1] == eDiscount {
			return rel[2] == eQuantity || rel[2] == eValue
		}
	}
	return false
}

func (h *priceHandler) end(w *walker, rel []elem, txt []byte) {
	p := &h.p
	switch len(rel) {
	case 1:
		switch rel[0] {
		case eValue:
			d, ok, err := parseDec(txt)
			if err != nil {
				h.fail(w, "Value", txt, err)
			}
			p.Value, p.HasValue = d, ok
		case eFactor:
			d, ok, err := parseDec(txt)
			if err != nil {
				h.fail(w, "Factor", txt, err)
			}
			p.Factor, p.HasFactor = d, ok
		case eLineType:
			n, err := parseInt(txt)
			if err != nil {
				h.fail(w, "LineType", txt, err)
			}
			p.LineType = n
		}
	case 2:
		switch rel[0] {
		case ePriceList:
			if rel[1] == eDescription {
				p.PriceListDescription = w.intern(txt)
			}
		case eAvailability:
			availability(rel[1], txt, &p.ValidFrom, &p.ValidTo, func(err error) {
				h.fail(w, "Availability/"+elemNames[rel[1]], txt, err)
			})
		case eDiscounts:
			if rel[1] == eDiscount {
				p.Breaks = append(p.Breaks, h.brk)
			}
		}
	case 3:
		if rel[0] == eDiscounts && rel[1] == eDiscount {
			d, _, err := parseDec(txt)
			if err != nil {
				h.fail(w, "Discounts/Discount/"+elemNames[rel[2]], txt, err)
			}
			if rel[2] == eQuantity {
				h.brk.Quantity = d
			} else if rel[2] == eValue {
				h.brk.Value = d
			}
		}
	}
}

func (h *priceHandler) finish(w *walker) error {
	p := &h.p
	if p.LineType == 2 {
		p.GroupNumber = strings.TrimSpace(strings.TrimPrefix(p.ItemCode, GroupItemPrefix))
	}
	if p.PriceList != "" {
		head, known := h.lists[p.PriceList]
		if p.Currency == "" && known && head.cur != "" {
			p.Currency, p.CurrencyInherited = head.cur, true
		}
		if p.PriceListDescription == "" && known {
			p.PriceListDescription = head.desc
		}
		if p.PriceListType == "" && known {
			p.PriceListType = head.typ
		}
		if (!known || head.cur == "") && len(h.lists) < maxListMemory && (p.Currency != "" || p.PriceListDescription != "") {
			h.lists[p.PriceList] = listHead{typ: p.PriceListType, desc: p.PriceListDescription, cur: p.Currency}
		}
	}
	return h.fn(p)
}
