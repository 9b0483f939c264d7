// Package feed defines the webshop feed records (CONTRACT §5: catalogue,
// stock, prices, customers) and writes them as JSONL, CSV and XLSX, one
// record at a time, plus the delta between two JSONL snapshots.
//
// Every record type implements Record. JSON output is produced by
// hand-written append-style encoders (AppendJSON) that are byte-for-byte
// identical to encoding/json applied to the struct (tested), so a consumer
// may decode the feed with encoding/json into the same types. Decimals are
// JSON strings ("4.95"), never binary floats.
package feed

import "strings"

// Kind names a feed; its value is also the base of the feed's file names
// (catalogue.jsonl, stock.csv, prices-delta-….jsonl, …).
type Kind string

// The four feed kinds of CONTRACT §5.
const (
	KindCatalogue Kind = "catalogue"
	KindStock     Kind = "stock"
	KindPrices    Kind = "prices"
	KindCustomers Kind = "customers"
)

// Valid reports whether k is one of the four feed kinds.
func (k Kind) Valid() bool {
	switch k {
	case KindCatalogue, KindStock, KindPrices, KindCustomers:
		return true
	}
	return false
}

// KeyField is one named part of a record's identity, in the order the
// record type defines (administration first).
type KeyField struct {
	Name  string
	Value string
}

// Record is implemented by *Catalogue, *Stock, *Price and *Customer.
type Record interface {
	// Kind is the feed the record belongs to.
	Kind() Kind
	// Key is the record's identity: its KeyFields values joined by a NUL
	// byte, in KeyFields order. Two records with the same Key are the same
	// webshop object (a newer version replaces the older one).
	Key() string
	// KeyFields is the identity as named fields, as written in the "key"
	// object of a delta delete line.
	KeyFields() []KeyField
	// AppendJSON appends the record's JSON object (no newline) to b; the
	// bytes equal encoding/json.Marshal of the record.
	AppendJSON(b []byte) []byte
}

// keySep separates key parts in Key(); codes never contain a NUL byte.
const keySep = "\x00"

func joinKey(parts ...string) string { return strings.Join(parts, keySep) }

// keyNames lists the KeyFields names per kind, in order.
var keyNames = map[Kind][]string{
	KindCatalogue: {"administration", "item_code"},
	KindStock:     {"administration", "item_code"},
	KindPrices:    {"administration", "price_list", "item_code", "group_code", "customer", "unit", "valid_from"},
	KindCustomers: {"administration", "debtor_code"},
}

// KeyFieldsOf splits a Key() string of the given kind back into its named
// fields. It returns nil when key does not have the kind's number of parts.
func KeyFieldsOf(kind Kind, key string) []KeyField {
	names := keyNames[kind]
	parts := strings.Split(key, keySep)
	if len(names) == 0 || len(parts) != len(names) {
		return nil
	}
	out := make([]KeyField, len(names))
	for i, n := range names {
		out[i] = KeyField{Name: n, Value: parts[i]}
	}
	return out
}

// newRecordInto sets *rec to a fresh zero record of the kind (a record a
// fast decoder gave up on may hold parts of the line) and returns it.
func newRecordInto(kind Kind, rec *Record) Record {
	*rec = newRecord(kind)
	return *rec
}

// newRecord returns a fresh zero record of the kind.
func newRecord(kind Kind) Record {
	switch kind {
	case KindCatalogue:
		return &Catalogue{}
	case KindStock:
		return &Stock{}
	case KindPrices:
		return &Price{}
	case KindCustomers:
		return &Customer{}
	}
	return nil
}
