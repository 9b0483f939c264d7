package feed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"

	"globex/internal/decimal"
)

// recGen makes random prices and customers: optional members absent or
// present, 0 to many breaks and addresses, text that needs escapes,
// non-ASCII and invalid UTF-8, large, negative and finely scaled decimals.
type recGen struct {
	rng    *rand.Rand
	varied bool // odd text and decimals; plain codes and amounts otherwise
}

func newRecGen(seed uint64, varied bool) *recGen {
	return &recGen{rng: rand.New(rand.NewPCG(seed, 11)), varied: varied}
}

var oddTexts = []string{"", "A", "Jansen & Zn", "<b>", `say "hi"`, `back\slash`, "line\nbreak", "tab\tx\r\f\b",
	"\x00\x01\x1f", "é€漢", "😀 emoji", "\u2028\u2029", "bad \xff\xfe utf8", "\xc3", "a/b", "\x7f", "Ünïcode Straße 1",
	"ends with \\", "\\u0041", "\ufffd"}

func (g *recGen) text(plain ...string) string {
	if g.varied && g.rng.IntN(3) == 0 {
		s := oddTexts[g.rng.IntN(len(oddTexts))]
		if g.rng.IntN(3) == 0 {
			s += oddTexts[g.rng.IntN(len(oddTexts))]
		}
		return s
	}
	return plain[g.rng.IntN(len(plain))]
}

// opt is the text or, half of the time, "" (an absent omitempty member).
func (g *recGen) opt(plain ...string) string {
	if g.rng.IntN(2) == 0 {
		return ""
	}
	return g.text(plain...)
}

func (g *recGen) dec() decimal.Dec {
	if g.varied {
		if g.rng.IntN(1000) == 0 { // written by AppendJSON, read by neither
			return decimal.New(math.MinInt64, g.rng.IntN(3))
		}
		switch g.rng.IntN(8) {
		case 0:
			return decimal.New(g.rng.Int64()-math.MaxInt64/2*g.rng.Int64N(3), g.rng.IntN(decimal.MaxScale+1))
		case 1:
			return decimal.New(-g.rng.Int64N(1e6), g.rng.IntN(8))
		case 2:
			return decimal.New([]int64{0, math.MaxInt64, -math.MaxInt64}[g.rng.IntN(3)], g.rng.IntN(3))
		}
	}
	return decimal.New(g.rng.Int64N(100000), g.rng.IntN(4))
}

func (g *recGen) optDec() *decimal.Dec {
	if g.rng.IntN(2) == 0 {
		return nil
	}
	v := g.dec()
	return &v
}

func (g *recGen) count() int {
	if !g.varied {
		return g.rng.IntN(4)
	}
	switch g.rng.IntN(6) {
	case 0:
		return 0
	case 1:
		return 1 + g.rng.IntN(40)
	}
	return g.rng.IntN(5)
}

func (g *recGen) price(i int) *Price {
	p := &Price{Administration: g.text("500", "501"), PriceList: g.text("VK", "VK2", "ACTIE"),
		Currency: g.opt("EUR", "USD"), Customer: g.text("", "", "10001", "20002"), Unit: g.opt("stk", "doos"),
		Factor: g.optDec(), BasePrice: g.dec(), ValidFrom: g.opt("2026-01-01"), ValidTo: g.opt("2026-12-31")}
	switch g.rng.IntN(4) {
	case 0:
		p.GroupCode = g.text("KOF", "THEE")
	case 1: // neither
	default:
		p.ItemCode = fmt.Sprintf("ART-%06d", i)
		if g.varied && g.rng.IntN(4) == 0 {
			p.ItemCode = g.text("X") + p.ItemCode
		}
	}
	for range g.count() {
		p.Breaks = append(p.Breaks, Break{MinQuantity: g.dec(),
			DiscountType: g.text(DiscountPercentage, DiscountAmount, DiscountNetPrice, DiscountMarkup, "", "other"),
			Value:        g.dec(), NetPrice: g.optDec()})
	}
	return p
}

func (g *recGen) customer(i int) *Customer {
	c := &Customer{Administration: g.text("500", "501"), DebtorCode: fmt.Sprintf("%d", 10000+i),
		DebtorNumber: g.opt(fmt.Sprintf("%d", 10000+i)), Name: g.text("Jansen Techniek B.V.", "De Vries & Zn", "Müller GmbH"),
		Status: g.opt("A", "B"), Blocked: g.rng.IntN(5) == 0, PriceList: g.opt("VK", "VK2"),
		PaymentCondition: g.opt("30", "14"), DeliveryMethod: g.opt("POST", "AF"), DiscountPercent: g.optDec(),
		Currency: g.opt("EUR")}
	for range g.count() {
		c.Addresses = append(c.Addresses, Address{Type: g.text("invoice", "delivery", "visit", "postal"),
			Line1: g.text("Hoofdstraat 1", "Kerkstraat 12a"), Line2: g.opt("t.a.v. inkoop"), Postcode: g.text("1234 AB", "B-2000"),
			City: g.text("Amsterdam", "Antwerpen", "'s-Hertogenbosch"), Country: g.text("NL", "BE")})
	}
	return c
}

// checkRecDecode: when the fast decoder takes a line, encoding/json takes
// it too and makes the same record (both into fresh records). It tells
// whether the fast decoder took it and whether encoding/json did.
func checkRecDecode(t testing.TB, d *lineDecoders, kind Kind, line []byte) (fast, slow bool) {
	t.Helper()
	got, want := newRecord(kind), newRecord(kind)
	fast = d.decode(line, got)
	err := json.Unmarshal(line, want)
	if fast && err != nil {
		t.Fatalf("the fast decoder took a line encoding/json refuses (%v): %q", err, line)
	}
	if fast && !reflect.DeepEqual(got, want) {
		t.Fatalf("line %q\n fast %+v\n json %+v", line, got, want)
	}
	return fast, err == nil
}

// The fast decoders read what AppendJSON writes exactly as encoding/json
// does, and take every line of it that encoding/json takes.
func TestRecDecodersMatchEncodingJSON(t *testing.T) {
	for _, kind := range []Kind{KindPrices, KindCustomers} {
		for _, varied := range []bool{false, true} {
			g := newRecGen(uint64(len(kind))*7+1, varied)
			var d lineDecoders
			fast, slow := 0, 0
			const n = 3000
			for i := range n {
				var rec Record = g.price(i)
				if kind == KindCustomers {
					rec = g.customer(i)
				}
				f, s := checkRecDecode(t, &d, kind, rec.AppendJSON(nil))
				if !f && s {
					t.Errorf("%s: encoding/json takes a line of AppendJSON the fast decoder declines: %q", kind, rec.AppendJSON(nil))
				}
				if f {
					fast++
				}
				if s {
					slow++
				}
			}
			t.Logf("%s varied=%v: %d of %d lines decoded fast, %d by encoding/json", kind, varied, fast, n, slow)
			if floor := n * 95 / 100; fast < floor { // only coefficient -2^63 (which neither reads) is declined
				t.Errorf("%s varied=%v: only %d of %d lines decoded fast", kind, varied, fast, n)
			}
		}
	}
}

// Hand-written lines: what the decoders take and what they leave to
// encoding/json (forms AppendJSON never writes).
func TestRecDecodersLines(t *testing.T) {
	const p = `{"administration":"500","price_list":"VK","customer":"","base_price":"1.5"}`
	const c = `{"administration":"500","debtor_code":"1","name":"N","blocked":false}`
	for _, tc := range []struct {
		kind Kind
		line string
		fast bool
	}{
		{KindPrices, p, true},
		{KindPrices, `{"administration":"500","price_list":"VK","currency":"EUR","item_code":"A\u0026B","customer":"10001","unit":"stk","factor":"-0.5","base_price":"12.50","valid_from":"2026-01-01","valid_to":"2026-12-31","breaks":[{"min_quantity":"10","discount_type":"percentage","value":"5"},{"min_quantity":"20","discount_type":"net_price","value":"0","net_price":"9.95"}]}`, true},
		{KindPrices, strings.Replace(p, `"1.5"`, `"+1.5"`, 1), true},                  // Parse's syntax, as Dec.UnmarshalJSON
		{KindPrices, strings.Replace(p, `"1.5"`, `"0000000000000000001.5"`, 1), true}, // more than 18 digits
		{KindPrices, strings.Replace(p, `"VK"`, `"V\/K\u00e9\u00C9"`, 1), true},
		{KindPrices, strings.Replace(p, `"1.5"`, `"1."`, 1), false},
		{KindPrices, strings.Replace(p, `"1.5"`, `1.5`, 1), false}, // a number: encoding/json's
		{KindPrices, strings.Replace(p, `"1.5"`, `"\u0031"`, 1), false},
		{KindPrices, strings.Replace(p, `,"customer"`, `,"currency":"","customer"`, 1), false},
		{KindPrices, strings.Replace(p, `}`, `,"breaks":[]}`, 1), false},
		{KindPrices, strings.Replace(p, `}`, `,"breaks":null}`, 1), false},
		{KindPrices, strings.Replace(p, `,"customer":""`, ``, 1), false},
		{KindPrices, strings.Replace(p, `"VK"`, `"\ud83d\ude00"`, 1), false}, // a surrogate pair
		{KindPrices, strings.Replace(p, `"VK"`, `"\x"`, 1), false},
		{KindPrices, strings.Replace(p, `"VK"`, `"\'"`, 1), false},
		{KindPrices, strings.Replace(p, `"VK"`, `"\u12"`, 1), false},
		{KindPrices, strings.Replace(p, `"VK"`, "\"\xff\"", 1), false},
		{KindPrices, p + " ", false},
		{KindPrices, strings.Replace(p, `,`, `, `, 1), false},
		{KindPrices, `{"price_list":"VK","administration":"500","customer":"","base_price":"1.5"}`, false},
		{KindCustomers, c, true},
		{KindCustomers, strings.Replace(c, `false`, `true`, 1), true},
		{KindCustomers, `{"administration":"500","debtor_code":"1","debtor_number":"1","name":"De Vries \u0026 Zn \"B.V.\"\n","status":"A","blocked":true,"price_list":"VK","payment_condition":"30","delivery_method":"POST","discount_percent":"2.5","currency":"EUR","addresses":[{"type":"invoice","line1":"Straße 1","line2":"","postcode":"1234 AB","city":"Amsterdam","country":"NL"}]}`, true},
		{KindCustomers, strings.Replace(c, `false`, `null`, 1), false},
		{KindCustomers, strings.Replace(c, `false`, `"false"`, 1), false},
		{KindCustomers, strings.Replace(c, `,"blocked"`, `,"status":"","blocked"`, 1), false},
		{KindCustomers, strings.Replace(c, `}`, `,"addresses":[]}`, 1), false},
		{KindCustomers, strings.Replace(c, `}`, `,"addresses":[{"type":"invoice"}]}`, 1), false},
	} {
		var d lineDecoders
		fast, _ := checkRecDecode(t, &d, tc.kind, []byte(tc.line))
		if fast != tc.fast {
			t.Errorf("fast decoder took %v, want %v: %s", fast, tc.fast, tc.line)
		}
	}
}

// Damaged lines: whatever the fast decoders take, encoding/json reads the
// same way.
func TestRecDecodersDamagedLines(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	edits := []string{" ", "\\", "\"", ",", "}", "{", "]", "[", "0", ".", "-", "\xff", "é", "\x01", ":", "u", "/", "\\u0041", "\\ud800", "n", "t", "e"}
	for _, kind := range []Kind{KindPrices, KindCustomers} {
		g := newRecGen(3, true)
		var d lineDecoders
		taken := 0
		const n = 4000
		for i := range n {
			var rec Record = g.price(i)
			if kind == KindCustomers {
				rec = g.customer(i)
			}
			line := rec.AppendJSON(nil)
			for range 1 + rng.IntN(2) {
				line = damage(rng, line, edits)
			}
			if f, _ := checkRecDecode(t, &d, kind, line); f {
				taken++
			}
		}
		t.Logf("%s: %d of %d damaged lines decoded fast (and as encoding/json does)", kind, taken, n)
	}
}

// eachJSONL reads a snapshot of AppendJSON lines, odd ones included, as
// encoding/json does, and names the line encoding/json refuses.
func TestEachJSONLPricesCustomers(t *testing.T) {
	for _, kind := range []Kind{KindPrices, KindCustomers} {
		g := newRecGen(5, true)
		var buf bytes.Buffer
		var lines [][]byte
		for i := range 300 {
			var rec Record = g.price(i)
			if kind == KindCustomers {
				rec = g.customer(i)
			}
			line := rec.AppendJSON(nil)
			if i%50 == 7 { // white space: encoding/json's
				line = bytes.Replace(line, []byte(`,"`), []byte(`, "`), 1)
			}
			if _, ok := checkRecDecode(t, new(lineDecoders), kind, line); !ok {
				continue // coefficient -2^63
			}
			lines = append(lines, line)
			buf.Write(line)
			buf.WriteByte('\n')
		}
		n := 0
		err := eachJSONL(kind, &buf, func(_ int, rec Record, raw []byte) error {
			want := newRecord(kind)
			if err := json.Unmarshal(lines[n], want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rec, want) {
				t.Fatalf("%s line %d: %+v, want %+v", kind, n+1, rec, want)
			}
			n++
			return nil
		})
		if err != nil || n != len(lines) {
			t.Fatalf("%s: %d of %d lines, %v", kind, n, len(lines), err)
		}
		bad := "\n" + string(lines[0][:len(lines[0])-1]) + "\n"
		err = eachJSONL(kind, strings.NewReader(bad), func(int, Record, []byte) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%s: truncated line: %v", kind, err)
		}
	}
}

// fuzzRecDecoder checks a fuzzed line against encoding/json, and the string
// and decimal readers alone when the line is one JSON string.
func fuzzRecDecoder(t *testing.T, kind Kind, line []byte) {
	var d lineDecoders
	checkRecDecode(t, &d, kind, line)
	var want string
	wantErr := json.Unmarshal(line, &want)
	l := jsonLine{b: line}
	if s, ok := l.text(); ok && l.i == len(line) {
		if wantErr != nil || string(s) != want {
			t.Fatalf("string %q: fast %q, encoding/json %q %v", line, s, want, wantErr)
		}
	}
	var wantDec decimal.Dec
	wantErr = json.Unmarshal(line, &wantDec)
	l = jsonLine{b: line}
	if v, ok := l.dec(); ok && l.i == len(line) {
		if wantErr != nil || v != wantDec {
			t.Fatalf("decimal %q: fast %v, encoding/json %v %v", line, v, wantDec, wantErr)
		}
	}
}

func FuzzPriceDecoder(f *testing.F) {
	g := newRecGen(21, true)
	for i := range 20 {
		f.Add(g.price(i).AppendJSON(nil))
	}
	f.Add([]byte(`{"administration":"500","price_list":"VK","customer":"","base_price":"1.5","breaks":[{"min_quantity":"1","discount_type":"amount","value":"2","net_price":"3"}]}`))
	f.Add([]byte(`"a\u0026\n\u00e9"`))
	f.Add([]byte(`"-12.345"`))
	f.Fuzz(func(t *testing.T, line []byte) { fuzzRecDecoder(t, KindPrices, line) })
}

func FuzzCustomerDecoder(f *testing.F) {
	g := newRecGen(22, true)
	for i := range 20 {
		f.Add(g.customer(i).AppendJSON(nil))
	}
	f.Add([]byte(`{"administration":"500","debtor_code":"1","name":"N","blocked":true,"discount_percent":"2.5","addresses":[{"type":"invoice","line1":"","line2":"","postcode":"","city":"","country":""}]}`))
	f.Fuzz(func(t *testing.T, line []byte) { fuzzRecDecoder(t, KindCustomers, line) })
}

// Decoding snapshot lines, fast against encoding/json:
//
//	go test ./mapping/feed -run '^$' -bench 'RecLines' -benchmem
func BenchmarkRecLines(b *testing.B) {
	for _, kind := range []Kind{KindPrices, KindCustomers} {
		lines := benchRecLines(kind)
		size := 0
		for _, l := range lines {
			size += len(l)
		}
		for _, mode := range []string{"fast", "json"} {
			b.Run(fmt.Sprintf("%s/%s", kind, mode), func(b *testing.B) {
				var d lineDecoders
				b.SetBytes(int64(size))
				for b.Loop() {
					for _, l := range lines {
						if mode == "fast" && d.decode(l, newRecord(kind)) {
							continue
						}
						{
							if err := json.Unmarshal(l, newRecord(kind)); err != nil {
								b.Fatal(err)
							}
						}
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/line")
			})
		}
	}
}

var benchRecCache sync.Map

// benchRecLines is 100,000 plain lines of kind (generated once).
func benchRecLines(kind Kind) [][]byte {
	if v, ok := benchRecCache.Load(kind); ok {
		return v.([][]byte)
	}
	g := newRecGen(99, false)
	lines := make([][]byte, 100000)
	for i := range lines {
		var rec Record = g.price(i)
		if kind == KindCustomers {
			rec = g.customer(i)
		}
		lines[i] = rec.AppendJSON(nil)
	}
	benchRecCache.Store(kind, lines)
	return lines
}
