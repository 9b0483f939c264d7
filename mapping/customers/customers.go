// Package customers turns the accounts of a Globe Accounts export
// (globe.Account) into customers feed records (feed.Customer, CONTRACT §5).
//
// # Which accounts are debtors
//
// An account is a debtor when it carries a <Debtor> element with a
// non-empty Debtor@code (cicmpy.debcode) [XSD typeAccount]. Suppliers
// (type S with only a <Creditor>), prospects, leads, employees and other
// relations have no Debtor and are left out with the reason "not a
// debtor". An account that is both debtor and creditor is a customer and
// is kept. Account@type is not used to recognise a debtor (a reseller R or
// an associate A may be a debtor too); Options.Types can narrow it down.
//
// # Status and blocked
//
// Account@status (cmp_status) maps as [XSD: "A=Active, B=Blocked, E=Exit,
// N=Not validated, P=Pilot, R=Reference, S=Passive"]:
//
//	A → active          B → blocked         E → exit
//	N → not_validated   P → pilot           R → reference
//	S → passive         "" → active [INF]
//
// Another code is passed on lower-cased. blocked is true when the status
// is B, when a <Blocked> element says yes [ENT], or when the status is E
// (the relation has ended) [INF: globe-formats §4, "treat B and E as not
// allowed to order"]. Every status reaches the feed unless
// Options.Statuses narrows it.
//
// # Addresses
//
// Address@type codes are site-specific [UNK]. The mapping, case-insensitive:
//
//	INV, INVOICE, FAC, FACTUUR          → invoice
//	DEL, DELIVERY, AFL, AFLEVER, LEV    → delivery
//	VIS, VISIT, BEZ, BEZOEK             → visit
//	POS, POSTAL, POST                   → postal
//
// Options.AddressTypes adds or overrides codes; another code is passed on
// lower-cased, and an address without a type gets "visit" [INF: the
// account's own address in Globe is its visiting address]. line1 is
// AddressLine1; line2 is AddressLine2 and AddressLine3 joined with ", ".
// An address with no line, postcode, city or country at all is dropped.
package customers

import (
	"fmt"
	"slices"
	"strings"

	"globex/mapping/feed"
	"globex/mapping/globe"
)

// Customer status names.
const (
	StatusActive       = "active"
	StatusBlocked      = "blocked"
	StatusExit         = "exit"
	StatusNotValidated = "not_validated"
	StatusPilot        = "pilot"
	StatusReference    = "reference"
	StatusPassive      = "passive"
)

// AllStatuses lists the customer statuses of the XSD's Account@status.
var AllStatuses = []string{StatusActive, StatusBlocked, StatusExit, StatusNotValidated, StatusPilot, StatusReference, StatusPassive}

var statuses = map[string]string{
	"A": StatusActive,
	"B": StatusBlocked,
	"E": StatusExit,
	"N": StatusNotValidated,
	"P": StatusPilot,
	"R": StatusReference,
	"S": StatusPassive,
}

// accountTypes are the Account@type codes of the XSD.
var accountTypes = []string{"A", "B", "C", "D", "E", "L", "N", "P", "R", "S", "T"}

// Address types of the feed.
const (
	AddressInvoice  = "invoice"
	AddressDelivery = "delivery"
	AddressVisit    = "visit"
	AddressPostal   = "postal"
)

var addressTypes = map[string]string{
	"INV": AddressInvoice, "INVOICE": AddressInvoice, "FAC": AddressInvoice, "FACTUUR": AddressInvoice,
	"DEL": AddressDelivery, "DELIVERY": AddressDelivery, "AFL": AddressDelivery, "AFLEVER": AddressDelivery, "LEV": AddressDelivery,
	"VIS": AddressVisit, "VISIT": AddressVisit, "BEZ": AddressVisit, "BEZOEK": AddressVisit,
	"POS": AddressPostal, "POSTAL": AddressPostal, "POST": AddressPostal,
}

// Options are the choices for the customers feed. A nil *Options means the
// zero value: every debtor, every status, the built-in address types.
type Options struct {
	// Administration is the Globe administration number carried into
	// every record.
	Administration string

	// Statuses lists the customer statuses that reach the feed (names of
	// AllStatuses); empty means all.
	Statuses []string

	// Types lists the Account@type codes that reach the feed (C customer,
	// R reseller, …); empty means any type, as long as it is a debtor.
	Types []string

	// AddressTypes adds or overrides Address@type code → feed address type
	// (invoice, delivery, visit, postal or a name of your own).
	AddressTypes map[string]string

	// Currency fills currency when the debtor names none; empty leaves it
	// empty.
	Currency string
}

// Filter checks a configured status filter and returns it in canonical
// form (trimmed, lower case), or an error naming the first unknown status.
func Filter(list []string) ([]string, error) {
	return feed.CanonicalNames("statuses", "customer status", list, AllStatuses)
}

// Validate checks the configured values: statuses, account types and
// address type mappings, and the currency.
func (o *Options) Validate() error {
	if o == nil {
		return nil
	}
	if _, err := Filter(o.Statuses); err != nil {
		return err
	}
	if err := feed.CheckCurrency(o.Currency); err != nil {
		return err
	}
	for i, t := range o.Types {
		if !slices.Contains(accountTypes, strings.ToUpper(strings.TrimSpace(t))) {
			return fmt.Errorf("types[%d]: unknown Globe account type %q (want one of %s)", i, t, strings.Join(accountTypes, ", "))
		}
	}
	for code, name := range o.AddressTypes {
		if strings.TrimSpace(code) == "" || strings.TrimSpace(name) == "" {
			return fmt.Errorf("address_types: empty code or name (%q: %q)", code, name)
		}
	}
	return nil
}

var defaults Options

// Map turns one Globe account into a customer record. keep is false when
// the account is not a debtor or the options leave it out; reason then
// says why, fit for counting in logs. a may be reused by the reader: the
// record shares nothing with it.
func Map(a *globe.Account, opt *Options) (*feed.Customer, bool, string) {
	if opt == nil {
		opt = &defaults
	}
	debtor := strings.TrimSpace(a.DebtorCode)
	if !a.IsDebtor || debtor == "" {
		return nil, false, "not a debtor"
	}
	typ := strings.ToUpper(strings.TrimSpace(a.Type))
	if len(opt.Types) > 0 && !feed.ContainsFold(opt.Types, typ) {
		return nil, false, "account type " + typ + " not in the feed"
	}
	code := strings.ToUpper(strings.TrimSpace(a.Status))
	status, ok := statuses[code]
	switch {
	case code == "":
		status = StatusActive
	case !ok:
		status = strings.ToLower(code)
	}
	if len(opt.Statuses) > 0 && !feed.ContainsFold(opt.Statuses, status) {
		return nil, false, "status " + status + " not in the feed"
	}
	c := &feed.Customer{
		Administration:   opt.Administration,
		DebtorCode:       debtor,
		DebtorNumber:     strings.TrimSpace(a.DebtorNumber),
		Name:             strings.TrimSpace(a.Name),
		Status:           status,
		Blocked:          a.Blocked || code == "B" || code == "E",
		PriceList:        strings.TrimSpace(a.PriceList),
		PaymentCondition: strings.TrimSpace(a.PaymentCondition),
		DeliveryMethod:   strings.TrimSpace(a.DeliveryMethod),
		Currency:         strings.TrimSpace(a.Currency),
	}
	if c.Currency == "" {
		c.Currency = opt.Currency
	}
	if a.HasDiscount {
		d := a.DiscountPercent
		c.DiscountPercent = &d
	}
	if len(a.Addresses) > 0 {
		c.Addresses = make([]feed.Address, 0, len(a.Addresses))
	}
	for _, ad := range a.Addresses {
		fa := feed.Address{
			Type:     addressType(ad.Type, opt.AddressTypes),
			Line1:    strings.TrimSpace(ad.Line1),
			Line2:    joinNonEmpty(", ", ad.Line2, ad.Line3),
			Postcode: strings.TrimSpace(ad.PostalCode),
			City:     strings.TrimSpace(ad.City),
			Country:  strings.ToUpper(strings.TrimSpace(ad.Country)),
		}
		if fa.Line1 == "" && fa.Line2 == "" && fa.Postcode == "" && fa.City == "" && fa.Country == "" {
			continue
		}
		c.Addresses = append(c.Addresses, fa)
	}
	if len(c.Addresses) == 0 {
		c.Addresses = nil
	}
	return c, true, ""
}

func addressType(t string, extra map[string]string) string {
	t = strings.TrimSpace(t)
	if v, ok := extra[t]; ok {
		return v
	}
	for k, v := range extra {
		if strings.EqualFold(k, t) {
			return v
		}
	}
	if t == "" {
		return AddressVisit
	}
	if v, ok := addressTypes[strings.ToUpper(t)]; ok {
		return v
	}
	return strings.ToLower(t)
}

func joinNonEmpty(sep string, parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(p)
	}
	return b.String()
}
