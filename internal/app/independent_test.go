package app

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"globex/mapping/globe/globetest"
)

// independentItem is what encoding/xml (not globex's tokenizer) reads from an
// Items export.
type independentItem struct {
	Code        string `xml:"code,attr"`
	Type        string `xml:"type,attr"`
	Description string `xml:"Description"`
	Multi       []struct {
		Number string `xml:"number,attr"`
		Text   string `xml:",chardata"`
	} `xml:"MultiDescriptions>MultiDescription"`
	Assortment struct {
		Code string `xml:"code,attr"`
	} `xml:"Assortment"`
	Condition   string `xml:"Condition"`
	IsSalesItem string `xml:"IsSalesItem"`
	Price       string `xml:"Sales>Price>Value"`
	Unit        struct {
		Unit string `xml:"unit,attr"`
	} `xml:"Sales>Unit"`
	GTIN string `xml:"GTIN"`
}

func independentParse(t *testing.T, data []byte) map[string]independentItem {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "windows-1252":
			return charmap.Windows1252.NewDecoder().Reader(r), nil
		case "iso-8859-15":
			return charmap.ISO8859_15.NewDecoder().Reader(r), nil
		}
		return nil, fmt.Errorf("label %s", label)
	}
	var doc struct {
		Items []independentItem `xml:"Items>Item"`
	}
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]independentItem{}
	for _, it := range doc.Items {
		out[strings.TrimSpace(it.Code)] = it
	}
	return out
}

// Exports in every encoding come out as catalogue records that match an
// independent parse (encoding/xml) field by field.
func TestCatalogueMatchesIndependentParse(t *testing.T) {
	var utf8 bytes.Buffer
	if err := globetest.GenerateItems(&utf8, 400, 7); err != nil {
		t.Fatal(err)
	}
	encode := func(e encoding.Encoding, label string) []byte {
		s := strings.Replace(utf8.String(), `encoding="UTF-8"`, `encoding="`+label+`"`, 1)
		b, err := e.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	utf16, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(strings.Replace(utf8.String(), `encoding="UTF-8"`, `encoding="UTF-16"`, 1)))
	cases := map[string][]byte{
		"utf-8":        utf8.Bytes(),
		"windows-1252": encode(charmap.Windows1252, "windows-1252"),
		"iso-8859-15":  encode(charmap.ISO8859_15, "iso-8859-15"),
		"utf-16le-bom": utf16,
	}
	ref := independentParse(t, utf8.Bytes())
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if name == "windows-1252" || name == "iso-8859-15" {
				if got := independentParse(t, data); len(got) != len(ref) {
					t.Fatalf("independent parse of %s: %d items", name, len(got))
				}
			}
			w := newWorkspace(t, "")
			os.MkdirAll(filepath.Join(w.dir, "in"), 0o755)
			os.MkdirAll(filepath.Join(w.dir, "feed"), 0o755)
			os.WriteFile(w.cfg, []byte(`exchanges:
  - name: catalogue
    kind: items
    administration: "500"
    source: {dir: in, stable_for: 50ms}
    target: {dir: feed}
    feed: {languages: {1: nl, 2: de, 3: fr, 4: en}}
`), 0o644)
			os.WriteFile(filepath.Join(w.dir, "in", "items.xml"), data, 0o644)
			if code := w.once(); code != ExitOK {
				t.Fatalf("once = %d: %s", code, w.errorTexts("failed"))
			}
			recs := readJSONL(t, filepath.Join(w.dir, "feed", "catalogue.jsonl"))
			want := 0
			for _, it := range ref {
				if it.IsSalesItem == "1" && it.Condition != "E" {
					want++
				}
			}
			if len(recs) != want {
				t.Fatalf("%d catalogue records, the independent parse has %d sales items that are not inactive", len(recs), want)
			}
			langs := map[string]string{"1": "nl", "2": "de", "3": "fr", "4": "en"}
			for _, r := range recs {
				code := r["item_code"].(string)
				it, ok := ref[code]
				if !ok {
					t.Fatalf("%s is not in the export", code)
				}
				if r["description"] != strings.TrimSpace(it.Description) && r["description"] == nil {
					t.Errorf("%s: description %v vs %q", code, r["description"], it.Description)
				}
				d, _ := r["descriptions"].(map[string]any)
				for _, m := range it.Multi {
					if d[langs[m.Number]] != strings.TrimSpace(m.Text) {
						t.Errorf("%s: descriptions.%s = %v, want %q", code, langs[m.Number], d[langs[m.Number]], m.Text)
					}
				}
				if r["group_code"] != strings.TrimSpace(it.Assortment.Code) {
					t.Errorf("%s: group_code %v vs %q", code, r["group_code"], it.Assortment.Code)
				}
				if r["sales_price"] != it.Price || r["unit"] != it.Unit.Unit {
					t.Errorf("%s: price/unit %v %v vs %q %q", code, r["sales_price"], r["unit"], it.Price, it.Unit.Unit)
				}
				if (it.GTIN == "" && r["gtin"] != nil) || (it.GTIN != "" && r["gtin"] != it.GTIN) {
					t.Errorf("%s: gtin %v vs %q", code, r["gtin"], it.GTIN)
				}
			}
		})
	}
}
