package catalog

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"globex/internal/testutil"
	"globex/mapping/feed"
	"globex/mapping/globe"
)

// repoRoot is the repository root, found from this file's location.
func repoRoot() string { return testutil.RepoRoot() }

// readItems reads an Items export into clones, in file order.
func readItems(t testing.TB, path string) []*globe.Item {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*globe.Item
	if err := globe.ReadItems(f, globe.Options{}, func(it *globe.Item) error {
		out = append(out, it.Clone())
		return nil
	}); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

// cases reads testdata/mapping/items-cases.xml keyed by trimmed code.
func cases(t testing.TB) map[string]*globe.Item {
	m := map[string]*globe.Item{}
	for _, it := range readItems(t, filepath.Join(repoRoot(), "testdata", "mapping", "items-cases.xml")) {
		m[strings.TrimSpace(it.Code)] = it
	}
	return m
}

func boolp(b bool) *bool { return &b }

func TestStatusAndFilters(t *testing.T) {
	items := cases(t)
	tests := []struct {
		code   string
		opt    *Options
		keep   bool
		status string
		reason string
	}{
		{code: "FULL-1", keep: true, status: "active"},
		{code: "BLOCKED", keep: true, status: "blocked"},
		{code: "BLOCKED-LC", keep: true, status: "blocked"},
		{code: "DISC", keep: true, status: "discontinued"},
		{code: "FUTURE", keep: true, status: "future"},
		{code: "INACTIVE", reason: "status inactive not in the feed"},
		{code: "INACTIVE", opt: &Options{Statuses: AllStatuses}, keep: true, status: "inactive"},
		{code: "NOCOND", keep: true, status: "active"},
		{code: "ODDCOND", reason: `unknown item condition "I"`},
		{code: "ODDCOND", opt: &Options{Conditions: map[string]string{"I": "inactive"}, Statuses: []string{"inactive"}}, keep: true, status: "inactive"},
		{code: "BLOCKED", opt: &Options{Statuses: []string{"active"}}, reason: "status blocked not in the feed"},
		{code: "FULL-1", opt: &Options{Statuses: []string{" Active "}}, keep: true, status: "active"},
		{code: "NOSALE", reason: "not a sales item"},
		{code: "NOSALE", opt: &Options{SalesOnly: boolp(true)}, reason: "not a sales item"},
		{code: "NOSALE", opt: &Options{SalesOnly: boolp(false)}, keep: true, status: "active"},
		{code: "NOFLAG", reason: "not a sales item (IsSalesItem absent)"},
		{code: "BULK", keep: true, status: "active"},
		{code: "LABOUR", reason: "item type L not in the feed"},
		{code: "LABOUR", opt: &Options{ItemTypes: []string{"s", "L"}}, keep: true, status: "active"},
		{code: "BULK", opt: &Options{ItemTypes: []string{"S"}}, reason: "item type B not in the feed"},
		{code: "NOTYPE", opt: &Options{ItemTypes: []string{"S"}}, keep: true, status: "active"},
		{code: "", reason: "no item code"},
	}
	for _, tt := range tests {
		it, ok := items[tt.code]
		if !ok {
			t.Fatalf("fixture has no item %q", tt.code)
		}
		rec, keep, reason := Map(it, tt.opt)
		if keep != tt.keep || reason != tt.reason {
			t.Errorf("%s %+v: keep=%v reason=%q, want keep=%v reason=%q", tt.code, tt.opt, keep, reason, tt.keep, tt.reason)
			continue
		}
		if keep && rec.Status != tt.status {
			t.Errorf("%s: status %q, want %q", tt.code, rec.Status, tt.status)
		}
		if !keep && rec != nil {
			t.Errorf("%s: record returned with keep=false", tt.code)
		}
	}
}

func TestFullRecord(t *testing.T) {
	it := cases(t)["FULL-1"]
	opt := &Options{
		Administration:  "500",
		Languages:       map[int]string{1: "nl", 2: "en", 3: "de"},
		DefaultLanguage: "nl",
		Attributes: []AttributeRule{
			{Kind: "FreeText", Number: 1},                  // label from the export: Brand
			{Kind: "text", Number: 2, Name: "Norm"},        // unlabelled, named by the rule
			{Label: "pack"},                                // by label, any kind, case-insensitive
			{Kind: "yesno", Label: "Webshop", Name: "web"}, // by kind and label
			{Kind: "yesno", Number: 2},                     // unlabelled, no name: yesno2
			{Kind: "date", Number: 1},                      // Launch
			{Kind: "number", Number: 2, Name: "empty"},     // empty number: no attribute
			{Kind: "text", Label: "Colour"},                // empty text: no attribute
			{Kind: "class", Number: 1, Name: "Material"},   // class description
			{Kind: "ItemCategory", Number: 2},              // class without description: code, named class2
			{Kind: "text", Number: 9, Name: "absent"},      // no such field
		},
	}
	// the same record before and after Validate, and with the rules
	// replaced after Validate
	plain, _, _ := Map(it, opt)
	if err := opt.Validate(); err != nil {
		t.Fatal(err)
	}
	rec, keep, reason := Map(it, opt)
	if !keep {
		t.Fatalf("left out: %s", reason)
	}
	if !reflect.DeepEqual(plain, rec) {
		t.Errorf("validated options map otherwise:\n%s\n%s", plain.AppendJSON(nil), rec.AppendJSON(nil))
	}
	later := *opt
	later.Attributes = []AttributeRule{{Kind: "text", Number: 2, Name: "Only"}}
	if r, _, _ := Map(it, &later); len(r.Attributes) != 1 || r.Attributes["Only"] != "DIN 933" {
		t.Errorf("rules changed after Validate: %v", r.Attributes)
	}
	price := mustDec(t, "12.50")
	want := &feed.Catalogue{
		Administration:   "500",
		ItemCode:         "FULL-1",
		Description:      "Bout NL",
		Descriptions:     map[string]string{"0": "Slot zero", "nl": "Bout NL", "en": "Bolt EN", "de": "Schraube DE"},
		LongDescription:  "Long text",
		GroupCode:        "BOLTS",
		GroupDescription: "Bolts and screws",
		Unit:             "pcs",
		SalesPrice:       &price,
		Currency:         "USD",
		VATCode:          "2",
		GTIN:             "8712345678906",
		Status:           "active",
		Attributes: map[string]string{
			"Brand": "ACME", "Norm": "DIN 933", "Pack": "25.0", "web": "1", "yesno2": "0",
			"Launch": "2024-03-01", "Material": "Steel", "class2": "M8",
		},
		UpdatedAt: "2024-11-04T09:15:00Z",
	}
	if !reflect.DeepEqual(rec, want) {
		t.Errorf("got  %s\nwant %s", rec.AppendJSON(nil), want.AppendJSON(nil))
	}
	if rec.SalesPrice.String() != "12.50" {
		t.Errorf("sales price %s, want the export's 12.50", rec.SalesPrice)
	}
}

func TestLanguages(t *testing.T) {
	items := cases(t)
	full := items["FULL-1"]
	tests := []struct {
		name  string
		opt   *Options
		desc  string
		descs map[string]string
	}{
		{"no languages: numbers as keys, main description", nil, "Main description",
			map[string]string{"0": "Slot zero", "1": "Bout NL", "2": "Bolt EN", "3": "Schraube DE"}},
		{"default language present", &Options{Languages: map[int]string{2: "en"}, DefaultLanguage: "en"}, "Bolt EN",
			map[string]string{"0": "Slot zero", "1": "Bout NL", "en": "Bolt EN", "3": "Schraube DE"}},
		{"default language missing falls back to main", &Options{Languages: map[int]string{1: "nl"}, DefaultLanguage: "fr"}, "Main description",
			map[string]string{"0": "Slot zero", "nl": "Bout NL", "2": "Bolt EN", "3": "Schraube DE"}},
		{"main language added", &Options{Languages: map[int]string{1: "nl", 2: "en", 3: "de"}, MainLanguage: "fr"}, "Main description",
			map[string]string{"0": "Slot zero", "nl": "Bout NL", "en": "Bolt EN", "de": "Schraube DE", "fr": "Main description"}},
		{"main language does not override a slot", &Options{Languages: map[int]string{1: "nl"}, MainLanguage: "nl"}, "Main description",
			map[string]string{"0": "Slot zero", "nl": "Bout NL", "2": "Bolt EN", "3": "Schraube DE"}},
	}
	for _, tt := range tests {
		rec, keep, _ := Map(full, tt.opt)
		if !keep {
			t.Fatalf("%s: left out", tt.name)
		}
		if rec.Description != tt.desc || !reflect.DeepEqual(rec.Descriptions, tt.descs) {
			t.Errorf("%s: description %q %v, want %q %v", tt.name, rec.Description, rec.Descriptions, tt.desc, tt.descs)
		}
	}
	// An item without multi-descriptions has none, not an empty map.
	rec, _, _ := Map(items["BULK"], nil)
	if rec.Descriptions != nil || rec.Attributes != nil {
		t.Errorf("BULK: descriptions %v attributes %v, want nil", rec.Descriptions, rec.Attributes)
	}
}

func TestDefaultsAndFallbacks(t *testing.T) {
	items := cases(t)
	rec, _, _ := Map(items["NOTYPE"], &Options{Currency: "GBP"})
	if rec.Currency != "GBP" || rec.GroupCode != "20" || rec.SalesPrice == nil || rec.SalesPrice.String() != "3" {
		t.Errorf("NOTYPE: %s", rec.AppendJSON(nil))
	}
	rec, _, _ = Map(items["BULK"], nil)
	if rec.Currency != "EUR" || rec.SalesPrice != nil || rec.UpdatedAt != "" {
		t.Errorf("BULK: %s", rec.AppendJSON(nil))
	}
	rec, _, _ = Map(items["NOCOND"], nil)
	if rec.UpdatedAt != "2022-05-06T00:00:00Z" {
		t.Errorf("NOCOND updated_at %q, want the Created date", rec.UpdatedAt)
	}
}

// The record shares nothing with the reader's reused item.
func TestNoAliasing(t *testing.T) {
	it := cases(t)["FULL-1"]
	rec, _, _ := Map(it, &Options{Attributes: []AttributeRule{{Kind: "text", Number: 1}}})
	before := string(rec.AppendJSON(nil))
	it.SalesPrice = mustDec(t, "99")
	it.Descriptions[1].Text = "changed"
	it.FreeFields.Texts[0].Value = "changed"
	if after := string(rec.AppendJSON(nil)); after != before {
		t.Errorf("record changed with its source:\n%s\n%s", before, after)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		opt  Options
		want string // substring of the error; "" for none
	}{
		{Options{}, ""},
		{Options{Statuses: []string{"active", "Blocked", " future "}, ItemTypes: []string{"s", "B"}}, ""},
		{Options{Statuses: []string{"active", "deleted"}}, `statuses[1]: unknown item status "deleted"`},
		{Options{Conditions: map[string]string{"I": "gone"}}, `conditions["I"]: unknown item status "gone"`},
		{Options{Conditions: map[string]string{" ": "active"}}, "empty condition code"},
		{Options{ItemTypes: []string{"X"}}, `item_types[0]: unknown Globe item type "X"`},
		{Options{Languages: map[int]string{1: ""}}, "languages[1]: empty language code"},
		{Options{Languages: map[int]string{12: "nl"}}, "slot 12 out of range"},
		{Options{Attributes: []AttributeRule{{Kind: "colour", Number: 1}}}, `attributes[0]: unknown kind "colour"`},
		{Options{Attributes: []AttributeRule{{Kind: "text"}}}, "attributes[0]: give a number"},
		{Options{Attributes: []AttributeRule{{Number: 1}}}, "number 1 needs a kind"},
		{Options{Attributes: []AttributeRule{{Kind: "class", Label: "Material"}}}, "chosen by its number"},
		{Options{Attributes: []AttributeRule{{Kind: "text", Number: -1}}}, "negative number"},
		{Options{Attributes: []AttributeRule{{Kind: "FreeYesNo", Label: "Webshop"}, {Kind: "class", Number: 1}}}, ""},
	}
	for _, tt := range tests {
		err := tt.opt.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", tt.opt, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%+v: error %v, want one containing %q", tt.opt, err, tt.want)
		}
	}
	got, err := Filter([]string{" Active", "FUTURE"})
	if err != nil || !reflect.DeepEqual(got, []string{"active", "future"}) {
		t.Errorf("Filter: %v %v", got, err)
	}
	var nilOpt *Options
	if err := nilOpt.Validate(); err != nil {
		t.Errorf("nil options: %v", err)
	}
}

func TestValidateCurrency(t *testing.T) {
	if err := (&Options{Currency: "EURO"}).Validate(); err == nil {
		t.Error("four-letter currency accepted")
	}
	if err := (&Options{Currency: "CHF"}).Validate(); err != nil {
		t.Error(err)
	}
}
