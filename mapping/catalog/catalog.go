// Package catalog turns the items of a Globe Items export (globe.Item) into
// catalogue feed records (feed.Catalogue, CONTRACT §5), with the
// wholesaler's choices as Options: which items reach the feed (sales items,
// item types, statuses), which language fills the description, and which
// free fields become attributes.
//
// # Item status
//
// Globe's item status is Item/Condition (Items.Condition). The XSD
// enumerates exactly five codes, "A=Active, B=Blocked, D=Discontinued,
// F=Future, E=Inactive" [XSD]; they map one to one:
//
//	A → active        [XSD]
//	B → blocked       [XSD]
//	D → discontinued  [XSD]
//	F → future        [XSD]
//	E → inactive      [XSD]
//	"" (absent) → active  [INF: Condition is optional; a new Globe item is Active]
//
// Lower-case codes are accepted. Any other code (I, P, S … are not item
// conditions in the XSD; P and S are account statuses) is not guessed: the
// item is left out with a reason, unless Options.Conditions maps the code.
//
// By default the statuses active, blocked, discontinued and future reach
// the feed and inactive does not: an inactive (E) item is one the
// wholesaler no longer uses, so the shop should drop it (the delta engine
// then emits a delete), whereas a blocked or discontinued item is still a
// page customers may find and should see as not orderable, and a future
// item can be announced.
//
// # Other choices
//
// Codes (item code, group code, unit, VAT code, GTIN) are trimmed. The
// group code is Assortment@code, or the assortment number when the export
// has no code. updated_at is the item's Modified date, else its Created date
// (neither is in the XSD; some export templates write them), as RFC 3339
// UTC; it is empty when the export has neither.
package catalog

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"globex/mapping/feed"
	"globex/mapping/globe"
)

// Feed status names of a catalogue record.
const (
	StatusActive       = "active"
	StatusBlocked      = "blocked"
	StatusDiscontinued = "discontinued"
	StatusInactive     = "inactive"
	StatusFuture       = "future"
)

// AllStatuses lists every catalogue status, in the order of CONTRACT §5.
var AllStatuses = []string{StatusActive, StatusBlocked, StatusDiscontinued, StatusInactive, StatusFuture}

// DefaultStatuses are the statuses that reach the feed when
// Options.Statuses is empty: every status except inactive.
var DefaultStatuses = []string{StatusActive, StatusBlocked, StatusDiscontinued, StatusFuture}

// DefaultItemTypes are the Globe item types that reach the feed when
// Options.ItemTypes is empty: S (standard) and B (bulk). Contract (C),
// labour hours (L), machine hours (M), phantom (P) and reason codes (R) are
// not shop articles.
var DefaultItemTypes = []string{"S", "B"}

// itemTypes are the Item@type codes of the XSD.
var itemTypes = []string{"S", "B", "C", "L", "M", "P", "R"}

// DefaultCurrency fills currency when neither the item nor Options name one.
const DefaultCurrency = "EUR"

// conditions maps Item/Condition codes to feed statuses [XSD].
var conditions = map[string]string{
	"A": StatusActive,
	"B": StatusBlocked,
	"D": StatusDiscontinued,
	"F": StatusFuture,
	"E": StatusInactive,
}

// Options are the wholesaler's choices for the catalogue feed. The zero
// value (or a nil *Options) gives the defaults documented on each field.
// Check configured values once with Validate; Map does not re-check them.
type Options struct {
	// Administration is the Globe administration (company) number carried
	// into every record, e.g. "500".
	Administration string

	// Languages names the language of each MultiDescription slot, e.g.
	// {1: "nl", 2: "en", 3: "de"}. A slot that is not listed is keyed by
	// its number as a string ("1").
	Languages map[int]string

	// MainLanguage, when set, also puts the item's main Description into
	// descriptions under this language code, unless a MultiDescription
	// slot already fills that language.
	MainLanguage string

	// DefaultLanguage chooses which language fills description: the
	// item's text in that language when it has one, else the item's main
	// Description. Empty: always the main Description.
	DefaultLanguage string

	// Attributes says which free fields (and item classes) become
	// attributes, and under which label. No rules: no attributes.
	Attributes []AttributeRule

	// Statuses lists the feed statuses that reach the feed; empty means
	// DefaultStatuses (all but inactive).
	Statuses []string

	// Conditions adds or overrides Item/Condition codes → feed status, for
	// an installation that writes codes other than the XSD's A/B/D/F/E.
	Conditions map[string]string

	// ItemTypes lists the Item@type codes that reach the feed; empty means
	// DefaultItemTypes (S and B). An item without a type counts as S.
	ItemTypes []string

	// SalesOnly keeps only items with IsSalesItem=1 (an absent IsSalesItem
	// counts as not a sales item). nil means true, the CONTRACT default.
	SalesOnly *bool

	// Currency fills currency when the item's sales price carries none;
	// empty means DefaultCurrency (EUR).
	Currency string
}

// attrRule is an AttributeRule ready to match: its kind canonical, its
// label trimmed.
type attrRule struct {
	kind   string
	number int
	label  string // trimmed
	name   string
}

// ready returns the rule ready to match, or false for a rule that matches
// nothing (one Validate refuses).
func ready(r AttributeRule) (attrRule, bool) {
	a := attrRule{kind: kindOf(r.Kind), number: r.Number, label: strings.TrimSpace(r.Label), name: r.Name}
	return a, a.kind != "" && (a.number != 0 || a.label != "")
}

// Attribute sources (AttributeRule.Kind).
const (
	KindText   = "text"   // FreeFields/FreeTexts/FreeText
	KindNumber = "number" // FreeFields/FreeNumbers/FreeNumber
	KindYesNo  = "yesno"  // FreeFields/FreeYesNos/FreeYesNo
	KindDate   = "date"   // FreeFields/FreeDates/FreeDate
	KindOption = "option" // FreeFields/FreeOptions/FreeOption
	KindClass  = "class"  // ItemCategory (item classes 1..10)
)

// AttributeRule selects one free field of an item and names the attribute
// it becomes. Select by Kind and Number (FreeText 1), by Label (the free
// field's label attribute in the export, case-insensitive, of any kind
// unless Kind is set), or by both.
//
// An item class (kind class) has no label in the export and is chosen by
// its number only.
//
// Values are written as: text trimmed; number as written in the export
// ("25", "2.50"); yes/no and option as "1" or "0"; date as YYYY-MM-DD; item
// class as its Description, else its code. An empty or absent field gives
// no attribute.
type AttributeRule struct {
	// Kind is text, number, yesno, date, option or class. The XSD element
	// names are accepted too (FreeText, FreeNumber, FreeYesNo, FreeDate,
	// FreeOption, ItemCategory), in any case.
	Kind string
	// Number is the field's number attribute (1-based); 0 means any.
	Number int
	// Label matches the field's label attribute in the export.
	Label string
	// Name is the attribute label in the feed. Empty: the export's label of
	// the field, else Label, else kind and number ("text1", "class2").
	Name string
}

// kindOf canonicalises an attribute kind; "" for an unknown kind.
func kindOf(k string) string {
	switch strings.ToLower(strings.TrimSpace(k)) {
	case "", "any":
		return "any"
	case KindText, "freetext", "freetexts":
		return KindText
	case KindNumber, "freenumber", "freenumbers":
		return KindNumber
	case KindYesNo, "freeyesno", "freeyesnos", "yes/no", "bool", "boolean":
		return KindYesNo
	case KindDate, "freedate", "freedates":
		return KindDate
	case KindOption, "freeoption", "freeoptions":
		return KindOption
	case KindClass, "itemcategory", "category", "itemclass":
		return KindClass
	}
	return ""
}

// ValidStatus reports whether s is a catalogue status name.
func ValidStatus(s string) bool { return slices.Contains(AllStatuses, s) }

// Filter checks a configured status filter: every name must be one of
// AllStatuses (after trimming and lower-casing). It returns the names in
// canonical form, or an error naming the first unknown one and the valid
// ones.
func Filter(statuses []string) ([]string, error) {
	return feed.CanonicalNames("statuses", "item status", statuses, AllStatuses)
}

// Validate checks the configured values: status names (see Filter),
// condition mappings, item types, language codes, attribute rules and the
// currency. The error names the option and the value.
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
	for code, st := range o.Conditions {
		if strings.TrimSpace(code) == "" {
			return fmt.Errorf("conditions: empty condition code")
		}
		if !ValidStatus(st) {
			return fmt.Errorf("conditions[%q]: unknown item status %q (want one of %s)", code, st, strings.Join(AllStatuses, ", "))
		}
	}
	for i, t := range o.ItemTypes {
		if !slices.Contains(itemTypes, strings.ToUpper(strings.TrimSpace(t))) {
			return fmt.Errorf("item_types[%d]: unknown Globe item type %q (want one of %s)", i, t, strings.Join(itemTypes, ", "))
		}
	}
	for n, lang := range o.Languages {
		if n < 0 || n > 9 {
			return fmt.Errorf("languages: description slot %d out of range (Globe uses 1..4, 0 accepted)", n)
		}
		if strings.TrimSpace(lang) == "" {
			return fmt.Errorf("languages[%d]: empty language code", n)
		}
	}
	for i, r := range o.Attributes {
		k := kindOf(r.Kind)
		switch {
		case k == "":
			return fmt.Errorf("attributes[%d]: unknown kind %q (want text, number, yesno, date, option or class)", i, r.Kind)
		case r.Number < 0:
			return fmt.Errorf("attributes[%d]: negative number %d", i, r.Number)
		case r.Number == 0 && strings.TrimSpace(r.Label) == "":
			return fmt.Errorf("attributes[%d]: give a number (with its kind) or a label", i)
		case r.Number > 0 && k == "any":
			return fmt.Errorf("attributes[%d]: number %d needs a kind (text, number, yesno, date, option or class)", i, r.Number)
		case k == KindClass && r.Number == 0:
			return fmt.Errorf("attributes[%d]: an item class is chosen by its number (1..10), it has no label", i)
		}
	}
	return nil
}

var defaults Options

// Map turns one Globe item into a catalogue record. keep is false when the
// options leave the item out; reason then says why in a few words ("not a
// sales item", "status inactive not in the feed", …), fit for counting in
// logs. it may be a record reused by the reader: rec shares nothing with it.
func Map(it *globe.Item, opt *Options) (rec *feed.Catalogue, keep bool, reason string) {
	if opt == nil {
		opt = &defaults
	}
	code := strings.TrimSpace(it.Code)
	if code == "" {
		return nil, false, "no item code"
	}
	if opt.SalesOnly == nil || *opt.SalesOnly {
		switch it.IsSalesItem {
		case globe.No:
			return nil, false, "not a sales item"
		case globe.Unset:
			return nil, false, "not a sales item (IsSalesItem absent)"
		}
	}
	typ := strings.ToUpper(strings.TrimSpace(it.Type))
	if typ == "" {
		typ = "S"
	}
	types := opt.ItemTypes
	if len(types) == 0 {
		types = DefaultItemTypes
	}
	if !feed.ContainsFold(types, typ) {
		return nil, false, "item type " + typ + " not in the feed"
	}
	status, ok := statusOf(it.Condition, opt.Conditions)
	if !ok {
		return nil, false, fmt.Sprintf("unknown item condition %q", it.Condition)
	}
	statuses := opt.Statuses
	if len(statuses) == 0 {
		statuses = DefaultStatuses
	}
	if !feed.ContainsFold(statuses, status) {
		return nil, false, "status " + status + " not in the feed"
	}

	rec = &feed.Catalogue{
		Administration:   opt.Administration,
		ItemCode:         code,
		Description:      strings.TrimSpace(it.Description),
		LongDescription:  strings.TrimSpace(it.LongDescription),
		GroupCode:        strings.TrimSpace(it.GroupCode),
		GroupDescription: strings.TrimSpace(it.GroupDescription),
		Unit:             strings.TrimSpace(it.SalesUnit),
		Currency:         strings.TrimSpace(it.Currency),
		VATCode:          strings.TrimSpace(it.VATCode),
		GTIN:             strings.TrimSpace(it.GTIN),
		Status:           status,
	}
	if rec.GroupCode == "" {
		rec.GroupCode = strings.TrimSpace(it.GroupNumber)
	}
	if it.HasSalesPrice {
		p := it.SalesPrice
		rec.SalesPrice = &p
	}
	if rec.Currency == "" {
		rec.Currency = opt.Currency
		if rec.Currency == "" {
			rec.Currency = DefaultCurrency
		}
	}
	rec.Descriptions = descriptions(it, opt)
	if opt.DefaultLanguage != "" {
		if d := rec.Descriptions[opt.DefaultLanguage]; d != "" {
			rec.Description = d
		}
	}
	rec.Attributes = attributes(it, opt.Attributes)
	switch {
	case !it.Modified.IsZero():
		rec.UpdatedAt = it.Modified.UTC().Format(time.RFC3339)
	case !it.Created.IsZero():
		rec.UpdatedAt = it.Created.UTC().Format(time.RFC3339)
	}
	return rec, true, ""
}

// statusOf maps an Item/Condition code to a feed status.
func statusOf(cond string, extra map[string]string) (string, bool) {
	c := strings.TrimSpace(cond)
	if s, ok := extra[c]; ok {
		return s, true
	}
	c = strings.ToUpper(c)
	if s, ok := extra[c]; ok {
		return s, true
	}
	if c == "" {
		return StatusActive, true
	}
	s, ok := conditions[c]
	return s, ok
}

// descriptions builds the language → text map; nil when empty.
func descriptions(it *globe.Item, opt *Options) map[string]string {
	var m map[string]string
	for _, d := range it.Descriptions {
		t := strings.TrimSpace(d.Text)
		if t == "" {
			continue
		}
		lang, ok := opt.Languages[d.Number]
		if !ok {
			lang = strconv.Itoa(d.Number)
		}
		if m == nil {
			m = make(map[string]string, len(it.Descriptions)+1)
		}
		if _, dup := m[lang]; !dup {
			m[lang] = t
		}
	}
	if opt.MainLanguage != "" {
		if t := strings.TrimSpace(it.Description); t != "" {
			if _, has := m[opt.MainLanguage]; !has {
				if m == nil {
					m = make(map[string]string, 1)
				}
				m[opt.MainLanguage] = t
			}
		}
	}
	return m
}

// attributes applies the rules in order; the first rule that yields a
// value for a name wins. nil when there are none. Each rule is readied
// once per item (a few string compares), not once per free field.
func attributes(it *globe.Item, rules []AttributeRule) map[string]string {
	var m map[string]string
	set := func(name, val string) {
		if val == "" || name == "" {
			return
		}
		if m == nil {
			m = make(map[string]string, len(rules))
		}
		if _, dup := m[name]; !dup {
			m[name] = val
		}
	}
	ff := &it.FreeFields
	for _, rule := range rules {
		r, ok := ready(rule)
		if !ok {
			continue // refused by Validate
		}
		if r.kind == KindText || r.kind == "any" {
			for _, f := range ff.Texts {
				if r.match(KindText, f.Number, f.Label) {
					set(r.nameFor(KindText, f.Number, f.Label), strings.TrimSpace(f.Value))
				}
			}
		}
		if r.kind == KindNumber || r.kind == "any" {
			for _, f := range ff.Numbers {
				if r.match(KindNumber, f.Number, f.Label) && f.Valid {
					set(r.nameFor(KindNumber, f.Number, f.Label), f.Value.String())
				}
			}
		}
		if r.kind == KindYesNo || r.kind == "any" {
			for _, f := range ff.YesNos {
				if r.match(KindYesNo, f.Number, f.Label) {
					set(r.nameFor(KindYesNo, f.Number, f.Label), f.Value.String())
				}
			}
		}
		if r.kind == KindOption || r.kind == "any" {
			for _, f := range ff.Options {
				if r.match(KindOption, f.Number, f.Label) {
					set(r.nameFor(KindOption, f.Number, f.Label), f.Value.String())
				}
			}
		}
		if r.kind == KindDate || r.kind == "any" {
			for _, f := range ff.Dates {
				if r.match(KindDate, f.Number, f.Label) && !f.Value.IsZero() {
					set(r.nameFor(KindDate, f.Number, f.Label), f.Value.UTC().Format(time.DateOnly))
				}
			}
		}
		if r.kind == KindClass && r.number > 0 {
			for _, c := range it.Categories {
				if c.Number != r.number {
					continue
				}
				v := strings.TrimSpace(c.Description)
				if v == "" {
					v = strings.TrimSpace(c.Code)
				}
				set(r.nameFor(KindClass, c.Number, ""), v)
			}
		}
	}
	return m
}

// match reports whether the free field (kind, number, label) is the
// rule's.
func (r *attrRule) match(kind string, num int, label string) bool {
	if r.kind != "any" && r.kind != kind {
		return false
	}
	if r.number != 0 && r.number != num {
		return false
	}
	return r.label == "" || strings.EqualFold(r.label, strings.TrimSpace(label))
}

// nameFor is the attribute name of a matched field: the rule's name, else
// the export's label, else the rule's label, else kind and number.
func (r *attrRule) nameFor(kind string, num int, label string) string {
	switch {
	case r.name != "":
		return r.name
	case strings.TrimSpace(label) != "":
		return strings.TrimSpace(label)
	case r.label != "":
		return r.label
	}
	return kind + strconv.Itoa(num)
}
