package feed

import (
	"globex/internal/decimal"
)

// Catalogue is one sales item (catalogue feed). Codes are trimmed by the
// producer; UpdatedAt is RFC 3339 in UTC.
type Catalogue struct {
	Administration   string            `json:"administration"`
	ItemCode         string            `json:"item_code"`
	Description      string            `json:"description"`
	Descriptions     map[string]string `json:"descriptions,omitempty"` // language code → text
	LongDescription  string            `json:"long_description,omitempty"`
	GroupCode        string            `json:"group_code,omitempty"`
	GroupDescription string            `json:"group_description,omitempty"`
	Unit             string            `json:"unit,omitempty"`
	SalesPrice       *decimal.Dec      `json:"sales_price,omitempty"` // nil: the export carried no price
	Currency         string            `json:"currency,omitempty"`
	VATCode          string            `json:"vat_code,omitempty"`
	GTIN             string            `json:"gtin,omitempty"`
	Status           string            `json:"status"`               // active|blocked|discontinued|inactive|future
	Attributes       map[string]string `json:"attributes,omitempty"` // label → value
	UpdatedAt        string            `json:"updated_at,omitempty"`
}

// Availability classes of a Stock record.
const (
	InStock    = "in_stock"
	LowStock   = "low_stock"
	OutOfStock = "out_of_stock"
	Backorder  = "backorder" // nothing available, but incoming stock is expected
)

// Stock is the stock position of one item in one administration (stock
// feed), summed over the warehouses that count.
//
// Available is nil when the exchange's display mode hides the exact figure
// (capped mode above the cap, class mode always); Display then carries what
// the shop should show ("100+"), or is empty in class mode, where
// Availability alone is meant to be shown. ExpectedDate is YYYY-MM-DD,
// MeasuredAt RFC 3339 in UTC.
type Stock struct {
	Administration string          `json:"administration"`
	ItemCode       string          `json:"item_code"`
	OnHand         decimal.Dec     `json:"on_hand"`
	Reserved       decimal.Dec     `json:"reserved"`
	Incoming       decimal.Dec     `json:"incoming"`
	Available      *decimal.Dec    `json:"available,omitempty"`
	Availability   string          `json:"availability"`
	Display        string          `json:"display,omitempty"`
	ExpectedDate   string          `json:"expected_date,omitempty"`
	Warehouses     StockWarehouses `json:"warehouses,omitempty"` // in code order; JSON: code → figures
	MeasuredAt     string          `json:"measured_at,omitempty"`

	// figs is scratch space of the chunk encoders, no part of the record
	// (see JSONChunkEncoder).
	figs figMemo
}

// WarehouseStock is the stock of an item in one warehouse. Available is nil
// when the display mode hides it (see Stock).
type WarehouseStock struct {
	Code      string       `json:"-"` // the warehouse (the key of the JSON object)
	OnHand    decimal.Dec  `json:"on_hand"`
	Reserved  decimal.Dec  `json:"reserved"`
	Incoming  decimal.Dec  `json:"incoming"`
	Available *decimal.Dec `json:"available,omitempty"`
}

// Discount types of a price Break.
const (
	DiscountPercentage = "percentage"
	DiscountAmount     = "amount"
	DiscountNetPrice   = "net_price"
	DiscountMarkup     = "markup"
)

// Price is one price agreement (prices feed): a list price (Customer empty)
// or a customer-specific price, for an item (ItemCode) or an item group
// (GroupCode); exactly one of the two is set. Dates are YYYY-MM-DD.
type Price struct {
	Administration string       `json:"administration"`
	PriceList      string       `json:"price_list"`
	Currency       string       `json:"currency,omitempty"`
	ItemCode       string       `json:"item_code,omitempty"`
	GroupCode      string       `json:"group_code,omitempty"`
	Customer       string       `json:"customer"` // debtor code; empty for a list price
	Unit           string       `json:"unit,omitempty"`
	Factor         *decimal.Dec `json:"factor,omitempty"`
	BasePrice      decimal.Dec  `json:"base_price"`
	ValidFrom      string       `json:"valid_from,omitempty"`
	ValidTo        string       `json:"valid_to,omitempty"`
	Breaks         []Break      `json:"breaks,omitempty"`
}

// Break is one quantity break of a Price.
type Break struct {
	MinQuantity  decimal.Dec  `json:"min_quantity"`
	DiscountType string       `json:"discount_type"` // percentage|amount|net_price|markup
	Value        decimal.Dec  `json:"value"`
	NetPrice     *decimal.Dec `json:"net_price,omitempty"`
}

// Customer is one debtor (customers feed).
type Customer struct {
	Administration   string       `json:"administration"`
	DebtorCode       string       `json:"debtor_code"`
	DebtorNumber     string       `json:"debtor_number,omitempty"`
	Name             string       `json:"name"`
	Status           string       `json:"status,omitempty"`
	Blocked          bool         `json:"blocked"`
	PriceList        string       `json:"price_list,omitempty"`
	PaymentCondition string       `json:"payment_condition,omitempty"`
	DeliveryMethod   string       `json:"delivery_method,omitempty"`
	DiscountPercent  *decimal.Dec `json:"discount_percent,omitempty"`
	Currency         string       `json:"currency,omitempty"`
	Addresses        []Address    `json:"addresses,omitempty"`
}

// Address is one address of a Customer.
type Address struct {
	Type     string `json:"type"` // e.g. invoice, delivery, visit, postal
	Line1    string `json:"line1"`
	Line2    string `json:"line2"`
	Postcode string `json:"postcode"`
	City     string `json:"city"`
	Country  string `json:"country"` // ISO 3166 alpha-2
}

// Kind implements Record.
func (*Catalogue) Kind() Kind { return KindCatalogue }

// Kind implements Record.
func (*Stock) Kind() Kind { return KindStock }

// Kind implements Record.
func (*Price) Kind() Kind { return KindPrices }

// Kind implements Record.
func (*Customer) Kind() Kind { return KindCustomers }

// Key implements Record: administration and item code.
func (c *Catalogue) Key() string { return joinKey(c.Administration, c.ItemCode) }

// Key implements Record: administration and item code.
func (s *Stock) Key() string { return joinKey(s.Administration, s.ItemCode) }

// Key implements Record: administration, price list, item code, group code,
// customer, unit and valid-from date.
func (p *Price) Key() string {
	return joinKey(p.Administration, p.PriceList, p.ItemCode, p.GroupCode, p.Customer, p.Unit, p.ValidFrom)
}

// Key implements Record: administration and debtor code.
func (c *Customer) Key() string { return joinKey(c.Administration, c.DebtorCode) }

// KeyFields implements Record.
func (c *Catalogue) KeyFields() []KeyField { return KeyFieldsOf(KindCatalogue, c.Key()) }

// KeyFields implements Record.
func (s *Stock) KeyFields() []KeyField { return KeyFieldsOf(KindStock, s.Key()) }

// KeyFields implements Record.
func (p *Price) KeyFields() []KeyField { return KeyFieldsOf(KindPrices, p.Key()) }

// KeyFields implements Record.
func (c *Customer) KeyFields() []KeyField { return KeyFieldsOf(KindCustomers, c.Key()) }

// AppendJSON implements Record.
func (c *Catalogue) AppendJSON(b []byte) []byte {
	o := openObj(b)
	o.str("administration", c.Administration)
	o.str("item_code", c.ItemCode)
	o.str("description", c.Description)
	o.strMapOmit("descriptions", c.Descriptions)
	o.strOmit("long_description", c.LongDescription)
	o.strOmit("group_code", c.GroupCode)
	o.strOmit("group_description", c.GroupDescription)
	o.strOmit("unit", c.Unit)
	o.decOmit("sales_price", c.SalesPrice)
	o.strOmit("currency", c.Currency)
	o.strOmit("vat_code", c.VATCode)
	o.strOmit("gtin", c.GTIN)
	o.str("status", c.Status)
	o.strMapOmit("attributes", c.Attributes)
	o.strOmit("updated_at", c.UpdatedAt)
	return o.close()
}

// AppendJSON implements Record.
func (s *Stock) AppendJSON(b []byte) []byte { return s.appendJSON(b, nil) }

// AppendJSON appends w's JSON object to b, as encoding/json would.
func (w WarehouseStock) AppendJSON(b []byte) []byte { return w.appendJSON(b, nil) }

// AppendJSON implements Record.
func (p *Price) AppendJSON(b []byte) []byte {
	o := openObj(b)
	o.str("administration", p.Administration)
	o.str("price_list", p.PriceList)
	o.strOmit("currency", p.Currency)
	o.strOmit("item_code", p.ItemCode)
	o.strOmit("group_code", p.GroupCode)
	o.str("customer", p.Customer)
	o.strOmit("unit", p.Unit)
	o.decOmit("factor", p.Factor)
	o.dec("base_price", p.BasePrice)
	o.strOmit("valid_from", p.ValidFrom)
	o.strOmit("valid_to", p.ValidTo)
	if len(p.Breaks) > 0 {
		o.name("breaks")
		o.b = append(o.b, '[')
		for i, br := range p.Breaks {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			bo := openObj(o.b)
			bo.dec("min_quantity", br.MinQuantity)
			bo.str("discount_type", br.DiscountType)
			bo.dec("value", br.Value)
			bo.decOmit("net_price", br.NetPrice)
			o.b = bo.close()
		}
		o.b = append(o.b, ']')
	}
	return o.close()
}

// AppendJSON implements Record.
func (c *Customer) AppendJSON(b []byte) []byte {
	o := openObj(b)
	o.str("administration", c.Administration)
	o.str("debtor_code", c.DebtorCode)
	o.strOmit("debtor_number", c.DebtorNumber)
	o.str("name", c.Name)
	o.strOmit("status", c.Status)
	o.boolean("blocked", c.Blocked)
	o.strOmit("price_list", c.PriceList)
	o.strOmit("payment_condition", c.PaymentCondition)
	o.strOmit("delivery_method", c.DeliveryMethod)
	o.decOmit("discount_percent", c.DiscountPercent)
	o.strOmit("currency", c.Currency)
	if len(c.Addresses) > 0 {
		o.name("addresses")
		o.b = append(o.b, '[')
		for i, a := range c.Addresses {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			ao := openObj(o.b)
			ao.str("type", a.Type)
			ao.str("line1", a.Line1)
			ao.str("line2", a.Line2)
			ao.str("postcode", a.Postcode)
			ao.str("city", a.City)
			ao.str("country", a.Country)
			o.b = ao.close()
		}
		o.b = append(o.b, ']')
	}
	return o.close()
}
