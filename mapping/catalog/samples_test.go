package catalog

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"globex/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden feed files in testdata/mapping/golden")

// sampleOptions are the options the demo runs the catalogue feed with.
var sampleOptions = &Options{
	Administration:  "500",
	Languages:       map[int]string{1: "nl", 2: "en", 3: "de"},
	DefaultLanguage: "nl",
	Attributes: []AttributeRule{
		{Kind: "text", Label: "Merk", Name: "brand"},
		{Kind: "text", Number: 2, Name: "norm"},
		{Kind: "number", Label: "Verpakkingseenheid", Name: "pack_quantity"},
		{Kind: "class", Number: 1, Name: "material"},
	},
}

// golden compares got with testdata/mapping/golden/name, or rewrites it
// with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testutil.Golden(t, filepath.Join(repoRoot(), "testdata", "mapping", "golden", name), got, *update)
}

// TestSampleItems maps samples/exports/items-500.xml: 14 items, of which
// the inactive one, the non-sales pallet and the labour hour stay out.
func TestSampleItems(t *testing.T) {
	items := readItems(t, filepath.Join(repoRoot(), "samples", "exports", "items-500.xml"))
	if len(items) != 14 {
		t.Fatalf("%d items, want 14", len(items))
	}
	var out []byte
	reasons := map[string]string{}
	for _, it := range items {
		rec, keep, reason := Map(it, sampleOptions)
		if !keep {
			reasons[it.Code] = reason
			continue
		}
		out = rec.AppendJSON(out)
		out = append(out, '\n')
	}
	wantOut := map[string]string{
		"BT-M6X20-OUD": "status inactive not in the feed",
		"PAL-EURO":     "not a sales item",
		"SV-MONTAGE":   "item type L not in the feed",
	}
	if len(reasons) != len(wantOut) {
		t.Errorf("left out %v, want %v", reasons, wantOut)
	}
	for code, r := range wantOut {
		if reasons[code] != r {
			t.Errorf("%s: reason %q, want %q", code, reasons[code], r)
		}
	}
	if !bytes.Contains(out, []byte(`"item_code":"PL-6X30"`)) {
		t.Error("padded code PL-6X30 not trimmed")
	}
	golden(t, "catalogue.jsonl", out)
}

// TestSamplesValidate checks the three sample exports against Exact's XSD
// with xmllint, when both are at hand.
func TestSamplesValidate(t *testing.T) {
	xsd := filepath.Join(repoRoot(), "..", "shared", "globe", "eExact-Schema.xsd")
	if _, err := os.Stat(xsd); err != nil {
		t.Skipf("no XSD at %s", xsd)
	}
	lint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed")
	}
	for _, name := range []string{"items-500.xml", "itemprices-500.xml", "accounts-500.xml"} {
		path := filepath.Join(repoRoot(), "samples", "exports", name)
		out, err := exec.Command(lint, "--noout", "--schema", xsd, path).CombinedOutput()
		if err != nil {
			t.Errorf("%s does not validate: %v\n%s", name, err, out)
		}
	}
}
