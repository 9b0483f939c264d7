package globexml_test

import (
	"bytes"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"globex/internal/decimal"
	"globex/internal/testutil"
	"globex/mapping/globexml"
	"globex/mapping/order"
	"globex/mapping/order/ordertest"
)

var update = flag.Bool("update", false, "rewrite the golden XML files in testdata/orders/golden")

const (
	testdata = "../../testdata/orders"
	golden   = testdata + "/golden"
)

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parse(t testing.TB, name string, data []byte) []order.Order {
	t.Helper()
	res, err := order.Parse(name, bytes.NewReader(data), order.Options{})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(res.Problems) > 0 {
		t.Fatalf("%s: %v", name, res.Problems)
	}
	return res.Orders
}

// inputs are the order files of testdata/orders, plus basic.xlsx built from
// basic.csv; basic.json, basic.csv and basic.xlsx hold the same order and
// must give the same XML.
func inputs(t testing.TB) map[string][]byte {
	m := map[string][]byte{}
	for _, name := range []string{"basic.json", "basic.csv", "array.json", "hostile-text.json"} {
		m[name] = readFile(t, name)
	}
	x, err := ordertest.XLSXFromCSV(string(m["basic.csv"]))
	if err != nil {
		t.Fatal(err)
	}
	m["basic.xlsx"] = x
	return m
}

// optionCases are written from basic.json with non-default options.
var optionCases = map[string]globexml.Options{
	"opt-yourref": {OrderNumberField: "yourref", ResourceNumber: 10002, DefaultCurrency: "USD"},
	"opt-reference2-mapped": {OrderNumberField: "Reference2", NoteDocumentType: 7, NoteSubject: "Opmerking webshop",
		DeliveryMethods:   map[string]string{"DPD": "D1"},
		PaymentConditions: map[string]string{"30": "03"},
		Units:             map[string]string{"stk": "ST", "m": "MTR"}},
	"opt-freetext1-omitprices": {OrderNumberField: "freetext1", OmitPrices: true},
}

func write(t testing.TB, o *order.Order, opt globexml.Options) ([]byte, []string) {
	t.Helper()
	var buf bytes.Buffer
	warnings, err := globexml.Write(&buf, o, opt)
	if err != nil {
		t.Fatalf("Write(%s): %v", o.Number, err)
	}
	return buf.Bytes(), warnings
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	testutil.Golden(t, filepath.Join(golden, name), got, *update)
}

func TestGolden(t *testing.T) {
	seen := map[string]string{}
	for name, data := range inputs(t) {
		for _, o := range parse(t, name, data) {
			got, _ := write(t, &o, globexml.Options{})
			fn := globexml.FileName(&o, "500")
			checkGolden(t, fn, got)
			seen[fn] = name
			checkFacts(t, got, &o, globexml.Options{})
		}
	}
	basic := parse(t, "basic.json", readFile(t, "basic.json"))[0]
	for name, opt := range optionCases {
		got, _ := write(t, &basic, opt)
		checkGolden(t, name+".xml", got)
		seen[name+".xml"] = "basic.json"
		checkFacts(t, got, &basic, opt)
	}
	// No stale golden files.
	files, _ := filepath.Glob(filepath.Join(golden, "*.xml"))
	for _, f := range files {
		base := filepath.Base(f)
		if _, ok := seen[base]; !ok {
			t.Errorf("golden file %s is not produced by any input", base)
		}
	}
}

// xmlOrder is what the read-back checks look at.
type xmlOrder struct {
	Type        string `xml:"type,attr"`
	Description string `xml:"Description"`
	Reference2  string `xml:"Reference2"`
	YourRef     string `xml:"YourRef"`
	Currency    struct {
		Code string `xml:"code,attr"`
	} `xml:"Currency"`
	OrderedBy []struct {
		Debtor struct {
			Code string `xml:"code,attr"`
		} `xml:"Debtor"`
	} `xml:"OrderedBy"`
	Body      string   `xml:"Document>Body"`
	FreeTexts []string `xml:"FreeFields>FreeTexts>FreeText"`
	Lines     []struct {
		No   int `xml:"lineNo,attr"`
		Item struct {
			Code string `xml:"code,attr"`
		} `xml:"Item"`
		Quantity string `xml:"Quantity"`
		Price    string `xml:"Price>Value"`
		Discount string `xml:"Discount>Percentage"`
		Note     string `xml:"Instruction"`
	} `xml:"OrderLine"`
}

type xmlDoc struct {
	XMLName xml.Name   `xml:"eExact"`
	Orders  []xmlOrder `xml:"Orders>Order"`
}

func readBack(t testing.TB, data []byte) xmlOrder {
	t.Helper()
	var doc xmlDoc
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("generated XML does not parse: %v\n%s", err, data)
	}
	if len(doc.Orders) != 1 {
		t.Fatalf("%d orders in one file", len(doc.Orders))
	}
	return doc.Orders[0]
}

func decEq(t testing.TB, what, got string, want decimal.Dec) {
	t.Helper()
	g, err := decimal.Parse(got)
	if err != nil || !g.Equal(want) {
		t.Errorf("%s = %q, want %s", what, got, want)
	}
}

// checkFacts parses the XML back and compares it with the order.
func checkFacts(t testing.TB, data []byte, o *order.Order, opt globexml.Options) {
	t.Helper()
	x := readBack(t, data)
	if x.Type != "V" || len(x.OrderedBy) != 1 || x.OrderedBy[0].Debtor.Code != o.DebtorCode {
		t.Errorf("%s: type %q ordered by %v", o.Number, x.Type, x.OrderedBy)
	}
	refs := x.Description + "|" + x.Reference2 + "|" + x.YourRef + "|" + strings.Join(x.FreeTexts, "|")
	if !strings.Contains(refs, o.Number) {
		t.Errorf("%s: order number not in %q", o.Number, refs)
	}
	if o.YourRef != "" && !strings.Contains(refs, o.YourRef) {
		t.Errorf("%s: customer's reference %q not in %q", o.Number, o.YourRef, refs)
	}
	if len(x.Lines) != len(o.Lines) {
		t.Fatalf("%s: %d lines, want %d", o.Number, len(x.Lines), len(o.Lines))
	}
	for i, l := range o.Lines {
		xl := x.Lines[i]
		if xl.No != l.No || xl.Item.Code != l.ItemCode {
			t.Errorf("%s line %d: no %d item %q", o.Number, i+1, xl.No, xl.Item.Code)
		}
		decEq(t, "quantity", xl.Quantity, l.Quantity)
		if l.Price != nil && !opt.OmitPrices {
			decEq(t, "price", xl.Price, *l.Price)
		} else if xl.Price != "" {
			t.Errorf("%s line %d: unexpected price %q", o.Number, l.No, xl.Price)
		}
		if l.DiscountPercent != nil && !opt.OmitPrices {
			decEq(t, "discount", xl.Discount, *l.DiscountPercent)
		}
	}
}

func TestSameXMLFromEveryFormat(t *testing.T) {
	var first []byte
	for _, name := range []string{"basic.json", "basic.csv", "basic.xlsx"} {
		o := parse(t, name, inputs(t)[name])[0]
		got, _ := write(t, &o, globexml.Options{})
		if first == nil {
			first = got
		} else if !bytes.Equal(first, got) {
			t.Errorf("%s gives other XML than basic.json:\n%s", name, got)
		}
	}
}

func xmllint(t *testing.T, files ...string) {
	t.Helper()
	testutil.XMLLint(t, files...)
}

func TestGoldenValidatesAgainstXSD(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(golden, "*.xml"))
	if err != nil || len(files) < 7 {
		t.Fatalf("golden files: %v %v", files, err)
	}
	sort.Strings(files)
	xmllint(t, files...)
}

func TestMinimalAndEdgeOrdersValidate(t *testing.T) {
	// Orders not covered by the golden files: the smallest possible, and every
	// optional element at once with options; written to a temp dir and
	// validated.
	dir := t.TempDir()
	minimal := order.Order{Number: "1", DebtorCode: "1", Lines: []order.Line{{No: 1, ItemCode: "A", Quantity: decimal.MustParse("0.001")}}}
	full := parse(t, "basic.json", readFile(t, "basic.json"))[0]
	full.Delivery.Address = &order.Address{Contact: "Only Contact", Country: "BE"}
	var files []string
	for name, c := range map[string]struct {
		o   order.Order
		opt globexml.Options
	}{
		"minimal":           {minimal, globexml.Options{}},
		"full-opt":          {full, globexml.Options{OrderNumberField: "freetext3", ResourceNumber: 5, DefaultWarehouse: "9"}},
		"default-warehouse": {minimal, globexml.Options{DefaultWarehouse: "MAG1", OrderNumberField: "reference3"}},
	} {
		got, _ := write(t, &c.o, c.opt)
		checkFacts(t, got, &c.o, c.opt)
		p := filepath.Join(dir, name+".xml")
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	xmllint(t, files...)
}

func TestHostileText(t *testing.T) {
	o := parse(t, "hostile-text.json", readFile(t, "hostile-text.json"))[0]
	got, warnings := write(t, &o, globexml.Options{})
	x := readBack(t, got)
	wantBody := "Let op: <b>breekbaar</b> & \"zwaar\" ]]>  bel[31m rood\r\nregel 2\tgetabt  einde"
	if x.Body != wantBody {
		t.Errorf("body\n got %q\nwant %q", x.Body, wantBody)
	}
	if x.Lines[0].Note != "a < b && c > d ]]> " {
		t.Errorf("line note %q", x.Lines[0].Note)
	}
	if x.YourRef != "<script>&amp;" {
		t.Errorf("YourRef %q", x.YourRef)
	}
	want := []string{
		"note: removed 5 character(s)",
		"line 1 note: removed 1 character(s)",
	}
	if len(warnings) != len(want) {
		t.Fatalf("warnings %q", warnings)
	}
	for i, w := range want {
		if !strings.HasPrefix(warnings[i], w) {
			t.Errorf("warning %q, want prefix %q", warnings[i], w)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	base := parse(t, "basic.json", readFile(t, "basic.json"))[0]
	tests := []struct {
		name   string
		change func(o *order.Order)
		opt    globexml.Options
		want   string
	}{
		{"number too long for description", func(o *order.Order) { o.Number = "WEB-2026-11-27-000001" }, globexml.Options{},
			`is 21 characters long and Description holds at most 20; choose another order_number_field`},
		{"number too long for reference", func(o *order.Order) { o.Number = strings.Repeat("9", 21) }, globexml.Options{OrderNumberField: "reference1"},
			`Reference1 holds at most 20`},
		{"customer ref too long for description", func(o *order.Order) { o.YourRef = strings.Repeat("R", 21) }, globexml.Options{OrderNumberField: "yourref"},
			`goes into Description, which holds at most 20`},
		{"unknown field option", nil, globexml.Options{OrderNumberField: "memo"}, `unknown order_number_field "memo"`},
		{"mapped unit too long", nil, globexml.Options{Units: map[string]string{"stk": "STUKS1"}},
			`line 1 unit stk (mapped) "STUKS1" is 6 characters long; Globe stores at most 5`},
		{"mapped method too long", nil, globexml.Options{DeliveryMethods: map[string]string{"DPD": "DPD-NL"}},
			`delivery method DPD (mapped) "DPD-NL" is 6 characters long; Globe stores at most 5`},
		{"mapped condition too long", nil, globexml.Options{PaymentConditions: map[string]string{"30": "030"}},
			`payment condition 30 (mapped) "030" is 3 characters long; Globe stores at most 2`},
		{"mapped to control char", nil, globexml.Options{Units: map[string]string{"stk": "S\tT"}}, `forbidden character U+0009`},
		{"default warehouse too long", func(o *order.Order) { o.Delivery.Warehouse = "" }, globexml.Options{DefaultWarehouse: "MAIN1"}, `warehouse "MAIN1" is 5 characters long`},
		{"item with control char", func(o *order.Order) { o.Lines[0].ItemCode = "A\x00" }, globexml.Options{}, `line 1 item code "A\x00" contains`},
		{"invalid utf-8 code", func(o *order.Order) { o.DebtorCode = "\xff" }, globexml.Options{}, `not valid UTF-8`},
		{"no lines", func(o *order.Order) { o.Lines = nil }, globexml.Options{}, `has no lines`},
		{"zero quantity", func(o *order.Order) { o.Lines[0].Quantity = decimal.Dec{} }, globexml.Options{}, `not greater than 0`},
		{"bad date", func(o *order.Order) { o.Delivery.Date = "1-12-2026" }, globexml.Options{}, `not a date`},
		{"long line note", func(o *order.Order) { o.Lines[0].Note = strings.Repeat("é", 161) }, globexml.Options{}, `line 1 note is 161 characters long; Globe stores at most 160`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			o.Lines = append([]order.Line(nil), base.Lines...)
			if tt.change != nil {
				tt.change(&o)
			}
			var buf bytes.Buffer
			_, err := globexml.Write(&buf, &o, tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Error("something was written despite the error")
			}
		})
	}
}

func TestFileName(t *testing.T) {
	safe := regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._~-]*\.xml$`)
	tests := []struct{ admin, number, want string }{
		{"500", "WEB-100234", "500_WEB-100234.xml"},
		{"", "WEB-100234", "WEB-100234.xml"},
		{"500", "A/B", "500_A_B~"},
		{"500", `A\B`, "500_A_B~"},
		{"", "CON", "CON~"},
		{"", "nul.txt", "nul.txt~"},
		{"", "com1", "com1~"},
		{"", ".hidden", "_hidden~"},
		{"500", "café", "500_caf_~"},
		{"500", "x ", "500_x_~"},
		{"5/0", "1", "5_0_1.xml"},
	}
	for _, tt := range tests {
		got := globexml.FileName(&order.Order{Number: tt.number}, tt.admin)
		if !strings.HasPrefix(got, tt.want) || !safe.MatchString(got) || len(got) > 140 {
			t.Errorf("FileName(%q, %q) = %q, want prefix %q", tt.admin, tt.number, got, tt.want)
		}
	}
	// Distinct numbers never share a name, even when they sanitise alike.
	numbers := []string{"A/B", "A\\B", "A_B", "A:B", "A?B", "A B", "A_B~", "a/b", "CON", "con", "CON_",
		strings.Repeat("x", 70), strings.Repeat("x", 71), strings.Repeat("x", 60) + "/", "", ".", "..", "_", "\x00", "\x01"}
	names := map[string]string{}
	for _, n := range numbers {
		fn := globexml.FileName(&order.Order{Number: n}, "500")
		if prev, dup := names[fn]; dup {
			t.Errorf("%q and %q both give %q", prev, n, fn)
		}
		names[fn] = n
		if !safe.MatchString(fn) || fn != globexml.FileName(&order.Order{Number: n}, "500") {
			t.Errorf("%q: unsafe or unstable name %q", n, fn)
		}
	}
}

func FuzzWrite(f *testing.F) {
	for _, name := range []string{"basic.json", "array.json", "hostile-text.json"} {
		f.Add(readFile(f, name))
	}
	f.Add([]byte(`{"order_number":"<&>","customer":{"debtor_code":"'\""},"note":"\u0000]]>","lines":[{"item_code":"&amp;","quantity":"0.000000000000000001"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := order.Parse("f.json", bytes.NewReader(data), order.Options{MaxLines: 100})
		if err != nil {
			return
		}
		for i := range res.Orders {
			o := &res.Orders[i]
			for _, opt := range []globexml.Options{{}, {OrderNumberField: "yourref"}, {OrderNumberField: "freetext2"}} {
				var buf bytes.Buffer
				if _, err := globexml.Write(&buf, o, opt); err != nil {
					if opt.OrderNumberField == "freetext2" {
						// Every order Parse accepts fits Globe's fields when
						// the order number goes to a free text.
						t.Fatalf("Write refused a parsed order: %v", err)
					}
					continue // e.g. a number longer than Description
				}
				checkFacts(t, buf.Bytes(), o, opt)
			}
			if fn := globexml.FileName(o, "500"); strings.ContainsAny(fn, `<>:"/\|?* `) {
				t.Fatalf("unsafe file name %q", fn)
			}
		}
	})
}

func BenchmarkWrite(b *testing.B) {
	// One order of 50 lines.
	o := parse(b, "basic.json", readFile(b, "basic.json"))[0]
	for len(o.Lines) < 50 {
		l := o.Lines[len(o.Lines)%2]
		l.No = len(o.Lines) + 1
		o.Lines = append(o.Lines, l)
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if _, err := globexml.Write(&buf, &o, globexml.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}

func TestSamplesValidate(t *testing.T) {
	// Every good order of samples/orders (what `globex demo` sends) becomes
	// XML that Exact's schema accepts.
	files, err := filepath.Glob("../../samples/orders/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("samples: %v", err)
	}
	dir := t.TempDir()
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		res, err := order.Parse(filepath.Base(f), bytes.NewReader(data), order.Options{})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, o := range res.Orders {
			got, _ := write(t, &o, globexml.Options{})
			checkFacts(t, got, &o, globexml.Options{})
			p := filepath.Join(dir, globexml.FileName(&o, "500"))
			if err := os.WriteFile(p, got, 0o644); err != nil {
				t.Fatal(err)
			}
			out = append(out, p)
		}
	}
	xmllint(t, out...)
}
