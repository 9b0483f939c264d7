package stock

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"globex/mapping/feed"
)

// outcome is everything Read and WriteTo say about an input, as text.
func outcome(t *testing.T, in []byte, opts Options) string {
	t.Helper()
	opts.TempDir = t.TempDir()
	res, err := Read(bytes.NewReader(in), opts)
	if err != nil {
		return "error: " + err.Error()
	}
	defer res.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "items %d rows %d bad %d measured %s warehouses %q\n", res.Items(), res.Rows(), res.BadRowCount(), res.MeasuredAt(), res.Warehouses())
	for _, r := range res.BadRows() {
		fmt.Fprintln(&b, r.Error())
	}
	var j, c bytes.Buffer
	jw := feed.NewJSONLWriter(&j)
	ru := Rules{LowStockThreshold: feedDec("3")}
	cw := feed.NewCSVWriter(&c, feed.KindStock, res.Columns(ru))
	if err := res.WriteTo(ru, jw, cw); err != nil {
		fmt.Fprintln(&b, "write error:", err)
	}
	jw.Close()
	cw.Close()
	// Each gives the same records as WriteTo.
	var e bytes.Buffer
	ew := feed.NewJSONLWriter(&e)
	if err := res.Each(ru, func(rec *feed.Stock) error { return ew.Write(rec) }); err != nil {
		fmt.Fprintln(&b, "each error:", err)
	}
	ew.Close()
	if e.String() != j.String() {
		t.Errorf("Each and WriteTo differ:\n%s\n%s", e.String(), j.String())
	}
	if err := res.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	return b.String() + j.String() + c.String()
}

// compareModes reads in with the in-order reader and with blocks of
// several sizes and a tiny memory budget (so that rows and items spill),
// and fails when anything differs.
func compareModes(t *testing.T, in []byte, opts Options) {
	t.Helper()
	defer func(b int) { blockBytes, inOrderOnly = b, false }(blockBytes)
	inOrderOnly = true
	want := outcome(t, in, opts)
	inOrderOnly = false
	for _, bb := range []int{7, 64, 1 << 20} {
		for _, budget := range []int{1, 0} {
			blockBytes = bb
			o := opts
			o.MemoryBudget = budget
			if got := outcome(t, in, o); got != want {
				t.Fatalf("blocks of %d bytes, budget %d:\n%s\nin order:\n%s\ninput:\n%q", bb, budget, got, want, in)
			}
		}
	}
}

// randomExport writes a stock CSV with the quirks the reader must handle
// the same way however the file is cut: quoted fields (also across lines),
// CRLF and LF, empty lines, both decimal separators and ambiguous values,
// bad rows, several rows per item and warehouse, safety stock that
// disagrees.
func randomExport(rng *rand.Rand, rows int) []byte {
	var b bytes.Buffer
	b.WriteString("Magazijn;Artikelcode;Voorraad;Gereserveerd;Veiligheidsvoorraad;Peildatum;Verwachte datum\r\n")
	sep := ",."[rng.IntN(2)]
	for range rows {
		nl := "\r\n"
		if rng.IntN(4) == 0 {
			nl = "\n"
		}
		if rng.IntN(20) == 0 {
			b.WriteString(nl) // empty line
		}
		item := fmt.Sprintf("A%d", rng.IntN(rows/3+1))
		switch rng.IntN(8) {
		case 0:
			item = `"` + item + `"`
		case 1:
			item = `"` + item + "\r\nx\"\"y\""
		}
		qty := func() string {
			v := fmt.Sprintf("%d%c%d", rng.IntN(2000), sep, rng.IntN(1000))
			switch rng.IntN(40) {
			case 0:
				v = fmt.Sprintf("%d%c%03d", rng.IntN(999)+1, ",."[rng.IntN(2)], rng.IntN(1000)) // maybe ambiguous, maybe the other separator
			case 1:
				v = "veel"
			case 2:
				v = fmt.Sprint(rng.IntN(100))
			case 3:
				v = fmt.Sprintf("%d%c%d", 3000000+rng.IntN(2000), sep, rng.IntN(1000)) // beyond 32 bits
			}
			return v
		}
		safety := ""
		if rng.IntN(5) == 0 {
			safety = fmt.Sprint(rng.IntN(3))
		}
		expected := ""
		if rng.IntN(6) == 0 {
			expected = fmt.Sprintf("%02d-06-2024", rng.IntN(28)+1)
		}
		fmt.Fprintf(&b, "%d;%s;%s;%s;%s;14-05-2024 06:%02d;%s", rng.IntN(3)+1, item, qty(), qty(), safety, rng.IntN(60), expected)
		switch rng.IntN(60) {
		case 0:
			b.WriteString(`;"unterminated`)
		case 1:
			b.WriteString(`;x"y`)
		case 2:
			b.WriteString(";extra")
		}
		b.WriteString(nl)
	}
	return b.Bytes()
}

func TestBlocksMatchInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	inputs := 240
	if raceDetector {
		inputs = 60
	}
	for n := range inputs {
		in := randomExport(rng, 1+rng.IntN(120))
		if n >= 40 {
			// Damage: quotes, line ends and separators where they do
			// not belong, and a cut-off end.
			in = in[:len(in)/6]
			for k := rng.IntN(4); k > 0; k-- {
				in[rng.IntN(len(in))] = "\"\r\n;,.x0"[rng.IntN(8)]
			}
			in = in[:rng.IntN(len(in)+1)]
		}
		opts := Options{Location: time.UTC, SkipBadRows: n%2 == 0, MaxBadRows: 3 + n%5}
		if n%7 == 3 {
			opts.Decimal = ','
		}
		compareModes(t, in, opts)
	}
	// The golden export and the generator's.
	golden, err := os.ReadFile(testdata("globe-nl.csv"))
	if err != nil {
		t.Fatal(err)
	}
	compareModes(t, golden, Options{Location: ams})
	compareModes(t, genStock(t, 3000), Options{Location: ams})
}

// A record longer than a few blocks hands the rest of the file to the
// in-order reader, which reads it as a whole.
func TestLongRecordFallsBackInOrder(t *testing.T) {
	defer func(b int) { blockBytes = b }(blockBytes)
	blockBytes = 16
	long := strings.Repeat("x", 300)
	in := "Artikelcode;Voorraad;Omschrijving\nA;1;kort\nB;2;\"" + long + "\n" + long + "\"\nC;3;kort\n"
	compareModes(t, []byte(in), Options{MaxLineBytes: 1000})
	res, err := Read(strings.NewReader(in), Options{MaxLineBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	if res.Items() != 3 {
		t.Errorf("items %d", res.Items())
	}
	// Too long for MaxLineBytes: the same refusal either way.
	err = readErr(t, []byte(in), Options{MaxLineBytes: 200})
	if !strings.Contains(err.Error(), "line 3 is longer than 200 bytes") {
		t.Errorf("got %v", err)
	}
	compareModes(t, []byte(in), Options{MaxLineBytes: 200})
}

// A large export spills to TempDir and leaves nothing there after Close.
func TestSpillCleansUp(t *testing.T) {
	dir := t.TempDir()
	res, err := Read(bytes.NewReader(genStock(t, 20000)), Options{TempDir: dir, MemoryBudget: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files in the temp dir while the result is open, want the items' spill file", len(ents))
	}
	if err := res.WriteTo(Rules{}, feed.NewJSONLWriter(io.Discard)); err != nil {
		t.Fatal(err)
	}
	if res.Items() != 10000 {
		t.Errorf("items %d", res.Items())
	}
	if err := res.Close(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}

func TestRecordsEnd(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{"a;b\nc", 4},
		{"a;b", 0},
		{"\"a\nb\";c\nd", 8},
		{"\"a\nb", 0},
		{"a\"b\nc", 4},            // bare quote: the record ends with the line
		{"\"a\"x;b\nc", 7},        // text after a closing quote
		{"\"a\"\r\nb", 5},         // CRLF after a closing quote
		{"\"a\"\rx\ny", 6},        // a lone CR after a closing quote
		{"\"a\"\"\n\";b\nc", 9},   // an escaped quote, then a line end inside the field
		{";\"\";\n\"x", 5},        // an empty quoted field
		{"a;b\n\n\"open\n", 5},    // ends inside a quoted field
		{"\"a\";\"b\"\n\"c\n", 8}, // two quoted fields
	} {
		if got := recordsEnd([]byte(c.in), ';'); got != c.want {
			t.Errorf("recordsEnd(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

// FuzzBlocks compares the block reader with the in-order reader on any
// input.
func FuzzBlocks(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5 {
		f.Add(randomExport(rng, 20), byte(0))
	}
	f.Add([]byte("Artikelcode;Voorraad\nA;1,500\nB;2.5\n"), byte(1))
	f.Add([]byte("Artikelcode;Voorraad\n\"A\r\n\";1\r\n\"B\"x;2\n"), byte(2))
	f.Fuzz(func(t *testing.T, in []byte, mode byte) {
		opts := Options{Location: time.UTC, MaxLineBytes: 512, SkipBadRows: mode&1 == 1}
		if mode&2 != 0 {
			opts.Decimal = ','
		}
		compareModes(t, in, opts)
	})
}

// The builder keeps its warehouse map from record to record: a record must
// hold exactly its own warehouses.
func TestRecordsHoldOnlyTheirWarehouses(t *testing.T) {
	in := "Artikelcode;Magazijn;Voorraad\nA;1;5\nA;2;3\nB;2;4\nC;3;1\nD;1;2\nD;3;2\n"
	got := records(t, []byte(in), Options{}, Rules{})
	want := []string{`"warehouses":{"1":{"on_hand":"5",` + `"reserved":"0","incoming":"0","available":"5"},"2":{"on_hand":"3","reserved":"0","incoming":"0","available":"3"}}`,
		`"item_code":"B","on_hand":"4","reserved":"0","incoming":"0","available":"4","availability":"in_stock","warehouses":{"2":{"on_hand":"4","reserved":"0","incoming":"0","available":"4"}}`,
		`"warehouses":{"3":{"on_hand":"1","reserved":"0","incoming":"0","available":"1"}}`,
		`"warehouses":{"1":{"on_hand":"2","reserved":"0","incoming":"0","available":"2"},"3":{"on_hand":"2","reserved":"0","incoming":"0","available":"2"}}`}
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d records:\n%s", len(lines), got)
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("record %d: %s\nwant it to contain %s", i, lines[i], w)
		}
	}
	// Only counted warehouses are kept.
	got = records(t, []byte(in), Options{}, Rules{Warehouses: []string{"2"}})
	if strings.Contains(got, `"1":`) || strings.Contains(got, `"3":`) || strings.Count(got, `"2":`) != 2 {
		t.Errorf("counting warehouse 2 only:\n%s", got)
	}
}

// Free stock is used where it says something: with reserved and no on-hand
// column, on hand is free + reserved; next to both, it is not read at all.
func TestFreeStockColumn(t *testing.T) {
	got := records(t, []byte("Artikelcode;Vrije voorraad;Gereserveerd\nA;10;2,5\n"), Options{}, Rules{})
	if !strings.Contains(got, `"on_hand":"12.5","reserved":"2.5","incoming":"0","available":"10"`) {
		t.Errorf("free + reserved: %s", got)
	}
	got = records(t, []byte("Artikelcode;Voorraad;Vrije voorraad;Gereserveerd\nA;10;n.v.t.;2\n"), Options{}, Rules{})
	if !strings.Contains(got, `"on_hand":"10","reserved":"2","incoming":"0","available":"8"`) {
		t.Errorf("on hand and reserved, free ignored: %s", got)
	}
	got = records(t, []byte("Artikelcode;Voorraad;Vrije voorraad\nA;10;7\n"), Options{}, Rules{})
	if !strings.Contains(got, `"on_hand":"10","reserved":"3"`) {
		t.Errorf("on hand and free: %s", got)
	}
}

// Quantities beyond 32 bits take the long form of the records, in rows and
// in items.
func TestLargeQuantities(t *testing.T) {
	in := "Artikelcode;Magazijn;Voorraad;Gereserveerd\nA;1;9999999999,999;1\nA;2;1;-3000000000\nB;1;2147483647;-2147483648\n"
	got := records(t, []byte(in), Options{}, Rules{})
	for _, w := range []string{
		`"item_code":"A","on_hand":"10000000000.999","reserved":"-2999999999","incoming":"0","available":"12999999999.999"`,
		`"1":{"on_hand":"9999999999.999","reserved":"1","incoming":"0","available":"9999999998.999"},"2":{"on_hand":"1","reserved":"-3000000000","incoming":"0","available":"3000000001"}`,
		`"item_code":"B","on_hand":"2147483647","reserved":"-2147483648"`,
	} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %s in\n%s", w, got)
		}
	}
}

// builder.build resets feed.Stock field by field: a field added to the
// record must be reset there too.
func TestBuildResetsEveryField(t *testing.T) {
	var exported []string
	rt := reflect.TypeOf(feed.Stock{})
	for i := range rt.NumField() {
		if rt.Field(i).IsExported() {
			exported = append(exported, rt.Field(i).Name)
		}
	}
	want := "Administration ItemCode OnHand Reserved Incoming Available Availability Display ExpectedDate Warehouses MeasuredAt"
	if got := strings.Join(exported, " "); got != want {
		t.Errorf("feed.Stock has the fields %s; update builder.build's reset and this test", got)
	}
}
