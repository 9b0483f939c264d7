package stock

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Logical fields of a stock export, as used in Options.Columns.
const (
	FieldAdministration = "administration"
	FieldWarehouse      = "warehouse"
	FieldItemCode       = "item_code"
	FieldOnHand         = "on_hand"
	FieldReserved       = "reserved"
	FieldIncoming       = "incoming"
	FieldFreeStock      = "free_stock"
	FieldMeasuredAt     = "measured_at"
	FieldExpectedDate   = "expected_date"
	FieldSafetyStock    = "safety_stock"
)

type field int

const (
	fAdmin field = iota
	fWarehouse
	fItem
	fOnHand
	fReserved
	fIncoming
	fFree
	fMeasured
	fExpected
	fSafety
	numFields
)

var fieldNames = [numFields]string{FieldAdministration, FieldWarehouse, FieldItemCode, FieldOnHand,
	FieldReserved, FieldIncoming, FieldFreeStock, FieldMeasuredAt, FieldExpectedDate, FieldSafetyStock}

// aliases are the recognised headers per field, in normalized form (see
// normHeader): Dutch and English captions of Globe's stock screens and the
// legacy database column names.
var aliases = [numFields][]string{
	fAdmin:     {"administratie", "administratienummer", "administration", "company", "bedrijf"},
	fWarehouse: {"magazijn", "magazijncode", "magcode", "warehouse", "warehousecode"},
	fItem:      {"artikelcode", "artikel", "artikelnummer", "artcode", "itemcode", "item", "itemnumber", "sku"},
	fOnHand:    {"voorraad", "werkelijkevoorraad", "werkvrd", "stock", "actualstock", "onhand", "stockonhand", "quantityonhand"},
	fReserved:  {"gereserveerd", "televeren", "oresvrd", "reserved", "tobedelivered"},
	fIncoming:  {"teontvangen", "besteld", "bstvvd", "tobereceived", "incoming"},
	fFree:      {"vrijevoorraad", "freestock"},
	fMeasured:  {"peildatum", "datum", "measuredat", "date", "stockdate"},
	fExpected:  {"verwachtedatum", "verwachteleverdatum", "expecteddate", "expected", "expecteddeliverydate"},
	fSafety:    {"veiligheidsvoorraad", "veilvrd", "safetystock"},
}

// normHeader lowercases h and drops everything but letters and digits, so
// "Te ontvangen", "TeOntvangen" and "te_ontvangen" are one header.
func normHeader(h string) string {
	var b strings.Builder
	for _, r := range h {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// HeaderError is a header that lacks a required column or is ambiguous.
type HeaderError struct {
	Missing []string // logical fields not found, e.g. "item_code"
	Msg     string   // what is wrong, for errors other than missing columns
	Found   []string // the headers found, as written
	Delim   byte     // the delimiter used to split the header (CSV)
	Hint    string   // e.g. that the delimiter seems wrong
}

func (e *HeaderError) Error() string {
	var b strings.Builder
	if len(e.Missing) > 0 {
		b.WriteString("missing required column ")
		for i, m := range e.Missing {
			if i > 0 {
				b.WriteString(" and ")
			}
			fmt.Fprintf(&b, "%s (headers %s)", m, strings.Join(aliasCaptions(m), ", "))
		}
	} else {
		b.WriteString(e.Msg)
	}
	fmt.Fprintf(&b, "; headers found: %q", e.Found)
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

func aliasCaptions(name string) []string {
	switch name {
	case FieldItemCode:
		return []string{"Artikelcode", "Artikel", "Item code", "itemcode"}
	case FieldOnHand + " or " + FieldFreeStock:
		return []string{"Voorraad", "Stock", "On hand", "Vrije voorraad", "Free stock"}
	}
	for i, n := range fieldNames {
		if n == name {
			return aliases[i]
		}
	}
	return nil
}

// colMap maps logical fields to column indexes (-1 when absent).
type colMap [numFields]int

// mapHeader resolves the header row against the explicit column map and the
// aliases.
func mapHeader(hdr []string, explicit map[string]string, delim byte, csv bool) (colMap, error) {
	var m colMap
	for i := range m {
		m[i] = -1
	}
	herr := func(e *HeaderError) error {
		e.Found, e.Delim = hdr, delim
		if csv {
			e.Hint = delimiterHint(hdr, delim)
		}
		return e
	}
	norm := make([]string, len(hdr))
	for i, h := range hdr {
		norm[i] = normHeader(h)
	}
	explicitF := [numFields]bool{}
	for name, h := range explicit {
		f := slices.Index(fieldNames[:], name)
		if f < 0 {
			return m, fmt.Errorf("stock: unknown field %q in the column map (fields: %s)", name, strings.Join(fieldNames[:], ", "))
		}
		want := normHeader(h)
		idx := -1
		for i, n := range norm {
			if n == want || strings.EqualFold(strings.TrimSpace(hdr[i]), strings.TrimSpace(h)) {
				idx = i
				break
			}
		}
		if idx < 0 {
			return m, herr(&HeaderError{Msg: fmt.Sprintf("column %q (configured for %s) not found", h, name)})
		}
		m[f] = idx
		explicitF[f] = true
	}
	for i, n := range norm {
		for f := range numFields {
			if explicitF[f] || !slices.Contains(aliases[f], n) {
				continue
			}
			if m[f] >= 0 && m[f] != i {
				return m, herr(&HeaderError{Msg: fmt.Sprintf("columns %d (%q) and %d (%q) both mean %s; choose one in the column map",
					m[f]+1, hdr[m[f]], i+1, hdr[i], fieldNames[f])})
			}
			m[f] = i
		}
	}
	var missing []string
	if m[fItem] < 0 {
		missing = append(missing, FieldItemCode)
	}
	if m[fOnHand] < 0 && m[fFree] < 0 {
		missing = append(missing, FieldOnHand+" or "+FieldFreeStock)
	}
	if len(missing) > 0 {
		return m, herr(&HeaderError{Missing: missing})
	}
	return m, nil
}

// delimiterHint explains a header that was not split as intended.
func delimiterHint(hdr []string, delim byte) string {
	name := func(c byte) string {
		if c == '\t' {
			return "tab"
		}
		return fmt.Sprintf("%q", c)
	}
	if len(hdr) == 1 {
		for _, c := range []byte{';', ',', '\t', '|'} {
			if c != delim && strings.IndexByte(hdr[0], c) >= 0 {
				return fmt.Sprintf("the whole header is one column when split by %s, but it contains %s: the delimiter seems wrong", name(delim), name(c))
			}
		}
		return fmt.Sprintf("the whole header is one column when split by %s: the delimiter seems wrong or this is not a stock export", name(delim))
	}
	return ""
}
