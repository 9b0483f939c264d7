package globe

import (
	"io"
	"runtime"
	"time"

	"globex/internal/decimal"
)

// Item is one <Item> of an Items export. Codes are trimmed of padding.
type Item struct {
	Line       int    // line of the <Item> start tag
	Code       string // Item@code
	Type       string // Item@type: S standard, B bulk, C contract, L labour, M machine, P phantom, R reason
	SearchCode string // Item@searchcode

	Description     string             // Description (language slot 0)
	LongDescription string             // LongDescription
	Descriptions    []MultiDescription // MultiDescriptions/MultiDescription, in file order

	GroupNumber      string // Assortment@number
	GroupCode        string // Assortment@code (also @Code)
	GroupDescription string // Assortment/Description

	Categories []Category // ItemCategory (item classes 1..10)

	AvailableFrom time.Time // Availability/DateStart (zero if absent)
	AvailableTo   time.Time // Availability/DateEnd (zero if absent)

	Condition string // A active, B blocked, D discontinued, F future, E inactive

	IsSalesItem           Flag
	IsPurchaseItem        Flag
	IsStockItem           Flag
	IsSerialNumberItem    Flag
	IsBatchItem           Flag
	IsBackOrderItem       Flag
	IsFractionAllowedItem Flag
	IsTextItem            Flag
	IsDiscountItem        Flag // Globe captions it "No discount": Yes means no discounts apply
	IsServiceItem         Flag
	IsSubAssemblyItem     Flag
	IsAssembledItem       Flag
	IsPriceRegulationItem Flag
	IsExplodeItem         Flag
	IsPrintItem           Flag
	IsOutsourcedItem      Flag

	SalesPrice           decimal.Dec // Sales/Price/Value, per sales unit
	HasSalesPrice        bool
	SalesPriceType       string // Sales/Price@type
	Currency             string // Sales/Price/Currency@code
	VATCode              string // Sales/Price/VAT@code
	SalesUnit            string // Sales/Unit@unit (also @code)
	SalesUnitDescription string // Sales/Unit/Description

	CostPrice    decimal.Dec // Costs/Price/Value
	HasCostPrice bool

	ImageName    string // Image/Name
	ImageDataLen int64  // bytes of base64 in Image/BinaryData (skipped, never kept)

	FreeFields FreeFields

	GTIN string // GTIN ("" in exports older than FC 43.107.102)

	Created  time.Time // Created (not in the XSD; some templates write it)
	Modified time.Time // Modified (not in the XSD; some templates write it)
}

// MultiDescription is a description in one language slot.
type MultiDescription struct {
	Number int // language slot, normally 1..4 (0 accepted)
	Text   string
}

// Category is an item class or account category: number, code, description.
type Category struct {
	Number      int
	Code        string
	Description string
}

// FreeFields are the user-defined fields, each with its number and label.
type FreeFields struct {
	Texts   []FreeText
	Numbers []FreeNumber
	YesNos  []FreeYesNo
	Dates   []FreeDate
	Options []FreeYesNo
}

// FreeText is a user-defined text field.
type FreeText struct {
	Number int
	Label  string
	Value  string
}

// FreeNumber is a user-defined number field.
type FreeNumber struct {
	Number int
	Label  string
	Value  decimal.Dec
	Valid  bool // false when the element was empty
}

// FreeYesNo is a user-defined yes/no field (also used for FreeOption).
type FreeYesNo struct {
	Number int
	Label  string
	Value  Flag
}

// FreeDate is a user-defined date field (zero when empty or nil).
type FreeDate struct {
	Number int
	Label  string
	Value  time.Time
}

func (f *FreeFields) reset() {
	f.Texts, f.Numbers, f.YesNos, f.Dates, f.Options = f.Texts[:0], f.Numbers[:0], f.YesNos[:0], f.Dates[:0], f.Options[:0]
}

func (f FreeFields) clone() FreeFields {
	return FreeFields{
		Texts:   append([]FreeText(nil), f.Texts...),
		Numbers: append([]FreeNumber(nil), f.Numbers...),
		YesNos:  append([]FreeYesNo(nil), f.YesNos...),
		Dates:   append([]FreeDate(nil), f.Dates...),
		Options: append([]FreeYesNo(nil), f.Options...),
	}
}

// Clone returns a copy of it that shares no slices with it.
func (it *Item) Clone() *Item {
	c := *it
	c.Descriptions = append([]MultiDescription(nil), it.Descriptions...)
	c.Categories = append([]Category(nil), it.Categories...)
	c.FreeFields = it.FreeFields.clone()
	return &c
}

// ReadItems reads an Items export (<eExact><Items><Item>…) and calls fn for
// each Item in file order. The *Item is reused after fn returns. Reading
// stops at the first error, from the input or from fn (returned as is). A
// document without an <Items> element is a *FormatError. Duplicate item
// codes are passed on; detecting them is the caller's job.
//
// When more than one CPU is available (GOMAXPROCS > 1), the export is read
// in a second goroutine a few dozen items ahead of fn, so that reading and
// fn's work overlap; fn is still called from the caller's goroutine, in
// order, and r is not used any more once ReadItems has returned.
func ReadItems(r io.Reader, opt Options, fn func(*Item) error) error {
	if runtime.GOMAXPROCS(0) < 2 {
		h := &itemHandler{fn: fn, it: new(Item)}
		return run(r, opt, eItems, eItem, h)
	}
	return pipeline(fn, opt.Idle, func(first *Item, deliver func() (*Item, error)) error {
		h := &itemHandler{it: first}
		h.fn = func(*Item) error {
			next, err := deliver()
			h.it = next
			return err
		}
		return run(r, opt, eItems, eItem, h)
	})
}

type itemHandler struct {
	fn  func(*Item) error
	it  *Item  // the record being read
	num int    // number attribute of the pending MultiDescription / free field / category
	lbl string // label attribute of the pending free field

	// The free texts of a record (descriptions, free text values, GTIN,
	// ...) are gathered in arena and become substrings of one string
	// allocated when the record ends (see texts). Item.Code has its own
	// allocation, as callers often keep the codes alone.
	arena []byte
	refs  []textRef
}

// textRef is a string field of the current Item waiting for its text:
// arena[start:end] goes to the field, idx being the slice index for
// repeated elements.
type textRef struct {
	field      textField
	idx        int32
	start, end int32
}

type textField uint8

const (
	tSearchCode textField = iota
	tDescription
	tLongDescription
	tMultiDescription
	tCategoryCode
	tCategoryDescription
	tImageName
	tFreeText
	tGTIN
)

// text queues trimmed b for a string field of the current Item; the last
// value queued for a field wins, as with plain assignments.
func (h *itemHandler) text(field textField, idx int, b []byte) {
	b = trim(b)
	start := len(h.arena)
	h.arena = append(h.arena, b...)
	h.refs = append(h.refs, textRef{field: field, idx: int32(idx), start: int32(start), end: int32(len(h.arena))})
}

// texts makes the queued texts strings: one allocation per record.
func (h *itemHandler) texts() {
	it := h.it
	all := string(h.arena)
	for _, r := range h.refs {
		v := all[r.start:r.end]
		switch r.field {
		case tSearchCode:
			it.SearchCode = v
		case tDescription:
			it.Description = v
		case tLongDescription:
			it.LongDescription = v
		case tMultiDescription:
			it.Descriptions[r.idx].Text = v
		case tCategoryCode:
			it.Categories[r.idx].Code = v
		case tCategoryDescription:
			it.Categories[r.idx].Description = v
		case tImageName:
			it.ImageName = v
		case tFreeText:
			it.FreeFields.Texts[r.idx].Value = v
		case tGTIN:
			it.GTIN = v
		}
	}
	h.arena, h.refs = h.arena[:0], h.refs[:0]
}

func (h *itemHandler) begin(w *walker) {
	it := h.it
	descs, cats, ff := it.Descriptions[:0], it.Categories[:0], it.FreeFields
	ff.reset()
	*it = Item{Descriptions: descs, Categories: cats, FreeFields: ff}
	it.Line = w.recLine
	it.Code = str(w.attr("code"))
	it.Type = w.intern(w.attr("type"))
	h.arena, h.refs = h.arena[:0], h.refs[:0]
	h.text(tSearchCode, 0, w.attr("searchcode"))
}

func (h *itemHandler) fail(w *walker, field string, val []byte, err error) {
	w.fail("Item", h.it.Code, field, val, err)
}

func (h *itemHandler) start(w *walker, rel []elem) bool {
	it := h.it
	switch len(rel) {
	case 1:
		switch rel[0] {
		case eDescription, eLongDescription, eCondition, eGTIN, eCreated, eModified:
			return true
		case eAssortment:
			it.GroupNumber = w.intern(w.attr("number"))
			if c := w.attr("code"); len(c) > 0 {
				it.GroupCode = w.intern(c)
			} else {
				it.GroupCode = w.intern(w.attr("Code"))
			}
		case eItemCategory:
			h.num = w.number(h.fail, "ItemCategory")
			it.Categories = append(it.Categories, Category{Number: h.num})
			h.text(tCategoryCode, len(it.Categories)-1, w.attr("code"))
		case eMultiDescriptions, eAvailability, eImage, eSales, eCosts, eFreeFields:
		default:
			if itemFlag(it, rel[0]) != nil {
				return true
			}
			w.skip = true // warehouses, dimensions, texts, relations, ...
		}
	case 2:
		switch rel[0] {
		case eMultiDescriptions:
			if rel[1] == eMultiDescription {
				h.num = w.number(h.fail, "MultiDescription")
				return true
			}
		case eAssortment:
			return rel[1] == eDescription
		case eItemCategory:
			return rel[1] == eDescription
		case eAvailability:
			return rel[1] == eDateStart || rel[1] == eDateEnd
		case eImage:
			if rel[1] == eBinaryData {
				w.cntDepth, w.cnt = len(w.path), 0
			}
			return rel[1] == eName
		case eSales:
			if rel[1] == eUnit {
				if u := w.attr("unit"); len(u) > 0 {
					it.SalesUnit = w.intern(u)
				} else {
					it.SalesUnit = w.intern(w.attr("code"))
				}
			} else if rel[1] == ePrice {
				it.SalesPriceType = w.intern(w.attr("type"))
			}
		}
	case 3:
		switch {
		case rel[0] == eSales && rel[1] == ePrice:
			switch rel[2] {
			case eCurrency:
				it.Currency = w.intern(w.attr("code"))
			case eVAT:
				it.VATCode = w.intern(w.attr("code"))
			case eValue:
				return true
			}
		case rel[0] == eSales && rel[1] == eUnit:
			return rel[2] == eDescription
		case rel[0] == eCosts && rel[1] == ePrice:
			return rel[2] == eValue
		case rel[0] == eFreeFields:
			return h.freeStart(w, rel[1], rel[2])
		}
	}
	return false
}

// freeStart handles FreeFields/<group>/<field> start tags.
func (h *itemHandler) freeStart(w *walker, group, field elem) bool {
	ok := isFreeField(group, field)
	if ok {
		h.num = w.number(h.fail, elemNames[field])
		h.lbl = w.intern(w.attr("label"))
	}
	return ok
}

func itemFlag(it *Item, e elem) *Flag {
	switch e {
	case eIsSalesItem:
		return &it.IsSalesItem
	case eIsPurchaseItem:
		return &it.IsPurchaseItem
	case eIsStockItem:
		return &it.IsStockItem
	case eIsSerialNumberItem:
		return &it.IsSerialNumberItem
	case eIsBatchItem:
		return &it.IsBatchItem
	case eIsBackOrderItem:
		return &it.IsBackOrderItem
	case eIsFractionAllowedItem:
		return &it.IsFractionAllowedItem
	case eIsTextItem:
		return &it.IsTextItem
	case eIsDiscountItem:
		return &it.IsDiscountItem
	case eIsServiceItem:
		return &it.IsServiceItem
	case eIsSubAssemblyItem:
		return &it.IsSubAssemblyItem
	case eIsAssembledItem:
		return &it.IsAssembledItem
	case eIsPriceRegulationItem:
		return &it.IsPriceRegulationItem
	case eIsExplodeItem:
		return &it.IsExplodeItem
	case eIsPrintItem:
		return &it.IsPrintItem
	case eIsOutsourcedItem:
		return &it.IsOutsourcedItem
	}
	return nil
}

func (h *itemHandler) end(w *walker, rel []elem, txt []byte) {
	it := h.it
	switch len(rel) {
	case 1:
		switch rel[0] {
		case eDescription:
			h.text(tDescription, 0, txt)
		case eLongDescription:
			h.text(tLongDescription, 0, txt)
		case eCondition:
			it.Condition = w.intern(txt)
		case eGTIN:
			h.text(tGTIN, 0, txt)
		case eCreated, eModified:
			// Not in the XSD: read leniently, ignore what is not a date.
			if t, err := parseDate(txt); err == nil {
				if rel[0] == eCreated {
					it.Created = t
				} else {
					it.Modified = t
				}
			}
		default:
			if f := itemFlag(it, rel[0]); f != nil {
				v, err := parseFlag(txt)
				if err != nil {
					h.fail(w, elemNames[rel[0]], txt, err)
				}
				*f = v
			}
		}
	case 2:
		switch rel[0] {
		case eMultiDescriptions:
			if rel[1] == eMultiDescription {
				it.Descriptions = append(it.Descriptions, MultiDescription{Number: h.num})
				h.text(tMultiDescription, len(it.Descriptions)-1, txt)
			}
		case eAssortment:
			if rel[1] == eDescription {
				it.GroupDescription = w.intern(txt)
			}
		case eItemCategory:
			if rel[1] == eDescription && len(it.Categories) > 0 {
				h.text(tCategoryDescription, len(it.Categories)-1, txt)
			}
		case eAvailability:
			availability(rel[1], txt, &it.AvailableFrom, &it.AvailableTo, func(err error) {
				h.fail(w, "Availability/"+elemNames[rel[1]], txt, err)
			})
		case eImage:
			switch rel[1] {
			case eName:
				h.text(tImageName, 0, txt)
			case eBinaryData:
				it.ImageDataLen, w.cntDepth = w.cnt, 0
			}
		}
	case 3:
		switch {
		case rel[0] == eSales && rel[1] == ePrice && rel[2] == eValue:
			d, ok, err := parseDec(txt)
			if err != nil {
				h.fail(w, "Sales/Price/Value", txt, err)
			}
			it.SalesPrice, it.HasSalesPrice = d, ok
		case rel[0] == eSales && rel[1] == eUnit && rel[2] == eDescription:
			it.SalesUnitDescription = w.intern(txt)
		case rel[0] == eCosts && rel[1] == ePrice && rel[2] == eValue:
			d, ok, err := parseDec(txt)
			if err != nil {
				h.fail(w, "Costs/Price/Value", txt, err)
			}
			it.CostPrice, it.HasCostPrice = d, ok
		case rel[0] == eFreeFields && rel[2] == eFreeText:
			// As freeEnd does, with the text queued.
			it.FreeFields.Texts = append(it.FreeFields.Texts, FreeText{Number: h.num, Label: h.lbl})
			h.text(tFreeText, len(it.FreeFields.Texts)-1, txt)
		case rel[0] == eFreeFields:
			freeEnd(w, &it.FreeFields, rel[2], h.num, h.lbl, txt, func(f string, v []byte, err error) { h.fail(w, f, v, err) })
		}
	}
}

// freeEnd stores a free field from its text.
func freeEnd(w *walker, ff *FreeFields, field elem, num int, lbl string, txt []byte, fail func(string, []byte, error)) {
	switch field {
	case eFreeText:
		ff.Texts = append(ff.Texts, FreeText{Number: num, Label: lbl, Value: str(txt)})
	case eFreeNumber:
		d, ok, err := parseDec(txt)
		if err != nil {
			fail("FreeFields/FreeNumbers/FreeNumber", txt, err)
		}
		ff.Numbers = append(ff.Numbers, FreeNumber{Number: num, Label: lbl, Value: d, Valid: ok})
	case eFreeYesNo, eFreeOption:
		v, err := parseFlag(txt)
		if err != nil {
			fail("FreeFields/"+elemNames[field], txt, err)
		}
		if field == eFreeYesNo {
			ff.YesNos = append(ff.YesNos, FreeYesNo{Number: num, Label: lbl, Value: v})
		} else {
			ff.Options = append(ff.Options, FreeYesNo{Number: num, Label: lbl, Value: v})
		}
	case eFreeDate:
		t, err := parseDate(txt)
		if err != nil {
			fail("FreeFields/FreeDates/FreeDate", txt, err)
		}
		ff.Dates = append(ff.Dates, FreeDate{Number: num, Label: lbl, Value: t})
	}
}

func (h *itemHandler) finish(w *walker) error {
	h.texts()
	return h.fn(h.it)
}
