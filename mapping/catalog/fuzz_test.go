package catalog

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"globex/mapping/globe"
)

// FuzzMapExport reads fuzzed Items exports and maps every item with rich
// options: nothing panics, and a kept record has a trimmed, non-empty code
// and a valid status.
func FuzzMapExport(f *testing.F) {
	for _, p := range []string{
		filepath.Join(repoRoot(), "testdata", "mapping", "items-cases.xml"),
		filepath.Join(repoRoot(), "samples", "exports", "items-500.xml"),
	} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	no := false
	opt := &Options{
		Languages: map[int]string{1: "nl"}, DefaultLanguage: "nl", MainLanguage: "en", SalesOnly: &no,
		Statuses: AllStatuses, ItemTypes: itemTypes, Conditions: map[string]string{"I": "inactive"},
		Attributes: []AttributeRule{{Kind: "text", Number: 1}, {Label: "Brand"}, {Kind: "class", Number: 1}, {Kind: "date", Number: 1}},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = globe.ReadItems(bytes.NewReader(data), globe.Options{}, func(it *globe.Item) error {
			rec, keep, _ := Map(it, opt)
			if keep && (rec.ItemCode == "" || !ValidStatus(rec.Status)) {
				t.Fatalf("bad record %s", rec.AppendJSON(nil))
			}
			return nil
		})
	})
}
