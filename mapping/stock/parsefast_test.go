package stock

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"globex/mapping/stock/stocktest"
)

// blockParser sets up what a worker of readBlocks has for the CSV export
// in: a reader with its header mapped and a parser recording separators,
// and the rest of in cut into blocks as readBlocks cuts them.
type blockParser struct {
	rd     *reader
	p      *parser
	tr     *sepTracker
	blocks [][]byte
	lines  []int // lines before each block
	seq    bool  // tr is the file's tracker
}

func newBlockParser(tb testing.TB, in []byte, opts Options, blockSize int) *blockParser {
	return newParserFor(tb, in, opts, blockSize, false)
}

// newParserFor is newBlockParser; with seq, the parser checks separators
// as the sequencer's does (with the file's tracker, not recording).
func newParserFor(tb testing.TB, in []byte, opts Options, blockSize int, seq bool) *blockParser {
	tb.Helper()
	if err := opts.defaults(); err != nil {
		tb.Fatal(err)
	}
	opts.TempDir = tb.TempDir()
	nl := bytes.IndexByte(in, '\n')
	if nl < 0 {
		tb.Fatal("no header line")
	}
	head := strings.TrimSuffix(string(in[:nl]), "\r")
	delim := detectDelimiter([]byte(head))
	if delim == 0 {
		delim = ';'
	}
	var hdr []string
	for _, h := range strings.Split(head, string(delim)) {
		hdr = append(hdr, strings.TrimSpace(h))
	}
	rd := newReader(&opts)
	tb.Cleanup(func() { rd.rowStore.close(); rd.res.aggs.close() })
	if err := rd.header(hdr, delim, true); err != nil {
		tb.Fatal(err)
	}
	bp := &blockParser{rd: rd, tr: &sepTracker{fixed: opts.Decimal}, seq: seq}
	bp.p = rd.newParser(bp.tr)
	bp.p.fast.setup(rd) // as fastOff is now
	body, line := in[nl+1:], 1
	for len(body) > 0 {
		n := len(body)
		if n > blockSize {
			if n = recordsEnd(body[:blockSize], delim); n == 0 {
				n = len(body)
			}
		}
		bp.blocks = append(bp.blocks, body[:n])
		bp.lines = append(bp.lines, line)
		line += bytes.Count(body[:n], []byte{'\n'})
		body = body[n:]
	}
	return bp
}

// parse parses block i as a worker does, into out.
func (bp *blockParser) parse(i int, out *blockOut) error {
	out.reset()
	if !bp.seq {
		bp.tr.rec = &out.sep
	}
	bp.p.out = out
	return bp.p.parseBlock(bp.blocks[i], bp.lines[i])
}

// BenchmarkParseBlock isolates the parse of blocks of a generated export
// (what the workers of readBlocks do), without reading, committing or
// adding up: "fast" as parseBlock does, "slow" with the splitter and
// parser.row only (fastOff). The machine's speed drifts, so "paired"
// parses each block both ways in turn and reports the two per row and
// their ratio.
//
//	go test ./mapping/stock -run '^$' -bench ParseBlock -count 8
func BenchmarkParseBlock(b *testing.B) {
	const rows = 100_000
	data := genStock(b, rows)
	defer func(v bool) { fastOff = v }(fastOff)
	fastOff = true
	slow := newBlockParser(b, data, Options{Location: time.UTC}, blockBytes)
	fastOff = false
	fast := newBlockParser(b, data, Options{Location: time.UTC}, blockBytes)
	if !fast.p.fast.on || slow.p.fast.on {
		b.Fatal("fast path not on and off as asked")
	}
	var out blockOut
	parseAll := func(b *testing.B, bp *blockParser) {
		for i := range bp.blocks {
			if err := bp.parse(i, &out); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, c := range []struct {
		name string
		bp   *blockParser
	}{{"fast", fast}, {"slow", slow}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for range b.N {
				parseAll(b, c.bp)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
	}
	b.Run("paired", func(b *testing.B) {
		var tFast, tSlow time.Duration
		for range b.N {
			for i := range fast.blocks {
				t0 := time.Now()
				if err := slow.parse(i, &out); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := fast.parse(i, &out); err != nil {
					b.Fatal(err)
				}
				tSlow += t1.Sub(t0)
				tFast += time.Since(t1)
			}
		}
		n := float64(b.N * rows)
		b.ReportMetric(float64(tFast.Nanoseconds())/n, "fast-ns/row")
		b.ReportMetric(float64(tSlow.Nanoseconds())/n, "slow-ns/row")
		b.ReportMetric(float64(tSlow)/float64(tFast), "speedup")
	})
}

// parseOutcome parses in block by block, as a worker does (or, with seq,
// as the sequencer does), with or without the fast path, and describes
// everything the parser made: per block the error, the rows, the bad rows,
// the separator summary and the encoded row records of every partition;
// at the end the tracker and the interned codes.
func parseOutcome(t testing.TB, in []byte, opts Options, blockSize int, seq, fast bool) string {
	t.Helper()
	defer func(v bool) { fastOff = v }(fastOff)
	fastOff = !fast
	bp := newParserFor(t, in, opts, blockSize, seq)
	if bp.p.fast.on != (fast && len(bp.rd.hdr) <= fastMaxCols) {
		t.Fatalf("fast path on %v, want %v", bp.p.fast.on, fast)
	}
	var b strings.Builder
	var out blockOut
	for i := range bp.blocks {
		err := bp.parse(i, &out)
		fmt.Fprintf(&b, "block %d (line %d): err %v fatal %v rows %d bad %d bytes %d\n", i, bp.lines[i], err, out.fatal, out.rows, out.badTotal, out.bytes)
		for _, r := range out.bad {
			fmt.Fprintf(&b, "  bad %+v\n", *r)
		}
		fmt.Fprintf(&b, "  sep %+v\n", out.sep)
		for p, part := range out.parts {
			if len(part) > 0 {
				fmt.Fprintf(&b, "  part %d %x\n", p, part)
			}
		}
		if err != nil {
			break
		}
	}
	tr := *bp.tr
	tr.rec = nil
	fmt.Fprintf(&b, "tracker %+v\nadmins %q whs %q\n", tr, bp.rd.res.admins, bp.rd.res.whs)
	return b.String()
}

// compareFast fails when the fast path makes anything else of in than the
// splitter and parser.row, as a worker and as the sequencer.
func compareFast(t testing.TB, in []byte, opts Options, blockSize int) {
	t.Helper()
	for _, seq := range []bool{false, true} {
		want := parseOutcome(t, in, opts, blockSize, seq, false)
		if got := parseOutcome(t, in, opts, blockSize, seq, true); got != want {
			t.Fatalf("seq %v, blocks of %d bytes, %+v:\nfast path:\n%s\nsplitter and row:\n%s\ninput:\n%q", seq, blockSize, opts, got, want, in)
		}
	}
}

// fastHeaders are the headers the random exports use: the generator's,
// the research brief's, free stock without or with reserved, an extra
// column, a delimiter other than ';'.
var fastHeaders = []string{
	stocktest.Header,
	"Magazijn;Artikelcode;Voorraad;Gereserveerd;Veiligheidsvoorraad;Peildatum;Verwachte datum\r\n",
	"Artikelcode;Vrije voorraad;Magazijn\n",
	"Administratie;Artikelcode;Vrije voorraad;Gereserveerd;Te ontvangen;Omschrijving\n",
	"Artikelcode,Voorraad,Vrije voorraad,Datum\n",
	"Artikelcode\tVoorraad\tMagazijn\tVerwachte datum\tVeiligheidsvoorraad\n",
	"Omschrijving;Artikelcode;Voorraad\n",
}

// fastValue returns a random field value for a column with header h: most
// of them ordinary, some with the quirks the fast path must leave to the
// splitter and row or handle exactly as they do.
func fastValue(rng *rand.Rand, h string, sep byte) string {
	h = normHeader(h)
	pick := func(vs ...string) string { return vs[rng.IntN(len(vs))] }
	var v string
	switch h {
	case "artikelcode":
		v = fmt.Sprintf("A%d", rng.IntN(40))
		if rng.IntN(30) == 0 {
			v = pick("", " ", "Ä1", "A 1", "\u00a0A2", "A3\u00a0", "A4\r", strings.Repeat("L", 20))
		}
	case "magazijn", "administratie":
		v = fmt.Sprint(rng.IntN(4) + 1)
		if rng.IntN(30) == 0 {
			v = pick("", " 1", "1\t", "é", strings.Repeat("9", 300))
		}
	case "peildatum", "datum":
		v = fmt.Sprintf("14-05-2024 06:%02d", rng.IntN(3))
		if rng.IntN(20) == 0 {
			v = pick("", "gisteren", " 14-05-2024", "2024-05-14", "31-02-2024")
		}
	case "verwachtedatum":
		v = pick("", "", "", fmt.Sprintf("%02d-06-2024", rng.IntN(28)+1), "nooit", "32-06-2024")
	case "omschrijving":
		v = pick("", "Schroef M8", "Moer, verzinkt", "Bout; lang", strings.Repeat("x", 150), "é")
	default: // quantities
		v = fmt.Sprintf("%d", rng.IntN(5000))
		switch rng.IntN(4) {
		case 0:
			v += fmt.Sprintf("%c%03d", sep, rng.IntN(1000))
		case 1:
			v += fmt.Sprintf("%c%d", sep, rng.IntN(100))
		}
		if rng.IntN(8) == 0 {
			v = pick("", "0", "-5", "+3", ",5", "5,", "1.234", "1,234", "0,123", "1.234,5", "12345678", "123456789",
				"1234567,8", "99999999,999", "1234567890123456789", "1e3", "veel", " 7 ", "\t8", "7\u00a0", "1,2,3",
				"123,4567", "0000,000", "-0,001", fmt.Sprintf("%d%c%03d", rng.IntN(999)+1, ",."[rng.IntN(2)], rng.IntN(1000)))
		}
	}
	return v
}

// fastExport writes a random export for compareFast: one of fastHeaders,
// rows of fastValues, and rows with quotes, missing or extra fields,
// empty lines, CRLF or LF, spaces.
func fastExport(rng *rand.Rand, rows int) []byte {
	hdr := fastHeaders[rng.IntN(len(fastHeaders))]
	delim := detectDelimiter([]byte(hdr))
	cols := strings.Split(strings.TrimRight(hdr, "\r\n"), string(delim))
	sep := ",."[rng.IntN(2)]
	var b bytes.Buffer
	b.WriteString(hdr)
	for range rows {
		nl := "\r\n"
		if rng.IntN(3) == 0 {
			nl = "\n"
		}
		switch rng.IntN(40) {
		case 0:
			b.WriteString(nl) // empty line
		case 1:
			b.WriteString("\r\r\n")
		}
		vals := make([]string, len(cols))
		for i, c := range cols {
			vals[i] = fastValue(rng, c, sep)
		}
		switch rng.IntN(40) {
		case 0:
			vals = vals[:rng.IntN(len(vals))] // missing fields
		case 1:
			vals = append(vals, "") // an empty extra field
		case 2:
			vals = append(vals, "extra")
		case 3:
			i := rng.IntN(len(vals))
			vals[i] = `"` + strings.ReplaceAll(vals[i], `"`, `""`) + `"`
		case 4:
			i := rng.IntN(len(vals))
			vals[i] = `"` + vals[i] + "\r\nregel 2\""
		case 5:
			vals[rng.IntN(len(vals))] += `x"y`
		}
		b.WriteString(strings.Join(vals, string(delim)))
		b.WriteString(nl)
	}
	out := b.Bytes()
	if rng.IntN(4) == 0 {
		out = bytes.TrimRight(out, "\r\n") // no line end at the end
		if rng.IntN(2) == 0 {
			out = append(out, '\r')
		}
	}
	return out
}

// fastOptions returns random options for compareFast.
func fastOptions(rng *rand.Rand) Options {
	opts := Options{Location: time.UTC, MaxBadRows: 1 + rng.IntN(5)}
	switch rng.IntN(4) {
	case 0:
		opts.Decimal = ','
	case 1:
		opts.Decimal = '.'
	}
	if rng.IntN(4) == 0 {
		opts.Administration = "2"
	}
	if rng.IntN(4) == 0 {
		opts.MeasuredAt = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	}
	if rng.IntN(5) == 0 {
		opts.MaxLineBytes = 40 + rng.IntN(100)
	}
	return opts
}

// TestFastPathMatchesRow compares the fast path of parseBlock with the
// splitter and parser.row on random exports (damaged too), the export
// of TestBlocksMatchInOrder, the golden export and the generator's.
func TestFastPathMatchesRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	inputs := 300
	if raceDetector {
		inputs = 60
	}
	for n := range inputs {
		var in []byte
		if n%3 == 2 {
			in = randomExport(rng, 1+rng.IntN(100))
		} else {
			in = fastExport(rng, 1+rng.IntN(150))
		}
		if n%5 == 4 {
			// Damage after the header: quotes, line ends, delimiters and
			// separators where they do not belong.
			h := bytes.IndexByte(in, '\n') + 1
			for k := 1 + rng.IntN(6); k > 0 && h < len(in); k-- {
				in[h+rng.IntN(len(in)-h)] = "\"\r\n;,.x0 \t"[rng.IntN(10)]
			}
		}
		compareFast(t, in, fastOptions(rng), []int{64, 300, 1 << 20}[rng.IntN(3)])
	}
	golden, err := os.ReadFile(testdata("globe-nl.csv"))
	if err != nil {
		t.Fatal(err)
	}
	compareFast(t, golden, Options{Location: ams}, 1<<20)
	compareFast(t, genStock(t, 5000), Options{Location: ams}, blockBytes)
}

// FuzzFastPath compares the fast path with the splitter and parser.row on
// any body under one of fastHeaders.
//
//	go test ./mapping/stock -run '^$' -fuzz FuzzFastPath -fuzztime 2m
func FuzzFastPath(f *testing.F) {
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 12 {
		in := fastExport(rng, 10)
		h := bytes.IndexByte(in, '\n') + 1
		f.Add(in[h:], byte(i))
	}
	f.Add([]byte("500;1;ART-1;12,500;1,000;0,000;11,500;14-05-2024 06:00\r\n500;2;ART-1;1.5;;;;\n"), byte(0))
	f.Add([]byte("1;A;1.234;5,000;;14-05-2024 06:00;\n1;B;1234,5;;;;\r\n"), byte(1))
	f.Fuzz(func(t *testing.T, body []byte, mode byte) {
		hdr := fastHeaders[int(mode)%len(fastHeaders)]
		in := append([]byte(hdr), body...)
		opts := Options{Location: time.UTC, MaxBadRows: 3, MaxLineBytes: 200}
		switch mode >> 4 & 3 {
		case 1:
			opts.Decimal = ','
		case 2:
			opts.Decimal = '.'
		}
		if mode&0x40 != 0 {
			opts.Administration = "2"
		}
		compareFast(t, in, opts, []int{64, 1 << 20}[mode>>7])
	})
}

// FuzzParseNumFast checks parseNumFast (and parse8) against parseNum: a
// value it takes is what parseNum makes of it, whatever follows the value
// in memory.
func FuzzParseNumFast(f *testing.F) {
	for _, s := range []string{"0", "12", "1,5", "1.234", "12345678", "1234567,8", ",5", "5,", "-1,5", "+0.001", "",
		"99999999", "1,2,3", "a", "12 ", "0,000", "123456789012345678", "1234567890123456789", "1e3", "٣"} {
		f.Add(s, "xxxxxxxx")
	}
	f.Fuzz(func(t *testing.T, s, after string) {
		buf := append([]byte(s), after...)
		b := buf[:len(s)]
		d, info, ok := parseNumFast(trimNum(b))
		d2, info2, err := parseNum(b, false)
		if ok && (err != nil || d.Coef() != d2.Coef() || d.Scale() != d2.Scale() || info != info2) {
			t.Fatalf("%q: fast %v (scale %d) %+v, parseNum %v (scale %d) %+v %v", s, d, d.Scale(), info, d2, d2.Scale(), info2, err)
		}
		if !ok && len(s) <= 18 && err == nil && strings.Trim(s, " \t") == s {
			// parseNumShort takes every short plain value parseNum does,
			// but for one with an empty integer part and no separator.
			t.Logf("%q left to parseNum", s)
		}
	})
}

// TestParse8 checks parse8 on every separator position and length.
func TestParse8(t *testing.T) {
	buf := []byte("98765432,1.999999")
	for l := 1; l <= 8; l++ {
		for p := -1; p < l; p++ {
			v := []byte("12345678"[:l])
			if p >= 0 {
				v[p] = ",."[p%2]
			}
			b := append(append(buf[:0:0], v...), "77777777"...)[:l]
			coef, frac, info, ok := parse8(b)
			d, info2, ok2 := parseNumShort(b)
			if ok != ok2 || ok && (d.Coef() != coef || d.Scale() != frac || info != info2) {
				t.Errorf("%q: parse8 %d %d %+v %v, parseNumShort %v %+v %v", b, coef, frac, info, ok, d, info2, ok2)
			}
		}
	}
}

func TestSameBytes(t *testing.T) {
	vals := []string{"", "1", "12", "500", "1234567", "12345678", "123456789", "1234567890123456", "12345678901234567", "12345678901234568", "02345678", "1234567x"}
	for _, a := range vals {
		for _, b := range vals {
			if got := sameBytes([]byte(a), []byte(b)); got != (a == b) {
				t.Errorf("sameBytes(%q, %q) = %v", a, b, got)
			}
		}
	}
}

// The item hash spreads codes over the partitions, and tells apart codes
// that differ in one byte anywhere or in length.
func TestItemHash(t *testing.T) {
	var counts [nParts]int
	seen := map[uint64]string{}
	n, tol := 100_000, 20 // within tol% of the mean: over 5 standard deviations
	if raceDetector {
		n, tol = 30_000, 30
	}
	for i := range n {
		for _, s := range []string{fmt.Sprintf("ART-%d", 100000+i), fmt.Sprint(i), strings.Repeat("x", i%40) + fmt.Sprint(i)} {
			h := rowHash([]byte(s), 0)
			if o, ok := seen[h]; ok && o != s {
				t.Fatalf("%q and %q have the same hash", o, s)
			}
			seen[h] = s
			counts[partOf(h)]++
		}
	}
	want := 3 * n / nParts
	for p, c := range counts {
		if c < want*(100-tol)/100 || c > want*(100+tol)/100 {
			t.Errorf("partition %d has %d codes, want about %d", p, c, want)
		}
	}
	if itemHash([]byte("ab")) == itemHash([]byte("ab\x00")) || itemHash(nil) == itemHash([]byte{0}) {
		t.Error("a length is not told apart")
	}
}
