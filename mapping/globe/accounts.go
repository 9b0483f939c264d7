package globe

import (
	"io"

	"globex/internal/decimal"
)

// Account is one <Account> of an Accounts export (a relation; a debtor when
// it has a <Debtor>). Codes are trimmed of the right-aligned padding Globe
// writes.
type Account struct {
	Line   int    // line of the <Account> start tag
	Code   string // Account@code (cicmpy.cmp_code)
	Type   string // Account@type: C customer, P prospect, S supplier, ...
	Status string // Account@status: A active, B blocked, E exit, N, P, R, S

	// Blocked is true when Status is "B" or a Blocked element says yes.
	Blocked bool

	Name  string
	Phone string
	Email string

	Addresses []Address

	IsDebtor        bool   // a Debtor element is present
	DebtorCode      string // Debtor@code (cicmpy.debcode), the webshop customer key
	DebtorNumber    string // Debtor@number (cicmpy.debnr)
	InvoiceDebtor   string // Debtor/DebtorInvoice@number
	Currency        string // Debtor/Currency@code
	CreditLine      decimal.Dec
	HasCreditLine   bool
	DiscountPercent decimal.Dec // Debtor/Discount/Percentage
	HasDiscount     bool

	VATCode           string // VAT@code
	VATNumber         string
	ChamberOfCommerce string

	PaymentMethod               string // PaymentMethod@code
	PaymentCondition            string // PaymentCondition@code
	PaymentConditionDescription string // PaymentCondition/Description
	DeliveryMethod              string // DeliveryMethod@code
	PriceList                   string // PriceList@code

	Categories []Category // Categories/Category
	FreeFields FreeFields
}

// Address is one Addresses/Address of an account.
type Address struct {
	Type       string // Address@type (e.g. INV, DEL, VIS, POS; site-specific)
	Line1      string
	Line2      string
	Line3      string
	PostalCode string
	City       string
	State      string
	Country    string // Country@code
}

// Clone returns a copy of a that shares no slices with it.
func (a *Account) Clone() *Account {
	c := *a
	c.Addresses = append([]Address(nil), a.Addresses...)
	c.Categories = append([]Category(nil), a.Categories...)
	c.FreeFields = a.FreeFields.clone()
	return &c
}

// ReadAccounts reads an Accounts export (<eExact><Accounts><Account>…) and
// calls fn for each Account in file order. The *Account is reused after fn
// returns.
func ReadAccounts(r io.Reader, opt Options, fn func(*Account) error) error {
	h := &accountHandler{fn: fn}
	return run(r, opt, eAccounts, eAccount, h)
}

type accountHandler struct {
	fn  func(*Account) error
	a   Account
	num int
	lbl string
}

func (h *accountHandler) begin(w *walker) {
	a := &h.a
	addr, cats, ff := a.Addresses[:0], a.Categories[:0], a.FreeFields
	ff.reset()
	*a = Account{Addresses: addr, Categories: cats, FreeFields: ff, Line: w.recLine}
	a.Code = str(w.attr("code"))
	a.Type = w.intern(w.attr("type"))
	a.Status = w.intern(w.attr("status"))
	a.Blocked = a.Status == "B"
}

func (h *accountHandler) fail(w *walker, field string, val []byte, err error) {
	w.fail("Account", h.a.Code, field, val, err)
}

func (h *accountHandler) start(w *walker, rel []elem) bool {
	a := &h.a
	switch len(rel) {
	case 1:
		switch rel[0] {
		case eName, ePhone, eEmail, eVATNumber, eChamberOfCommerce, eBlocked:
			return true
		case eDebtor:
			a.IsDebtor = true
			a.DebtorCode = str(w.attr("code"))
			a.DebtorNumber = str(w.attr("number"))
		case eVAT:
			a.VATCode = w.intern(w.attr("code"))
		case ePaymentMethod:
			a.PaymentMethod = w.intern(w.attr("code"))
		case ePaymentCondition:
			a.PaymentCondition = w.intern(w.attr("code"))
		case eDeliveryMethod:
			a.DeliveryMethod = w.intern(w.attr("code"))
		case ePriceList:
			a.PriceList = w.intern(w.attr("code"))
		}
	case 2:
		switch rel[0] {
		case eAddresses:
			if rel[1] == eAddress {
				a.Addresses = append(a.Addresses, Address{Type: w.intern(w.attr("type"))})
			}
		case eDebtor:
			switch rel[1] {
			case eCurrency:
				a.Currency = w.intern(w.attr("code"))
			case eDebtorInvoice:
				a.InvoiceDebtor = str(w.attr("number"))
			case eCreditLine:
				return true
			}
		case ePaymentCondition:
			return rel[1] == eDescription
		case eCategories:
			if rel[1] == eCategory {
				n := w.number(h.fail, "Categories/Category")
				a.Categories = append(a.Categories, Category{Number: n, Code: str(w.attr("code"))})
				return false
			}
		}
	case 3:
		switch {
		case rel[0] == eAddresses && rel[1] == eAddress && len(a.Addresses) > 0:
			switch rel[2] {
			case eAddressLine1, eAddressLine2, eAddressLine3, ePostalCode, eCity, eState:
				return true
			case eCountry:
				a.Addresses[len(a.Addresses)-1].Country = w.intern(w.attr("code"))
			}
		case rel[0] == eDebtor && rel[1] == eDiscount:
			return rel[2] == ePercentage
		case rel[0] == eCategories && rel[1] == eCategory:
			return rel[2] == eDescription
		case rel[0] == eFreeFields:
			ok := isFreeField(rel[1], rel[2])
			if ok {
				h.num, h.lbl = w.number(h.fail, "FreeFields/"+elemNames[rel[2]]), w.intern(w.attr("label"))
			}
			return ok
		}
	}
	return false
}

func (h *accountHandler) end(w *walker, rel []elem, txt []byte) {
	a := &h.a
	switch len(rel) {
	case 1:
		switch rel[0] {
		case eName:
			a.Name = str(txt)
		case ePhone:
			a.Phone = str(txt)
		case eEmail:
			a.Email = str(txt)
		case eVATNumber:
			a.VATNumber = str(txt)
		case eChamberOfCommerce:
			a.ChamberOfCommerce = str(txt)
		case eBlocked:
			f, err := parseFlag(txt)
			if err != nil {
				h.fail(w, "Blocked", txt, err)
			}
			if f == Yes {
				a.Blocked = true
			}
		}
	case 2:
		switch {
		case rel[0] == eDebtor && rel[1] == eCreditLine:
			d, ok, err := parseDec(txt)
			if err != nil {
				h.fail(w, "Debtor/CreditLine", txt, err)
			}
			a.CreditLine, a.HasCreditLine = d, ok
		case rel[0] == ePaymentCondition && rel[1] == eDescription:
			a.PaymentConditionDescription = w.intern(txt)
		}
	case 3:
		switch {
		case rel[0] == eAddresses && rel[1] == eAddress && len(a.Addresses) > 0:
			ad := &a.Addresses[len(a.Addresses)-1]
			switch rel[2] {
			case eAddressLine1:
				ad.Line1 = str(txt)
			case eAddressLine2:
				ad.Line2 = str(txt)
			case eAddressLine3:
				ad.Line3 = str(txt)
			case ePostalCode:
				ad.PostalCode = str(txt)
			case eCity:
				ad.City = str(txt)
			case eState:
				ad.State = str(txt)
			}
		case rel[0] == eDebtor && rel[1] == eDiscount && rel[2] == ePercentage:
			d, ok, err := parseDec(txt)
			if err != nil {
				h.fail(w, "Debtor/Discount/Percentage", txt, err)
			}
			a.DiscountPercent, a.HasDiscount = d, ok
		case rel[0] == eCategories && rel[1] == eCategory && rel[2] == eDescription && len(a.Categories) > 0:
			a.Categories[len(a.Categories)-1].Description = str(txt)
		case rel[0] == eFreeFields:
			freeEnd(w, &a.FreeFields, rel[2], h.num, h.lbl, txt, func(f string, v []byte, err error) { h.fail(w, f, v, err) })
		}
	}
}

func (h *accountHandler) finish(w *walker) error { return h.fn(&h.a) }
