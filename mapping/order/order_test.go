package order_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"globex/internal/decimal"
	"globex/mapping/order"
	"globex/mapping/order/ordertest"
)

const testdata = "../../testdata/orders"

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t testing.TB, name string, data []byte) order.Result {
	t.Helper()
	res, err := order.Parse(name, bytes.NewReader(data), order.Options{})
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return res
}

func dec(s string) *decimal.Dec { d := decimal.MustParse(s); return &d }

func TestParseJSONFields(t *testing.T) {
	res := mustParse(t, "basic.json", readFile(t, "basic.json"))
	if len(res.Problems) != 0 || len(res.Orders) != 1 {
		t.Fatalf("got %d orders, problems %v", len(res.Orders), res.Problems)
	}
	o := res.Orders[0]
	want := order.Order{
		Number: "WEB-100234", DebtorCode: "10001", Contact: "P. Jansen", Email: "inkoop@jansentechniek.nl",
		OrderedAt: "2026-11-27T10:15:00+01:00", YourRef: "PO 4711", Currency: "EUR", InvoiceDebtorCode: "10000",
		PaymentCondition: "30",
		Delivery: order.Delivery{Date: "2026-12-01", Method: "DPD", Warehouse: "1", Address: &order.Address{
			Name: "Jansen Techniek B.V.", Contact: "P. Jansen", Line1: "Industrieweg 12", Line2: "Hal 3",
			Postcode: "4462 GC", City: "Goes", Country: "NL", Phone: "+31 113 123456"}},
		Note: "Graag voor 10:00 leveren & vooraf bellen",
		Lines: []order.Line{
			{No: 1, ItemCode: "ART-001", Quantity: decimal.MustParse("12"), Unit: "stk", Price: dec("4.95"),
				DiscountPercent: dec("5"), Warehouse: "1", DeliveryDate: "2026-12-01", Note: "Per 25 stuks verpakken",
				Pos: "object 1 at line 1, lines entry 1"},
			{No: 2, ItemCode: "ART-002", Quantity: decimal.MustParse("2.50"), Unit: "m", Price: dec("19.950"),
				DeliveryDate: "2026-12-08", Pos: "object 1 at line 1, lines entry 2"},
		},
		Pos: "object 1 at line 1",
	}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("got\n%#v\nwant\n%#v", o, want)
	}
}

func TestArrayPositions(t *testing.T) {
	res := mustParse(t, "array.json", readFile(t, "array.json"))
	if len(res.Problems) != 0 || len(res.Orders) != 2 {
		t.Fatalf("got %d orders, problems %v", len(res.Orders), res.Problems)
	}
	if got := res.Orders[1].Pos; got != "object 2 at line 7" {
		t.Errorf("Pos = %q", got)
	}
	if got := res.Orders[1].Currency; got != "EUR" {
		t.Errorf("currency not normalised: %q", got)
	}
}

// stripPos clears what legitimately differs between formats.
func stripPos(o order.Order) order.Order {
	o.Pos = ""
	lines := make([]order.Line, len(o.Lines))
	for i, l := range o.Lines {
		l.Pos = ""
		q := l.Quantity.Normalize()
		l.Quantity = q
		if l.Price != nil {
			p := l.Price.Normalize()
			l.Price = &p
		}
		if l.DiscountPercent != nil {
			p := l.DiscountPercent.Normalize()
			l.DiscountPercent = &p
		}
		lines[i] = l
	}
	o.Lines = lines
	return o
}

func TestSameOrderAcrossFormats(t *testing.T) {
	csvData := readFile(t, "basic.csv")
	xlsx, err := ordertest.XLSXFromCSV(string(csvData))
	if err != nil {
		t.Fatal(err)
	}
	comma := bytes.ReplaceAll(csvData, []byte(";"), []byte(","))
	comma = append([]byte("\uFEFF"), bytes.ReplaceAll(comma, []byte("Graag voor 10:00 leveren & vooraf bellen"), []byte(`"Graag voor 10:00 leveren & vooraf bellen"`))...)
	inputs := map[string][]byte{
		"basic.json":           readFile(t, "basic.json"),
		"basic.csv":            csvData,
		"BASIC-COMMA-BOM.CSV":  comma,
		"basic.xlsx":           xlsx,
		"basic-crlf.json":      bytes.ReplaceAll(readFile(t, "basic.json"), []byte("\n"), []byte("\r\n")),
		"basic-bom-array.json": append([]byte("\uFEFF["), append(readFile(t, "basic.json"), ']')...),
	}
	var first order.Order
	var firstHash, firstName string
	for name, data := range inputs {
		res := mustParse(t, name, data)
		if len(res.Problems) != 0 || len(res.Orders) != 1 {
			t.Fatalf("%s: got %d orders, problems %v", name, len(res.Orders), res.Problems)
		}
		o := res.Orders[0]
		if firstName == "" {
			first, firstHash, firstName = o, o.Hash(), name
			continue
		}
		if !reflect.DeepEqual(stripPos(o), stripPos(first)) {
			t.Errorf("%s and %s differ:\n%#v\n%#v", name, firstName, stripPos(o), stripPos(first))
		}
		if h := o.Hash(); h != firstHash {
			t.Errorf("hash of %s %s != hash of %s %s", name, h, firstName, firstHash)
		}
	}
}

func TestHash(t *testing.T) {
	base := mustParse(t, "basic.json", readFile(t, "basic.json")).Orders[0]
	h := base.Hash()
	if len(h) != 64 || h != base.Hash() {
		t.Fatalf("hash %q not stable hex SHA-256", h)
	}
	same := base
	same.Pos = "elsewhere"
	same.Lines = append([]order.Line(nil), base.Lines...)
	same.Lines[0].Quantity = decimal.MustParse("12.000")
	same.Lines[0].Pos = "row 99"
	if same.Hash() != h {
		t.Error("Pos or trailing zeros changed the hash")
	}
	changes := map[string]func(o *order.Order){
		"quantity":     func(o *order.Order) { o.Lines[0].Quantity = decimal.MustParse("13") },
		"price absent": func(o *order.Order) { o.Lines[1].Price = nil },
		"price zero":   func(o *order.Order) { o.Lines[1].Price = dec("0") },
		"no address":   func(o *order.Order) { o.Delivery.Address = nil },
		"note":         func(o *order.Order) { o.Note += "!" },
		"field shift":  func(o *order.Order) { o.Contact, o.Email = o.Contact+o.Email, "" },
		"line order":   func(o *order.Order) { o.Lines[0], o.Lines[1] = o.Lines[1], o.Lines[0] },
	}
	for name, change := range changes {
		o := base
		o.Lines = append([]order.Line(nil), base.Lines...)
		a := *base.Delivery.Address
		o.Delivery.Address = &a
		change(&o)
		if o.Hash() == h {
			t.Errorf("%s: hash unchanged", name)
		}
	}
}

func TestWholeFileErrors(t *testing.T) {
	notZip := []byte("PK\x03\x04 this is no workbook")
	tests := []struct {
		name string
		data string
		want string
	}{
		{"a.json", "", "empty"},
		{"a.json", " \n\t ", "empty"},
		{"a.json", "\uFEFF", "empty"},
		{"a.json", "[]", "no orders"},
		{"a.json", "[\n  {\"order_number\": \"1\",}\n]", "line 2, column 24"},
		{"a.json", "{\"order_number\": \"1\"", "ends early"},
		{"a.json", "{} {}", "after top-level value"},
		{"a.json", "42", "expected an order object"},
		{"a.json", "{\"note\": \"caf\xe9\"}", "byte offset 13 (line 1, column 14)"},
		{"a.json", "{\"order_number\": 1e}", "malformed JSON at line 1"},
		{"orders.txt", "{}", "unknown order file type"},
		{"a.csv", "", "empty"},
		{"a.csv", "order_number;debtor_code;quantity\n1;2;3\n", "lacks the required column(s) item_code"},
		{"a.csv", "order_number\n1\n", "no ';' or ','"},
		{"a.csv", "order_number;debtor_code;item_code;quantity\n1;2;\"x;3\n", "malformed CSV at line 2"},
		{"a.csv", "order_number;debtor_code;item_code;quantity;ORDER_NUMBER\n", "appears twice"},
		{"a.csv", "order_number;debtor_code;item_code;quantity\n", "no order rows"},
		// UTF-8 characters and a stray byte: damaged (a file of only such
		// bytes is Windows-1252, see TestCSV)
		{"a.csv", "order_number;debtor_code;item_code;quantity\n1;2;\xff\xc3\xa9;3\n", "byte offset 48 (line 2"},
		// a UTF-8 byte order mark declares UTF-8: a stray byte is damage
		{"a.csv", "\xef\xbb\xbforder_number;debtor_code;item_code;quantity\n1;2;\xff;3\n", "byte offset 48 (line 2"},
		{"a.xlsx", string(notZip), "not an .xlsx workbook"},
		{"a.xlsx", "", "not an .xlsx workbook"},
	}
	for _, tt := range tests {
		res, err := order.Parse(tt.name, strings.NewReader(tt.data), order.Options{})
		if err == nil {
			t.Errorf("%s %q: no error, got %+v", tt.name, tt.data, res)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), tt.name+": ") {
			t.Errorf("%s %q: error %q, want it to name the file and contain %q", tt.name, tt.data, err, tt.want)
		}
	}
}

func TestLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("[")
	for i := range 4 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"order_number":"%d","customer":{"debtor_code":"1"},"lines":[{"item_code":"A","quantity":1},{"item_code":"B","quantity":1}]}`, i)
	}
	b.WriteString("]")
	if _, err := order.Parse("a.json", strings.NewReader(b.String()), order.Options{MaxLines: 7}); err == nil || !strings.Contains(err.Error(), "more than 7 order lines") {
		t.Errorf("MaxLines: %v", err)
	}
	if res, err := order.Parse("a.json", strings.NewReader(b.String()), order.Options{MaxLines: 8}); err != nil || len(res.Orders) != 4 {
		t.Errorf("8 lines refused: %v", err)
	}
	csv := "order_number;debtor_code;item_code;quantity\n" + strings.Repeat("1;2;A;1\n", 6)
	if _, err := order.Parse("a.csv", strings.NewReader(csv), order.Options{MaxLines: 5}); err == nil {
		t.Error("CSV MaxLines not enforced")
	}
	if _, err := order.Parse("a.json", strings.NewReader(b.String()), order.Options{MaxBytes: 100}); err == nil || !strings.Contains(err.Error(), "larger than 100 bytes") {
		t.Errorf("MaxBytes: %v", err)
	}
}

// jsonOrder returns a valid one-line order with the given replacements
// applied to its JSON text.
func jsonOrder(repl ...string) string {
	s := `{"order_number": "WEB-1", "customer": {"debtor_code": "10001"}, "your_reference": "PO 1",
 "delivery": {"date": "2026-12-01", "method": "DPD", "warehouse": "1"},
 "lines": [{"item_code": "ART-001", "quantity": "12", "unit": "stk", "price": "4.95", "discount_percent": "5", "warehouse": "1", "delivery_date": "2026-12-01", "note": "n"}]}`
	return strings.NewReplacer(repl...).Replace(s)
}

func TestProblems(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	addr := func(fields string) string {
		return `"delivery": {"address": {` + fields + `}}`
	}
	tests := []struct {
		name  string
		json  string
		field string
		line  int
		want  string
	}{
		{"decimal comma", jsonOrder(`"quantity": "12"`, `"quantity": "1,5"`), "quantity", 1, `"1,5" uses a decimal comma; write it with a point: 1.5`},
		{"exponent string", jsonOrder(`"quantity": "12"`, `"quantity": "1e3"`), "quantity", 1, "exponent notation"},
		{"exponent number", jsonOrder(`"quantity": "12"`, `"quantity": 1e3`), "quantity", 1, "exponent notation"},
		{"words", jsonOrder(`"quantity": "12"`, `"quantity": "abc"`), "quantity", 1, "not a decimal number"},
		{"zero", jsonOrder(`"quantity": "12"`, `"quantity": 0`), "quantity", 1, "not greater than 0"},
		{"negative", jsonOrder(`"quantity": "12"`, `"quantity": "-2"`), "quantity", 1, "not greater than 0"},
		{"missing quantity", jsonOrder(`"quantity": "12",`, ``), "quantity", 1, "is missing"},
		{"null quantity", jsonOrder(`"quantity": "12"`, `"quantity": null`), "quantity", 1, "is missing"},
		{"bool quantity", jsonOrder(`"quantity": "12"`, `"quantity": true`), "quantity", 1, "is a boolean"},
		{"huge quantity", jsonOrder(`"quantity": "12"`, `"quantity": 12345678901234567890`), "quantity", 1, "too many digits"},
		{"negative price", jsonOrder(`"price": "4.95"`, `"price": "-1"`), "price", 1, "negative"},
		{"price comma", jsonOrder(`"price": "4.95"`, `"price": "4,95"`), "price", 1, "decimal comma"},
		{"discount", jsonOrder(`"discount_percent": "5"`, `"discount_percent": "100.01"`), "discount_percent", 1, "outside 0..100"},
		{"missing item", jsonOrder(`"item_code": "ART-001",`, ``), "item_code", 1, "is missing"},
		{"missing number", jsonOrder(`"order_number": "WEB-1",`, ``), "order_number", 0, "is missing"},
		{"missing debtor", jsonOrder(`"debtor_code": "10001"`, ``), "customer.debtor_code", 0, "is missing"},
		{"flat debtor", jsonOrder(`"customer": {"debtor_code": "10001"}`, `"debtor_code": "10001"`), "customer.debtor_code", 0, "is missing"},
		{"no lines", jsonOrder(`"lines": [`, `"lines": [], "x": [`), "lines", 0, "no lines"},
		{"lines not array", jsonOrder(`"lines": [`, `"lines": "x", "x": [`), "lines", 0, "expected an array"},
		{"customer not object", jsonOrder(`"customer": {"debtor_code": "10001"}`, `"customer": "10001"`), "customer", 0, "expected an object"},
		{"bad date", jsonOrder(`"date": "2026-12-01"`, `"date": "01-12-2026"`), "delivery.date", 0, "YYYY-MM-DD"},
		{"impossible date", jsonOrder(`"date": "2026-12-01"`, `"date": "2026-02-30"`), "delivery.date", 0, "YYYY-MM-DD"},
		{"line date", jsonOrder(`"delivery_date": "2026-12-01"`, `"delivery_date": "2026-12-1"`), "delivery_date", 1, "YYYY-MM-DD"},
		{"ordered_at", jsonOrder(`"your_reference"`, `"ordered_at": "2026-11-27 10:15", "your_reference"`), "ordered_at", 0, "RFC 3339"},
		{"address without country", jsonOrder(`"delivery": {"date": "2026-12-01", "method": "DPD", "warehouse": "1"}`, addr(`"name": "X", "city": "Goes"`)), "delivery.address.country", 0, "is missing"},
		{"unknown country", jsonOrder(`"delivery": {"date": "2026-12-01", "method": "DPD", "warehouse": "1"}`, addr(`"name": "X", "country": "XK"`)), "delivery.address.country", 0, "not an ISO 3166-1"},
		{"reserved country", jsonOrder(`"delivery": {"date": "2026-12-01", "method": "DPD", "warehouse": "1"}`, addr(`"name": "X", "country": "UK"`)), "delivery.address.country", 0, "not an ISO 3166-1"},
		{"currency", jsonOrder(`"your_reference"`, `"currency": "EURO", "your_reference"`), "currency", 0, "three-letter"},
		{"number 31", jsonOrder(`"WEB-1"`, `"`+long(31)+`"`), "order_number", 0, "is 31 characters long; Globe stores at most 30"},
		{"yourref 31", jsonOrder(`"PO 1"`, `"`+long(31)+`"`), "your_reference", 0, "at most 30"},
		{"item 31", jsonOrder(`"ART-001"`, `"`+long(31)+`"`), "item_code", 1, "at most 30"},
		{"warehouse 5", jsonOrder(`"warehouse": "1"}`, `"warehouse": "12345"}`), "delivery.warehouse", 0, "at most 4"},
		{"line warehouse 5", jsonOrder(`"warehouse": "1", "delivery_date"`, `"warehouse": "12345", "delivery_date"`), "warehouse", 1, "at most 4"},
		{"method 6", jsonOrder(`"DPD"`, `"DPDPDP"`), "delivery.method", 0, "at most 5"},
		{"condition 3", jsonOrder(`"your_reference"`, `"payment_condition": "300", "your_reference"`), "payment_condition", 0, "at most 2"},
		{"unit 6", jsonOrder(`"stk"`, `"stuks!"`), "unit", 1, "at most 5"},
		{"debtor 21", jsonOrder(`"10001"`, `"`+long(21)+`"`), "customer.debtor_code", 0, "at most 20"},
		{"invoice debtor 21", jsonOrder(`"your_reference"`, `"invoice_debtor_code": "`+long(21)+`", "your_reference"`), "invoice_debtor_code", 0, "at most 20"},
		{"name 51", jsonOrder(`"delivery": {"date": "2026-12-01", "method": "DPD", "warehouse": "1"}`, addr(`"name": "`+long(51)+`", "country": "NL"`)), "delivery.address.name", 0, "at most 50"},
		{"line1 101", jsonOrder(`"delivery": {"date": "2026-12-01", "method": "DPD", "warehouse": "1"}`, addr(`"line1": "`+long(101)+`", "country": "NL"`)), "delivery.address.line1", 0, "at most 100"},
		{"city 101", jsonOrder(`"delivery": {"date": "2026-12-01", "method": "DPD", "warehouse": "1"}`, addr(`"city": "`+long(101)+`", "country": "NL"`)), "delivery.address.city", 0, "at most 100"},
		{"postcode 21", jsonOrder(`"delivery": {"date": "2026-12-01", "method": "DPD", "warehouse": "1"}`, addr(`"postcode": "`+long(21)+`", "country": "NL"`)), "delivery.address.postcode", 0, "at most 20"},
		{"line note 161", jsonOrder(`"note": "n"`, `"note": "`+long(161)+`"`), "note", 1, "at most 160"},
		{"runes not bytes ok", jsonOrder(`"PO 1"`, `"`+strings.Repeat("é", 31)+`"`), "your_reference", 0, "is 31 characters"},
		{"control in code", jsonOrder(`"ART-001"`, `"ART\u0007001"`), "item_code", 1, "control or forbidden character U+0007"},
		{"nul in number", jsonOrder(`"WEB-1"`, `"WEB\u00001"`), "order_number", 0, "U+0000"},
		{"C1 in debtor", jsonOrder(`"10001"`, `"100\u008501"`), "customer.debtor_code", 0, "U+0085"},
		{"noncharacter in unit", jsonOrder(`"stk"`, `"s\uFFFEk"`), "unit", 1, "U+FFFE"},
		{"not an object", `[` + jsonOrder() + `, 7]`, "", 0, "not an order object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustParse(t, "x.json", []byte(tt.json))
			if len(res.Problems) == 0 {
				t.Fatalf("no problem for %s", tt.json)
			}
			for _, p := range res.Problems {
				if p.Field == tt.field && p.Line == tt.line && strings.Contains(p.Message, tt.want) {
					if !strings.Contains(p.Error(), "object") {
						t.Errorf("Error() does not name the position: %s", p.Error())
					}
					return
				}
			}
			t.Errorf("want field %q line %d message %q; got %v", tt.field, tt.line, tt.want, res.Problems)
		})
	}
}

func TestValidEdgeCases(t *testing.T) {
	for name, js := range map[string]string{
		"number 30, yourref 30": jsonOrder(`"WEB-1"`, `"`+strings.Repeat("9", 30)+`"`, `"PO 1"`, `"`+strings.Repeat("é", 30)+`"`),
		"discount 100, price 0": jsonOrder(`"discount_percent": "5"`, `"discount_percent": 100`, `"price": "4.95"`, `"price": 0`),
		"lower-case country":    jsonOrder(`"delivery": {"date": "2026-12-01", "method": "DPD", "warehouse": "1"}`, `"delivery": {"address": {"name": "X", "country": " be "}}`),
		"empty address":         jsonOrder(`"delivery": {"date": "2026-12-01", "method": "DPD", "warehouse": "1"}`, `"delivery": {"address": {"name": "", "country": ""}}`),
		"free text anything":    jsonOrder(`"note": "n"`, `"note": "<&>\u0000\u0007"`),
		"nulls":                 jsonOrder(`"your_reference": "PO 1"`, `"your_reference": null, "note": null`),
		"small quantity":        jsonOrder(`"quantity": "12"`, `"quantity": 0.001`),
	} {
		res := mustParse(t, "x.json", []byte(js))
		if len(res.Problems) != 0 || len(res.Orders) != 1 {
			t.Errorf("%s: problems %v", name, res.Problems)
		}
	}
}

func TestGoodAndBadInOneFile(t *testing.T) {
	js := `[` + jsonOrder() + `,` + jsonOrder(`"WEB-1"`, `"WEB-2"`, `"quantity": "12"`, `"quantity": "1,5"`) + `,` +
		jsonOrder(`"WEB-1"`, `"WEB-3"`, `"debtor_code": "10001"`, ``) + `]`
	res := mustParse(t, "x.json", []byte(js))
	if len(res.Orders) != 1 || res.Orders[0].Number != "WEB-1" {
		t.Fatalf("orders %v", res.Orders)
	}
	if len(res.Problems) != 2 || res.Problems[0].Order != "WEB-2" || res.Problems[1].Order != "WEB-3" {
		t.Fatalf("problems %v", res.Problems)
	}
	want := `order "WEB-2" (object 2 at line 3), order line 1, field quantity: "1,5" uses a decimal comma; write it with a point: 1.5`
	if got := res.Problems[0].Error(); got != want {
		t.Errorf("Error()\n got %s\nwant %s", got, want)
	}
}

func TestDuplicateNumbers(t *testing.T) {
	js := "[" + jsonOrder() + ",\n" + jsonOrder(`"WEB-1"`, `"WEB-2"`) + ",\n" + jsonOrder() + "]"
	res := mustParse(t, "x.json", []byte(js))
	if len(res.Orders) != 1 || res.Orders[0].Number != "WEB-2" {
		t.Fatalf("orders %v", res.Orders)
	}
	if len(res.Problems) != 2 {
		t.Fatalf("problems %v", res.Problems)
	}
	if m := res.Problems[0].Error(); !strings.Contains(m, "(object 1 at line 1)") || !strings.Contains(m, "also used at object 3 at line 7") {
		t.Errorf("first: %s", m)
	}
	if m := res.Problems[1].Error(); !strings.Contains(m, "(object 3 at line 7)") || !strings.Contains(m, "also used at object 1 at line 1") {
		t.Errorf("second: %s", m)
	}
}

const csvHeader = "order_number;debtor_code;your_reference;delivery_date;item_code;quantity;unit;price;note;line_note\n"

func TestCSV(t *testing.T) {
	t.Run("grouping and quoting", func(t *testing.T) {
		data := " Order_Number ; DEBTOR_CODE ;your_reference;delivery_date;item_code;quantity;unit;price;note;line_note;extra\n" +
			"A1;10001;PO 1;2026-12-01;ART-1;1;stk;1.50;\"note; with \"\"quotes\"\"\nand a line break\";;ignored\n" +
			";;;;;;;;;\n" +
			"A1;;;;ART-2;2;;;;line note;\n" +
			"A2;10002;;;ART-1;3;;;;;\n"
		res := mustParse(t, "x.csv", []byte(data))
		if len(res.Problems) != 0 || len(res.Orders) != 2 {
			t.Fatalf("orders %d, problems %v", len(res.Orders), res.Problems)
		}
		a1 := res.Orders[0]
		if a1.Note != "note; with \"quotes\"\nand a line break" || len(a1.Lines) != 2 || a1.Lines[1].Note != "line note" {
			t.Errorf("A1 = %+v", a1)
		}
		if a1.Pos != "rows 2-5" || a1.Lines[1].Pos != "row 5" || res.Orders[1].Pos != "row 6" {
			t.Errorf("positions %q %q %q", a1.Pos, a1.Lines[1].Pos, res.Orders[1].Pos)
		}
	})
	t.Run("Windows-1252, as Excel saves CSV", func(t *testing.T) {
		data := []byte("order_number;debtor_code;your_reference;item_code;quantity;note\nA1;10001;Caf\xe9 \x80 5;ART-1;1;Stra\xdfe 3 \x96 achterom\n")
		res := mustParse(t, "x.csv", data)
		if len(res.Orders) != 1 || res.Orders[0].YourRef != "Café € 5" || res.Orders[0].Note != "Straße 3 – achterom" {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("UTF-8 with a stray byte is refused", func(t *testing.T) {
		data := []byte("order_number;debtor_code;your_reference;item_code;quantity\nA1;10001;Caf\xc3\xa9;ART-1;1\nA2;10001;x\xe9;ART-1;1\n")
		_, err := order.Parse("x.csv", bytes.NewReader(data), order.Options{})
		if err == nil || !strings.Contains(err.Error(), "byte 0xE9") || !strings.Contains(err.Error(), "line 3") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("comma separated", func(t *testing.T) {
		data := "order_number,debtor_code,item_code,quantity,price\nA1,10001,ART-1,1.5,\"2.50\"\n"
		res := mustParse(t, "x.csv", []byte(data))
		if len(res.Orders) != 1 || !res.Orders[0].Lines[0].Quantity.Equal(decimal.MustParse("1.5")) {
			t.Fatalf("%+v", res)
		}
	})
	tests := []struct {
		name, rows, field string
		line              int
		want              string
	}{
		{"decimal comma", "A1;10001;;;ART-1;1,5;;;;\n", "quantity", 1, "decimal comma"},
		{"inconsistent header", "A1;10001;PO 1;;ART-1;1;;;;\nA1;10001;PO 2;;ART-2;1;;;;\n", "your_reference", 0, `is "PO 2" here but "PO 1" on row 2`},
		{"missing debtor", "A1;;;;ART-1;1;;;;\n", "debtor_code", 0, "is missing"},
		{"missing number", ";10001;;;ART-1;1;;;;\n", "order_number", 0, "is missing"},
		{"too many cells", "A1;10001;;;ART-1;1;;;;;x\n", "", 1, "probably misplaced"},
		{"non-adjacent rows", "A1;10001;;;ART-1;1;;;;\nA2;10001;;;ART-1;1;;;;\nA1;10001;;;ART-2;1;;;;\n", "order_number", 0, "also used at row 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustParse(t, "x.csv", []byte(csvHeader+tt.rows))
			for _, p := range res.Problems {
				if p.Field == tt.field && p.Line == tt.line && strings.Contains(p.Message, tt.want) {
					if !strings.Contains(p.Error(), "row") {
						t.Errorf("Error() does not name the row: %s", p.Error())
					}
					return
				}
			}
			t.Errorf("want %q on %q line %d; got %v", tt.want, tt.field, tt.line, res.Problems)
		})
	}
}

func TestXLSX(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	rows := [][]any{
		{"order_number", "debtor_code", "delivery_date", "item_code", "quantity", "price", "discount_percent"},
		{"X1", 10001, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), "ART-1", 0.1 + 0.2, 4.95, 5},
		{"X1", nil, nil, "ART-2", 1e-3, "4.95", nil},
		{},
		{"X2", "10002", nil, "ART-1", "1,5", nil, nil},
	}
	for i, row := range rows {
		if err := f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+1), &row); err != nil {
			t.Fatal(err)
		}
	}
	// A second sheet is ignored.
	if _, err := f.NewSheet("Notes"); err != nil {
		t.Fatal(err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	res := mustParse(t, "X.XLSX", buf.Bytes())
	if len(res.Orders) != 1 {
		t.Fatalf("orders %+v problems %v", res.Orders, res.Problems)
	}
	o := res.Orders[0]
	if o.DebtorCode != "10001" || o.Delivery.Date != "2026-12-01" || o.Pos != "rows 2-3" {
		t.Errorf("header %+v", o)
	}
	if q := o.Lines[0].Quantity.String(); q != "0.3" {
		t.Errorf("float noise not removed: %s", q)
	}
	if q := o.Lines[1].Quantity.String(); q != "0.001" {
		t.Errorf("exponent cell: %s", q)
	}
	if len(res.Problems) != 1 || res.Problems[0].Field != "quantity" || res.Problems[0].Pos != "row 5" {
		t.Errorf("problems %v", res.Problems)
	}
}

// zipBomb returns a zip whose sheet inflates to size bytes. With lie set the
// local and central headers claim a tiny size instead.
func zipBomb(t testing.TB, size int, lie bool) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestSpeed)
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	crc := crc32.NewIEEE()
	for written := 0; written < size; written += len(chunk) {
		fw.Write(chunk)
		crc.Write(chunk)
	}
	fw.Close()
	claimed := uint64(size)
	if lie {
		claimed = 1000
	}
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate,
		CRC32: crc.Sum32(), CompressedSize64: uint64(comp.Len()), UncompressedSize64: claimed})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(comp.Bytes())
	zw.Close()
	return buf.Bytes()
}

func TestXLSXZipBomb(t *testing.T) {
	honest := zipBomb(t, 65<<20, false)
	if len(honest) > 1<<20 {
		t.Fatalf("bomb is %d bytes, not a bomb", len(honest))
	}
	_, err := order.Parse("bomb.xlsx", bytes.NewReader(honest), order.Options{})
	if err == nil || !strings.Contains(err.Error(), "zip bomb") {
		t.Errorf("honest bomb: %v", err)
	}
	liar := zipBomb(t, 2<<20, true)
	if _, err := order.Parse("bomb.xlsx", bytes.NewReader(liar), order.Options{}); err == nil {
		t.Error("lying bomb accepted")
	}
}

func TestXLSXMissingColumn(t *testing.T) {
	data, err := ordertest.XLSXFromCSV("order_number;item_code;quantity\nA;B;1\n")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := order.Parse("a.xlsx", bytes.NewReader(data), order.Options{}); err == nil || !strings.Contains(err.Error(), "debtor_code") {
		t.Errorf("err = %v", err)
	}
}

func TestProblemError(t *testing.T) {
	p := order.Problem{Order: "", Field: "order_number", Pos: "row 3", Message: "is missing"}
	if got, want := p.Error(), "order without a number (row 3), field order_number: is missing"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

func checkInvariants(t *testing.T, res order.Result) {
	seen := map[string]bool{}
	for _, o := range res.Orders {
		if o.Number == "" || o.DebtorCode == "" || len(o.Lines) == 0 || o.Pos == "" {
			t.Fatalf("invalid order accepted: %+v", o)
		}
		if seen[o.Number] {
			t.Fatalf("duplicate number %q accepted", o.Number)
		}
		seen[o.Number] = true
		for _, l := range o.Lines {
			if l.ItemCode == "" || l.Quantity.Sign() <= 0 {
				t.Fatalf("invalid line accepted: %+v", l)
			}
		}
		if o.Delivery.Address != nil && o.Delivery.Address.Country == "" {
			t.Fatalf("address without country accepted")
		}
		if o.Hash() != o.Hash() {
			t.Fatal("unstable hash")
		}
	}
	for _, p := range res.Problems {
		if p.Message == "" || p.Error() == "" {
			t.Fatalf("empty problem %+v", p)
		}
	}
}

func FuzzParseJSON(f *testing.F) {
	for _, name := range []string{"basic.json", "array.json", "hostile-text.json"} {
		f.Add(readFile(f, name))
	}
	f.Add([]byte(jsonOrder(`"quantity": "12"`, `"quantity": 1e3`)))
	f.Add([]byte(`[{"lines":[1,{"quantity":[]}]},null,"x"]`))
	f.Add([]byte("\uFEFF{\"order_number\": \"\xff\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := order.Parse("f.json", bytes.NewReader(data), order.Options{MaxLines: 200})
		if err != nil {
			return
		}
		checkInvariants(t, res)
	})
}

func FuzzParseCSV(f *testing.F) {
	f.Add(readFile(f, "basic.csv"))
	f.Add([]byte(csvHeader + "A1;10001;;;ART-1;1,5;;;;\nA1;10002;;;ART-2;1;;;;\n"))
	f.Add([]byte("order_number,debtor_code,item_code,quantity\n\"A\"\"1\",1,2,3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := order.Parse("f.csv", bytes.NewReader(data), order.Options{MaxLines: 200})
		if err != nil {
			return
		}
		checkInvariants(t, res)
	})
}

func BenchmarkParseJSON(b *testing.B) {
	// 100 orders of 10 lines each, generated here: about 190 KB.
	var sb strings.Builder
	sb.WriteString("[")
	for i := range 100 {
		if i > 0 {
			sb.WriteString(",\n")
		}
		sb.WriteString(jsonOrder(`"WEB-1"`, fmt.Sprintf(`"WEB-%d"`, i),
			`"lines": [{`, `"lines": [`+strings.Repeat(`{"item_code": "ART-002", "quantity": "3", "unit": "stk", "price": "1.25", "note": "regel"},`, 9)+`{`))
	}
	sb.WriteString("]")
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := order.Parse("bench.json", bytes.NewReader(data), order.Options{})
		if err != nil || len(res.Orders) != 100 {
			b.Fatal(err, res.Problems)
		}
	}
}

// Encodings of order CSVs beyond the plain cases of TestCSV.
func TestCSVEncodings(t *testing.T) {
	head := "order_number;debtor_code;your_reference;item_code;quantity\n"
	// Windows-1252 whose "É”" is valid UTF-8 by accident ("ɔ"): still Windows-1252.
	res := mustParse(t, "x.csv", []byte(head+"A1;10001;Caf\xe9 \x93ROS\xc9\x94;ART-1;1\n"))
	if len(res.Orders) != 1 || res.Orders[0].YourRef != "Café “ROSÉ”" {
		t.Errorf("accidental UTF-8 pair: %+v", res.Orders)
	}
	// A byte Windows-1252 leaves undefined is refused with its line.
	_, err := order.Parse("x.csv", bytes.NewReader([]byte(head+"A1;10001;x\xe9;ART-1;1\nA2;10001;y\x81;ART-1;1\n")), order.Options{})
	if err == nil || !strings.Contains(err.Error(), "byte 0x81") || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("undefined byte: %v", err)
	}
	// UTF-16 with a byte order mark (Excel's "Unicode text", here with ';').
	u := []byte{0xFF, 0xFE}
	for _, r := range head + "A1;10001;Café;ART-1;1\n" {
		u = append(u, byte(r), byte(r>>8))
	}
	res = mustParse(t, "x.csv", u)
	if len(res.Orders) != 1 || res.Orders[0].YourRef != "Café" {
		t.Errorf("UTF-16: %+v", res)
	}
}
