// Command gofeed is the Go contender of the items benchmark: it reads a
// Globe Items export with mapping/globe and writes the catalogue feed
// (catalogue.jsonl and catalogue.csv) with the mapping/feed writers, one
// record at a time, in constant memory. It is a stand-in for the items
// exchange of `globex once` and maps items the same way the peer scripts
// of bench/items do:
//
//   - only sales items (IsSalesItem true);
//   - description slots 1..4 become descriptions.<lang> (-languages);
//   - free fields chosen by kind and number become attributes (-attributes);
//   - Condition A/B/D/E/F becomes active/blocked/discontinued/inactive/
//     future (empty: active);
//   - group_code is the assortment code, or its number when it has none;
//   - updated_at is Modified when the export carries it.
//
// Usage: gofeed -in items.xml -out DIR [-admin 500]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"globex/internal/decimal"
	"globex/mapping/feed"
	"globex/mapping/globe"
)

func main() {
	in := flag.String("in", "", "Items export to read")
	out := flag.String("out", ".", "directory for catalogue.jsonl and catalogue.csv")
	admin := flag.String("admin", "500", "administration of the records")
	langs := flag.String("languages", "1=nl,2=de,3=fr,4=en", "description slot → language code")
	attrs := flag.String("attributes", "free_text:1:brand,free_yesno:1:webshop", "free fields that become attributes: kind:number:label,...")
	flag.Parse()
	m, err := newMapper(*admin, *langs, *attrs)
	if err == nil {
		var n int
		n, err = run(*in, *out, m)
		if err == nil {
			fmt.Printf("gofeed: %d catalogue records\n", n)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gofeed:", err)
		os.Exit(1)
	}
}

func run(in, out string, m *mapper) (int, error) {
	f, err := os.Open(in)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	jf, err := os.Create(filepath.Join(out, "catalogue.jsonl"))
	if err != nil {
		return 0, err
	}
	defer jf.Close()
	cf, err := os.Create(filepath.Join(out, "catalogue.csv"))
	if err != nil {
		return 0, err
	}
	defer cf.Close()
	jw := feed.NewJSONLWriter(jf)
	cw := feed.NewCSVWriter(cf, feed.KindCatalogue, m.columns())
	n := 0
	var rec feed.Catalogue
	err = globe.ReadItems(f, globe.Options{}, func(it *globe.Item) error {
		if !m.fill(&rec, it) {
			return nil
		}
		n++
		if err := jw.Write(&rec); err != nil {
			return err
		}
		return cw.Write(&rec)
	})
	if err != nil {
		return n, err
	}
	for _, c := range []io.Closer{jw, cw, jf, cf} {
		if err := c.Close(); err != nil {
			return n, err
		}
	}
	return n, nil
}

// attribute picks one free field.
type attribute struct {
	kind   string // free_text, free_number, free_yesno, free_date
	number int
	label  string
}

// mapper turns an Item into a catalogue record.
type mapper struct {
	admin string
	langs map[int]string
	attrs []attribute
	price decimal.Dec // scratch for rec.SalesPrice
}

func newMapper(admin, langs, attrs string) (*mapper, error) {
	m := &mapper{admin: admin, langs: map[int]string{}}
	for _, kv := range strings.Split(langs, ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.Atoi(k)
		if !ok || err != nil || v == "" {
			return nil, fmt.Errorf("bad -languages entry %q (want slot=code)", kv)
		}
		m.langs[n] = v
	}
	for _, a := range strings.Split(attrs, ",") {
		if a == "" {
			continue
		}
		p := strings.Split(a, ":")
		if len(p) != 3 {
			return nil, fmt.Errorf("bad -attributes entry %q (want kind:number:label)", a)
		}
		n, err := strconv.Atoi(p[1])
		if err != nil {
			return nil, fmt.Errorf("bad -attributes entry %q: %v", a, err)
		}
		switch p[0] {
		case "free_text", "free_number", "free_yesno", "free_date":
		default:
			return nil, fmt.Errorf("bad -attributes kind %q", p[0])
		}
		m.attrs = append(m.attrs, attribute{kind: p[0], number: n, label: p[2]})
	}
	return m, nil
}

func (m *mapper) columns() feed.Columns {
	var c feed.Columns
	for _, l := range m.langs {
		c.Languages = append(c.Languages, l)
	}
	for _, a := range m.attrs {
		c.Attributes = append(c.Attributes, a.label)
	}
	return c
}

var statuses = map[string]string{"A": "active", "B": "blocked", "D": "discontinued", "E": "inactive", "F": "future", "": "active"}

// fill maps it into rec, reusing rec's maps; false means the item is not
// in the catalogue.
func (m *mapper) fill(rec *feed.Catalogue, it *globe.Item) bool {
	if !it.IsSalesItem.True() {
		return false
	}
	descs, attrs := rec.Descriptions, rec.Attributes
	clear(descs)
	clear(attrs)
	*rec = feed.Catalogue{
		Administration:   m.admin,
		ItemCode:         it.Code,
		Description:      it.Description,
		Descriptions:     descs,
		LongDescription:  it.LongDescription,
		GroupCode:        it.GroupCode,
		GroupDescription: it.GroupDescription,
		Unit:             it.SalesUnit,
		Currency:         it.Currency,
		VATCode:          it.VATCode,
		GTIN:             it.GTIN,
		Status:           statuses[it.Condition],
		Attributes:       attrs,
	}
	if rec.GroupCode == "" {
		rec.GroupCode = it.GroupNumber
	}
	if rec.Status == "" {
		rec.Status = "inactive"
	}
	if it.HasSalesPrice {
		m.price = it.SalesPrice
		rec.SalesPrice = &m.price
	}
	if !it.Modified.IsZero() {
		rec.UpdatedAt = it.Modified.UTC().Format(time.RFC3339)
	}
	for _, d := range it.Descriptions {
		if l, ok := m.langs[d.Number]; ok && d.Text != "" {
			if rec.Descriptions == nil {
				rec.Descriptions = map[string]string{}
			}
			rec.Descriptions[l] = d.Text
		}
	}
	for _, a := range m.attrs {
		if v := freeValue(&it.FreeFields, a); v != "" {
			if rec.Attributes == nil {
				rec.Attributes = map[string]string{}
			}
			rec.Attributes[a.label] = v
		}
	}
	return true
}

// freeValue returns the text of the free field a picks, "" when absent.
func freeValue(ff *globe.FreeFields, a attribute) string {
	switch a.kind {
	case "free_text":
		for _, f := range ff.Texts {
			if f.Number == a.number {
				return f.Value
			}
		}
	case "free_number":
		for _, f := range ff.Numbers {
			if f.Number == a.number && f.Valid {
				return f.Value.String()
			}
		}
	case "free_yesno":
		for _, f := range ff.YesNos {
			if f.Number == a.number {
				return f.Value.String()
			}
		}
	case "free_date":
		for _, f := range ff.Dates {
			if f.Number == a.number && !f.Value.IsZero() {
				return f.Value.Format("2006-01-02")
			}
		}
	}
	return ""
}
