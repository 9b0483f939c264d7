package globe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"globex/internal/decimal"
	"globex/internal/textenc"
)

// sharedDir is ../shared/globe relative to the repository root.
func sharedDir(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "globe")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared Globe examples not found at %s", dir)
	}
	return dir
}

func readExample(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join(sharedDir(t), "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func items(t testing.TB, data []byte, opt Options) ([]*Item, error) {
	var out []*Item
	err := ReadItems(bytes.NewReader(data), opt, func(it *Item) error {
		out = append(out, it.Clone())
		return nil
	})
	return out, err
}

func dec(s string) decimal.Dec { return decimal.MustParse(s) }

func day(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

func TestItemsExample(t *testing.T) {
	got, err := items(t, readExample(t, "items-export.xml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d items", len(got))
	}
	it := got[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"Code", it.Code, "ART-001"},
		{"Type", it.Type, "S"},
		{"SearchCode", it.SearchCode, "BOLTM8"},
		{"Description", it.Description, "Bolt M8x40 galvanised"},
		{"LongDescription", it.LongDescription, "Hexagon bolt DIN 933, M8x40, hot-dip galvanised"},
		{"Descriptions", len(it.Descriptions), 2},
		{"Desc1", it.Descriptions[0], MultiDescription{1, "Bout M8x40 verzinkt"}},
		{"Desc2", it.Descriptions[1], MultiDescription{2, "Schraube M8x40 verzinkt"}},
		{"GroupNumber", it.GroupNumber, "10"},
		{"GroupCode", it.GroupCode, "BOLTS"},
		{"GroupDescription", it.GroupDescription, "Bolts and screws"},
		{"AvailableFrom", it.AvailableFrom, day(2020, 1, 1)},
		{"AvailableTo", it.AvailableTo, day(2299, 12, 31)},
		{"Condition", it.Condition, "A"},
		{"IsSalesItem", it.IsSalesItem, Yes},
		{"IsStockItem", it.IsStockItem, Yes},
		{"IsTextItem", it.IsTextItem, No},
		{"IsBatchItem", it.IsBatchItem, Unset},
		{"SalesPrice", it.SalesPrice.String(), "0.45"},
		{"Currency", it.Currency, "EUR"},
		{"VATCode", it.VATCode, "2"},
		{"SalesUnit", it.SalesUnit, "pcs"},
		{"SalesUnitDescription", it.SalesUnitDescription, "Pieces"},
		{"CostPrice", it.CostPrice.String(), "0.21"},
		{"ImageName", it.ImageName, "ART-001.jpg"},
		{"FreeText", it.FreeFields.Texts, []FreeText{{1, "Brand", "ACME"}}},
		{"FreeNumber", it.FreeFields.Numbers[0].Value.String(), "25"},
		{"FreeYesNo", it.FreeFields.YesNos, []FreeYesNo{{1, "", Yes}}},
		{"Category", it.Categories, []Category{{1, "STEEL", "Steel"}}},
		{"GTIN", it.GTIN, "8712345678906"},
		{"Line", it.Line, 4},
	}
	for _, c := range checks {
		if !equal(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func equal(a, b any) bool {
	switch a := a.(type) {
	case time.Time:
		return a.Equal(b.(time.Time))
	}
	return strings.TrimSpace(sprint(a)) == strings.TrimSpace(sprint(b))
}

func TestItemPricesExample(t *testing.T) {
	var got []*ItemPrice
	err := ReadItemPrices(bytes.NewReader(readExample(t, "itemprices-export.xml")), Options{}, func(p *ItemPrice) error {
		got = append(got, p.Clone())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d lines", len(got))
	}
	a, b := got[0], got[1]
	want := []struct {
		name      string
		got, want any
	}{
		{"a.Item", a.ItemCode, "ART-001"},
		{"a.List", a.PriceList, "WHS"},
		{"a.Type", a.PriceListType, "S"},
		{"a.Desc", a.PriceListDescription, "Wholesale"},
		{"a.Currency", a.Currency, "EUR"},
		{"a.Inherited", a.CurrencyInherited, false},
		{"a.Account", a.Account, ""},
		{"a.Value", a.Value.String(), "0.45"},
		{"a.Unit", a.Unit, "pcs"},
		{"a.Factor", a.Factor.String(), "1"},
		{"a.LineType", a.LineType, 1},
		{"a.From", a.ValidFrom, day(2024, 1, 1)},
		{"a.To", a.ValidTo, day(2024, 12, 31)},
		{"a.DiscType", a.DiscountType, "P"},
		{"a.Breaks", a.Breaks, []Break{{1, dec("1"), dec("0")}, {2, dec("100"), dec("5")}, {3, dec("500"), dec("10")}}},
		{"b.Account", b.Account, "10001"},
		{"b.Currency", b.Currency, "EUR"},
		{"b.Inherited", b.CurrencyInherited, true},
		{"b.Unit", b.Unit, "box"},
		{"b.Factor", b.Factor.String(), "100"},
		{"b.DiscType", b.DiscountType, "N"},
		{"b.Breaks", b.Breaks, []Break{{1, dec("1"), dec("38.50")}, {2, dec("10"), dec("36.00")}}},
		{"b.From", b.ValidFrom.IsZero(), true},
	}
	for _, c := range want {
		if !equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestItemPricesGroupLine(t *testing.T) {
	doc := `<eExact><ItemPrices><ItemPrice><Item code="` + GroupItemPrefix + `12"/><PriceList code=" WHS "/>` +
		`<Account code="   10001"/><Value>0</Value><Unit unit="pcs"/><Factor>1</Factor><LineType>2</LineType>` +
		`<Discounts type="B"><Discount number="1"><Quantity>1</Quantity><Value>0.05</Value></Discount></Discounts></ItemPrice></ItemPrices></eExact>`
	var got *ItemPrice
	if err := ReadItemPrices(strings.NewReader(doc), Options{}, func(p *ItemPrice) error { got = p.Clone(); return nil }); err != nil {
		t.Fatal(err)
	}
	if !got.IsGroupLine() || got.GroupNumber != "12" || got.Account != "10001" || got.PriceList != "WHS" || got.DiscountType != "B" {
		t.Fatalf("group line: %+v", got)
	}
}

func TestAccountsExample(t *testing.T) {
	var got []*Account
	err := ReadAccounts(bytes.NewReader(readExample(t, "accounts-export.xml")), Options{}, func(a *Account) error {
		got = append(got, a.Clone())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d accounts", len(got))
	}
	a := got[0]
	want := []struct {
		name      string
		got, want any
	}{
		{"Code", a.Code, "10001"},
		{"Type", a.Type, "C"},
		{"Status", a.Status, "A"},
		{"Blocked", a.Blocked, false},
		{"Name", a.Name, "Jansen Techniek B.V."},
		{"Email", a.Email, "info@jansen.example"},
		{"DebtorCode", a.DebtorCode, "10001"},
		{"DebtorNumber", a.DebtorNumber, "10001"},
		{"Currency", a.Currency, "EUR"},
		{"CreditLine", a.CreditLine.String(), "25000"},
		{"Discount", a.DiscountPercent.String(), "2"},
		{"PriceList", a.PriceList, "WHS"},
		{"PaymentCondition", a.PaymentCondition, "30"},
		{"PaymentConditionDescription", a.PaymentConditionDescription, "30 days net"},
		{"PaymentMethod", a.PaymentMethod, "B"},
		{"DeliveryMethod", a.DeliveryMethod, "DPD"},
		{"VATNumber", a.VATNumber, "NL001234567B01"},
		{"Addresses", a.Addresses, []Address{
			{Type: "INV", Line1: "Postbus 100", PostalCode: "3500 AC", City: "Utrecht", Country: "NL"},
			{Type: "DEL", Line1: "Industrieweg 12", PostalCode: "3542 AD", City: "Utrecht", Country: "NL"}}},
		{"Categories", a.Categories, []Category{{Number: 1, Code: "B2B"}}},
		{"FreeYesNo", a.FreeFields.YesNos, []FreeYesNo{{1, "Webshop access", Yes}}},
	}
	for _, c := range want {
		if !equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestAccountBlockedAndPadded(t *testing.T) {
	doc := `<eExact><Accounts><Account code="  500" status="B"><Debtor code="             5000059" number="100021"/></Account>` +
		`<Account code="501" status="A"><Blocked>true</Blocked></Account></Accounts></eExact>`
	var got []*Account
	if err := ReadAccounts(strings.NewReader(doc), Options{}, func(a *Account) error { got = append(got, a.Clone()); return nil }); err != nil {
		t.Fatal(err)
	}
	if got[0].Code != "500" || got[0].DebtorCode != "5000059" || got[0].DebtorNumber != "100021" || !got[0].Blocked || !got[1].Blocked {
		t.Fatalf("%+v %+v", got[0], got[1])
	}
}

func TestItemsQuirks(t *testing.T) {
	data, err := os.ReadFile("../../testdata/globe/items-quirks.xml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := items(t, data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Code != "ART-002" || got[1].Code != "ART-002" {
		t.Fatalf("duplicate codes must both be yielded: %d", len(got))
	}
	it := got[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"Description", it.Description, "Koffie & thee – café"},
		{"Descriptions", it.Descriptions, []MultiDescription{{0, "Nul"}, {4, "Vier <b>vet</b>"}}},
		{"GroupNumber", it.GroupNumber, "20"},
		{"GroupCode", it.GroupCode, "DRINK"},
		{"AvailableFrom", it.AvailableFrom, day(2024, 1, 1)},
		{"Created", it.Created, time.Date(2024, 1, 2, 8, 30, 0, 0, time.UTC)},
		{"Modified", it.Modified, time.Date(2024, 3, 4, 9, 15, 16, 123e6, time.UTC)},
		{"Condition", it.Condition, "B"},
		{"IsSalesItem", it.IsSalesItem, Yes},
		{"IsStockItem", it.IsStockItem, No},
		{"IsDiscountItem", it.IsDiscountItem, Yes},
		{"Currency", it.Currency, "EUR"},
		{"SalesPrice", it.SalesPrice.String(), "12.50"},
		{"SalesUnit", it.SalesUnit, "doos"},
		{"ImageDataLen", it.ImageDataLen, int64(9)},
		{"FreeText", it.FreeFields.Texts, []FreeText{{2, "Colour", "Red"}}},
		{"FreeDate1", it.FreeFields.Dates[0].Value, day(2024, 2, 29)},
		{"FreeDate2", it.FreeFields.Dates[1].Value.IsZero(), true},
		{"FreeNumber", it.FreeFields.Numbers[0].Value.String(), "-1.5"},
		{"FreeYesNo", it.FreeFields.YesNos[0].Value, No},
		{"GTIN", it.GTIN, ""},
		{"Line", it.Line, 6},
	}
	for _, c := range checks {
		if !equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestEncodings writes the same export in several encodings and expects the
// same records.
func TestEncodings(t *testing.T) {
	const body = `<eExact><Items><Item code="€-1"><Description>Prijs € 12,50 – café Größe</Description></Item></Items></eExact>`
	want := "Prijs € 12,50 – café Größe"
	w1252, err := charmap.Windows1252.NewEncoder().String(`<?xml version="1.0" encoding="windows-1252"?>` + body)
	if err != nil {
		t.Fatal(err)
	}
	latin9Body := strings.ReplaceAll(body, "–", "-")
	l9, err := charmap.ISO8859_15.NewEncoder().String(`<?xml version='1.0' encoding='ISO-8859-15'?>` + latin9Body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(l9, "\xa4") {
		t.Fatal("ISO-8859-15 € is 0xA4")
	}
	u16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(`<?xml version="1.0" encoding="UTF-16"?>` + "\n" + body)
	if err != nil {
		t.Fatal(err)
	}
	u16be, _ := unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder().String(body)
	cases := []struct {
		name string
		data string
		opt  Options
		want string
	}{
		{"utf-8", `<?xml version="1.0" encoding="UTF-8"?>` + body, Options{}, want},
		{"utf-8 bom", "\xEF\xBB\xBF" + body, Options{}, want},
		{"windows-1252", w1252, Options{}, want},
		{"windows-1252 by option", strings.SplitN(w1252, "?>", 2)[1], Options{Encoding: "cp1252"}, want},
		{"iso-8859-15", l9, Options{}, strings.ReplaceAll(want, "–", "-")},
		{"utf-16le bom", u16, Options{}, want},
		{"utf-16be bom", u16be, Options{}, want},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := items(t, []byte(c.data), c.opt)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Description != c.want || got[0].Code != "€-1" {
				t.Fatalf("got %+v", got)
			}
		})
	}
}

func sprint(v any) string { return fmt.Sprintf("%+v", v) }

func TestHostile(t *testing.T) {
	example := readExample(t, "items-export.xml")
	deep := strings.Repeat("<a>", 10000) + strings.Repeat("</a>", 10000)
	bomb := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><eExact><Items><Item code="&lol2;"/></Items></eExact>`
	long := "<eExact><Items><Item code=\"x\"><Description>" + strings.Repeat("a", 2<<20) + "</Description></Item></Items></eExact>"
	cases := []struct {
		name string
		data string
		kind any // *SyntaxError kind, or a type
		line int
	}{
		{"truncated", string(example[:len(example)/2]), KindSyntax, 0},
		{"garbage", "\x00\x01\x02garbage", KindSyntax, 1},
		{"not xml", "hello", KindRefused, 1},
		{"latin1 in utf-8", `<?xml version="1.0" encoding="UTF-8"?>` + "\n<eExact><Items><Item code=\"caf\xe9\"/></Items></eExact>", KindEncoding, 2},
		{"1252 undefined byte", `<?xml version="1.0" encoding="windows-1252"?><eExact>` + "\x81</eExact>", KindEncoding, 1},
		{"bom contradicts", "\xEF\xBB\xBF" + `<?xml version="1.0" encoding="windows-1252"?><eExact/>`, KindEncoding, 1},
		{"unknown encoding", `<?xml version="1.0" encoding="EBCDIC"?><eExact/>`, KindEncoding, 1},
		{"doctype bomb", bomb, KindRefused, 1},
		{"deep", "<eExact>" + deep + "</eExact>", KindLimit, 1},
		{"long text", long, KindLimit, 1},
		{"mismatched", "<eExact><Items>\n</Item></eExact>", KindSyntax, 2},
		{"bad entity", "<eExact><Items><Item code=\"a&nbsp;\"/></Items></eExact>", KindSyntax, 1},
		{"control char", "<eExact><Items><Item code=\"a\"><Description>\x07</Description></Item></Items></eExact>", KindSyntax, 1},
		{"unquoted attr", "<eExact><Items><Item code=a/></Items></eExact>", KindSyntax, 1},
		{"two roots", "<eExact><Items/></eExact><eExact/>", KindRefused, 1},
		{"wrong root", "<Orders/>", &FormatError{}, 1},
		{"no topic", "<eExact><Accounts/></eExact>", &FormatError{}, 1},
		{"bad price", "<eExact><Items><Item code=\"A\"><Sales><Price><Value>1,5</Value></Price></Sales></Item></Items></eExact>", &ValueError{}, 1},
		{"bad date", "<eExact><Items><Item code=\"A\">\n<Availability><DateStart>31-12-2024</DateStart></Availability></Item></Items></eExact>", &ValueError{}, 2},
		{"bad bool", "<eExact><Items><Item code=\"A\"><IsSalesItem>J</IsSalesItem></Item></Items></eExact>", &ValueError{}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := items(t, []byte(c.data), Options{})
			if err == nil {
				t.Fatal("accepted")
			}
			var se *SyntaxError
			var fe *FormatError
			var ve *ValueError
			line := 0
			switch want := c.kind.(type) {
			case ErrorKind:
				if !errors.As(err, &se) || se.Kind != want {
					t.Fatalf("error %T %v, want kind %d", err, err, want)
				}
				line = se.Line
			case *FormatError:
				if !errors.As(err, &fe) {
					t.Fatalf("error %T %v, want FormatError", err, err)
				}
				line = fe.Line
			case *ValueError:
				if !errors.As(err, &ve) {
					t.Fatalf("error %T %v, want ValueError", err, err)
				}
				line = ve.Line
			}
			t.Log(err)
			if c.line != 0 && line != c.line {
				t.Errorf("line %d, want %d: %v", line, c.line, err)
			}
			if !strings.Contains(err.Error(), "line") {
				t.Errorf("error does not say where: %v", err)
			}
		})
	}
}

// TestTruncatedEverywhere cuts the example at every byte: every proper
// prefix must be refused.
func TestTruncatedEverywhere(t *testing.T) {
	for _, name := range []string{"items-export.xml", "itemprices-export.xml", "accounts-export.xml"} {
		data := readExample(t, name)
		full := bytes.TrimRight(data, "\n")
		for n := 0; n < len(full); n++ {
			var err error
			switch name {
			case "items-export.xml":
				err = ReadItems(bytes.NewReader(data[:n]), Options{}, func(*Item) error { return nil })
			case "itemprices-export.xml":
				err = ReadItemPrices(bytes.NewReader(data[:n]), Options{}, func(*ItemPrice) error { return nil })
			default:
				err = ReadAccounts(bytes.NewReader(data[:n]), Options{}, func(*Account) error { return nil })
			}
			if err == nil {
				t.Fatalf("%s cut at %d accepted", name, n)
			}
		}
	}
}

// TestHugeImageStreams checks a 16 MB embedded image is skipped, not held.
func TestHugeImageStreams(t *testing.T) {
	const n = 16 << 20
	head := `<eExact><Items><Item code="IMG"><Image><Name>x.jpg</Name><BinaryData>`
	tail := `</BinaryData></Image><GTIN>1</GTIN></Item></Items></eExact>`
	r := io.MultiReader(strings.NewReader(head), &repeatReader{b: []byte("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkw\n"), n: n}, strings.NewReader(tail))
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	var got *Item
	err := ReadItems(r, Options{}, func(it *Item) error { got = it.Clone(); return nil })
	runtime.ReadMemStats(&ms1)
	if err != nil {
		t.Fatal(err)
	}
	if got.ImageDataLen != n || got.GTIN != "1" {
		t.Fatalf("image len %d gtin %q", got.ImageDataLen, got.GTIN)
	}
	if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 4<<20 {
		t.Fatalf("allocated %d bytes for a %d byte image", alloc, n)
	}
}

type repeatReader struct {
	b []byte
	n int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && r.n > 0 {
		c := copy(p[k:min(len(p), k+r.n)], r.b)
		k += c
		r.n -= c
	}
	return k, nil
}

func TestCallbackErrorStops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := ReadItems(strings.NewReader(`<eExact><Items><Item code="1"/><Item code="2"/></Items></eExact>`), Options{}, func(*Item) error {
		n++
		return stop
	})
	if err != stop || n != 1 {
		t.Fatalf("err %v n %d", err, n)
	}
}

func TestDecodeErrorIsWrapped(t *testing.T) {
	_, err := items(t, []byte("<eExact><Items><Item code=\"\xff\"/></Items></eExact>"), Options{})
	if !errors.Is(err, textenc.ErrInvalidUTF8) {
		t.Fatalf("want ErrInvalidUTF8 in chain: %v", err)
	}
}
