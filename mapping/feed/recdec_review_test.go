package feed

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"globex/internal/decimal"
)

// Lines at the edges of what the fast decoders take: whatever they take,
// encoding/json reads alike (checkRecDecode, checkDecode).
func TestRecDecodersEdgeLines(t *testing.T) {
	const p = `{"administration":"500","price_list":"VK","customer":"C","base_price":"1.5"}`
	const c = `{"administration":"500","debtor_code":"1","name":"N","blocked":false}`
	const s = `{"administration":"500","item_code":"A","on_hand":"1","reserved":"0","incoming":"0","availability":"in_stock","warehouses":{"1":{"on_hand":"1","reserved":"0","incoming":"0"}}}`
	decs := []string{"007", "-0", "-0.00", "1.", ".5", "-.5", "+1", "+-1", "--1", "-", "", ".", "0.", "1e3", "1E3", "0x10",
		"123456789012345678", "1234567890123456789", "-999999999999999999", "9223372036854775807", "-9223372036854775808",
		"0.000000000000000001", "0.0000000000000000001", "00000000000000000001", "1.5.5", "1,5", " 1", "1 ", "１", "1\u00a0"}
	strs := []string{`\"\\\/\b\f\n\r\t`, `\u0000`, `\u001f`, `\u007f`, `\u2028\u2029`, "\u2028", `\uFFFF`, `\uffFe`, `\u00e9\xff`,
		"\\u00e9\xc3", "\xc3\\u00e9", "\xe2\x82\\u00ac", `\ud800`, `\udfff`, `\ud83d\ude00`, `\uD7FF`, `\uE000`, `\u`, `\u00`, `\u00g0`,
		`\a`, `\v`, `\x41`, `\0`, `\U00000041`, `\'`, "\x7f", "\t", "é", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf", `\\u0041`, `\\`, `\`}
	var lines []struct {
		kind Kind
		line string
	}
	add := func(k Kind, l string) {
		lines = append(lines, struct {
			kind Kind
			line string
		}{k, l})
	}
	for _, v := range decs {
		add(KindPrices, strings.Replace(p, `"1.5"`, `"`+v+`"`, 1))
		add(KindPrices, strings.Replace(p, `}`, `,"breaks":[{"min_quantity":"`+v+`","discount_type":"amount","value":"1","net_price":"`+v+`"}]}`, 1))
		add(KindCustomers, strings.Replace(c, `}`, `,"discount_percent":"`+v+`"}`, 1))
		add(KindStock, strings.Replace(s, `"on_hand":"1"`, `"on_hand":"`+v+`"`, 2))
	}
	for _, v := range strs {
		add(KindPrices, strings.Replace(p, `"VK"`, `"`+v+`"`, 1))
		add(KindPrices, strings.Replace(p, `"C"`, `"a`+v+`b"`, 1))
		add(KindCustomers, strings.Replace(c, `"N"`, `"`+v+`"`, 1))
		add(KindCustomers, strings.Replace(c, `}`, `,"addresses":[{"type":"`+v+`","line1":"`+v+`","line2":"","postcode":"","city":"`+v+`","country":"NL"}]}`, 1))
		add(KindStock, strings.Replace(s, `"A"`, `"`+v+`"`, 1))
		add(KindStock, strings.Replace(s, `{"1":`, `{"`+v+`":`, 1))
	}
	for _, l := range []string{
		// booleans
		strings.Replace(c, `false`, `False`, 1), strings.Replace(c, `false`, `fals`, 1), strings.Replace(c, `false`, `0`, 1),
		strings.Replace(c, `false}`, `true }`, 1), strings.Replace(c, `false`, `falsetrue`, 1),
		// duplicate members and members out of order
		strings.Replace(c, `"name":"N"`, `"name":"N","name":"M"`, 1),
		strings.Replace(c, `}`, `,"blocked":true}`, 1),
		strings.Replace(c, `"blocked":false`, `"blocked":false,"status":"A"`, 1),
		strings.Replace(c, `}`, `,"discount_percent":"1","discount_percent":null}`, 1),
		strings.Replace(c, `}`, `,"addresses":[{"type":"a","line1":"","line2":"","postcode":"","city":"","country":""}],"addresses":[{"type":"b"}]}`, 1),
		strings.Replace(c, `"debtor_code"`, `"Debtor_Code"`, 1),
		strings.Replace(c, `"debtor_code"`, `"debtor_cod\u0065"`, 1),
		strings.Replace(c, `}`, `,"addresses":[]}`, 1),
		strings.Replace(c, `}`, `,"addresses":[{"type":"","line1":"","line2":"","postcode":"","city":"","country":""}]}`, 1),
		strings.Replace(c, `}`, `,"addresses":[{"type":"","line1":"","line2":"","postcode":"","city":"","country":""},]}`, 1),
		strings.Replace(c, `}`, `,"extra":1}`, 1),
	} {
		add(KindCustomers, l)
	}
	for _, l := range []string{
		strings.Replace(p, `"base_price"`, `"factor":"2","base_price"`, 1),
		strings.Replace(p, `"base_price"`, `"factor":null,"base_price"`, 1),
		strings.Replace(p, `"base_price"`, `"factor":"","base_price"`, 1),
		strings.Replace(p, `"base_price":"1.5"`, `"base_price":"1.5","base_price":"2"`, 1),
		strings.Replace(p, `"base_price":"1.5"`, `"base_price":"1.5","factor":"2"`, 1),
		strings.Replace(p, `"customer":"C"`, `"customer":"C","customer":"D"`, 1),
		strings.Replace(p, `"price_list":"VK"`, `"price_list":"VK","currency":"EUR","currency":"USD"`, 1),
		strings.Replace(p, `"price_list":"VK"`, `"price_list":"VK","item_code":"A","currency":"EUR"`, 1),
		strings.Replace(p, `}`, `,"breaks":[{"min_quantity":"1","discount_type":"amount","value":"2"}]}`, 1),
		strings.Replace(p, `}`, `,"breaks":[{"min_quantity":"1","discount_type":"amount","value":"2","net_price":"3"},{"min_quantity":"2","discount_type":"","value":"2"}]}`, 1),
		strings.Replace(p, `}`, `,"breaks":[{"min_quantity":"1","discount_type":"amount","value":"2","net_price":null}]}`, 1),
		strings.Replace(p, `}`, `,"breaks":[{"min_quantity":"1","discount_type":"amount","value":"2","net_price":"3","net_price":"4"}]}`, 1),
		strings.Replace(p, `}`, `,"breaks":[{"min_quantity":"1","discount_type":"amount","value":"2","net_price":"3"}],"breaks":[{"min_quantity":"1","discount_type":"amount","value":"2"}]}`, 1),
		strings.Replace(p, `}`, `,"breaks":[{"min_quantity":"1","discount_type":"amount","value":"2","net_price":"3"}]} `, 1),
		strings.Replace(p, `}`, `,"breaks":[{"min_quantity":"1","discount_type":"amount","value":"2"}]}}`, 1),
		strings.Replace(p, `}`, `,"breaks":[]}`, 1),
		strings.Replace(p, `}`, `,"breaks":[{}]}`, 1),
		strings.Replace(p, `}`, `,"breaks":[{"min_quantity":"1","discount_type":"amount","value":"2"},{"min_quantity":"1","discount_type":"amount","value":"2","net_price":"1"},{"min_quantity":"1","discount_type":"amount","value":"2","net_price":"1"},{"min_quantity":"1","discount_type":"amount","value":"2","net_price":"1"},{"min_quantity":"1","discount_type":"amount","value":"2","net_price":"1"},{"min_quantity":"5","discount_type":"amount","value":"2","net_price":"5"}]}`, 1),
	} {
		add(KindPrices, l)
	}
	for _, l := range []string{
		strings.Replace(s, `"incoming":"0","availability"`, `"incoming":"0","available":"1","availability"`, 1),
		strings.Replace(s, `"incoming":"0"}}`, `"incoming":"0","available":"-0"}}`, 1),
		strings.Replace(s, `}}}`, `},"1":{"on_hand":"2","reserved":"0","incoming":"0"}}}`, 1),
		strings.Replace(s, `}}}`, `},"0":{"on_hand":"2","reserved":"0","incoming":"0"}}}`, 1),
		strings.Replace(s, `}}}`, `},"2":{"on_hand":"2","reserved":"0","incoming":"0"}}}`, 1),
		strings.Replace(s, `"warehouses":{"1":{"on_hand":"1","reserved":"0","incoming":"0"}}`, `"warehouses":{}`, 1),
		strings.Replace(s, `"warehouses":{"1":{"on_hand":"1","reserved":"0","incoming":"0"}}`, `"warehouses":null`, 1),
		strings.Replace(s, `}}}`, `}},"warehouses":{"2":{"on_hand":"2","reserved":"0","incoming":"0"}}}`, 1),
	} {
		add(KindStock, l)
	}
	taken := 0
	for _, l := range lines {
		if l.kind == KindStock {
			var d stockDecoder
			if checkDecode(t, &d, []byte(l.line)) {
				taken++
			}
			continue
		}
		var d lineDecoders
		if f, _ := checkRecDecode(t, &d, l.kind, []byte(l.line)); f {
			taken++
		}
	}
	t.Logf("%d of %d edge lines taken by the fast decoders", taken, len(lines))
}

// One decoder reads many lines: a record decoded earlier is never changed
// by a later decode (decimals pointed to, breaks, addresses, strings), nor
// by a decode that gave up midway.
func TestRecDecodersRecordsStayIntact(t *testing.T) {
	g := newRecGen(99, true)
	var d lineDecoders
	type kept struct {
		rec  Record
		want Record
	}
	var all []kept
	for i := range 400 {
		var rec Record = g.price(i)
		if i%2 == 1 {
			rec = g.customer(i)
		}
		line := rec.AppendJSON(nil)
		if i%7 == 3 { // a decode that gives up at the end, after the groups
			bad := append(append([]byte(nil), line...), ' ')
			d.decode(bad, newRecord(rec.Kind()))
		}
		if i%11 == 5 { // gives up in the middle of a group
			if j := strings.LastIndex(string(line), `,"`); j > 0 {
				d.decode(append(append([]byte(nil), line[:j]...), `,"x":1}`...), newRecord(rec.Kind()))
			}
		}
		got := newRecord(rec.Kind())
		if !d.decode(line, got) {
			continue
		}
		want := newRecord(rec.Kind())
		if err := json.Unmarshal(line, want); err != nil {
			t.Fatal(err)
		}
		all = append(all, kept{got, want})
	}
	// writing through one record's pointers changes no other record
	for _, k := range all {
		if p, ok := k.rec.(*Price); ok {
			if p.Factor != nil {
				*p.Factor = decimal.FromInt(-77)
				*k.want.(*Price).Factor = decimal.FromInt(-77)
			}
			for i := range p.Breaks {
				if p.Breaks[i].NetPrice != nil {
					*p.Breaks[i].NetPrice = decimal.FromInt(int64(-i))
					*k.want.(*Price).Breaks[i].NetPrice = decimal.FromInt(int64(-i))
				}
			}
		}
	}
	for i, k := range all {
		if !reflect.DeepEqual(k.rec, k.want) {
			t.Fatalf("record %d changed:\n got %+v\nwant %+v", i, k.rec, k.want)
		}
	}
	if len(all) < 300 {
		t.Errorf("only %d of 400 lines decoded fast", len(all))
	}
}

// eachJSONL: a line the fast decoder gives up on after filling part of the
// record (its groups included) is read by encoding/json into a fresh
// record, not over what the fast decoder left.
func TestEachJSONLFallbackAfterPartialDecode(t *testing.T) {
	lines := map[Kind][]string{
		KindPrices: {
			`{"administration":"500","price_list":"VK","customer":"C","factor":"2","base_price":"1.5","breaks":[{"min_quantity":"1","discount_type":"amount","value":"2","net_price":"3"}]} `,
			`{"administration":"500","price_list":"VK","customer":"C","factor":"2","base_price":"1.5","breaks":[{"min_quantity":"1","discount_type":"amount","value":"2","net_price":"3"},{"min_quantity":"2","discount_type":"amount","value":"2"}],"breaks":[{"min_quantity":"5","discount_type":"x","value":"1"}]}`,
			`{"administration":"500","price_list":"VK","customer":"C","factor":"2","base_price":"1.5","factor":null}`,
		},
		KindCustomers: {
			`{"administration":"500","debtor_code":"1","name":"N","blocked":true,"discount_percent":"2","addresses":[{"type":"a","line1":"1","line2":"2","postcode":"3","city":"4","country":"5"}],"blocked":false,"discount_percent":null}`,
			`{"administration":"500","debtor_code":"1","name":"N","blocked":true,"addresses":[{"type":"a","line1":"1","line2":"2","postcode":"3","city":"4","country":"5"}],"addresses":[{"type":"b"}]}` + "\r",
		},
		KindStock: {
			`{"administration":"500","item_code":"A","on_hand":"1","reserved":"0","incoming":"0","available":"1","availability":"in_stock","warehouses":{"1":{"on_hand":"1","reserved":"0","incoming":"0","available":"1"}},"warehouses":{"2":{"on_hand":"2","reserved":"0","incoming":"0"}}}`,
		},
	}
	for kind, ls := range lines {
		n := 0
		err := eachJSONL(kind, strings.NewReader(strings.Join(ls, "\n")), func(line int, rec Record, raw []byte) error {
			want := newRecord(kind)
			// (stock: StockWarehouses replaces on a repeated member, where
			// refDecode's map would merge; AppendJSON writes none)
			if err := json.Unmarshal([]byte(ls[n]), want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rec, want) {
				t.Errorf("%s line %d:\n got %+v\nwant %+v", kind, line, rec, want)
			}
			n++
			return nil
		})
		if err != nil || n != len(ls) {
			t.Errorf("%s: %d of %d lines: %v", kind, n, len(ls), err)
		}
	}
}

// A decoder keeps no long value alive once its record is gone: the recent
// values it shares are short ones only.
func TestStrCacheKeepsShortValuesOnly(t *testing.T) {
	var d lineDecoders
	long := strings.Repeat("x", 1<<20)
	line := `{"administration":"` + long + `","price_list":"` + long + `","customer":"` + long + `","base_price":"1"}`
	if !d.decode([]byte(line), new(Price)) {
		t.Fatal("not taken")
	}
	for _, c := range []*strCache{&d.price.admin, &d.price.list, &d.price.customer} {
		for _, s := range c.last {
			if len(s) > maxCached {
				t.Errorf("a value of %d bytes is kept", len(s))
			}
		}
	}
	var c strCache
	a, b := c.get([]byte("VK")), c.get([]byte("VK"))
	if unsafe.StringData(a) != unsafe.StringData(b) {
		t.Error("a short value is not shared")
	}
}
