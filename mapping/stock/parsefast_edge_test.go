package stock

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// fastEdgeValues are quantity values at the edges of parse8, parseNumShort
// and the separator decisions.
var fastEdgeValues = []string{
	"", "0", "-0", "+5", "-5", ".5", ",5", "5.", "5,", "00012345", "0001234,5", "1234,567", "1.234567",
	"12345678", "123456789", "1234567,89", "1,234", "1.234", "0,000", "0.123", "-0,5", "+0.5", "-1,234",
	" 5", "5 ", "\t5", "5\t", " 1,5 ", "٣", "５", "1\u00a0", "\u00a01", "-", "+", ",", ".", "1,2,3", "1.2,3",
	"99999999999999999", "999999999999999999", "9999999999999999999", "0,000000000000000001", "1e3", "0x10",
	"1234567,", ",1234567", "+1234567", "-1234,56", "7777777.", "00000000", "0000000,0",
}

// The fast path makes of every edge value, line length (around 8, 64 and
// 128 bytes), line end (LF, CRLF, none, a lone CR) and separator state
// what the splitter and parser.row make of it.
func TestFastPathEdges(t *testing.T) {
	optsList := []Options{
		{Location: time.UTC, MaxBadRows: 3},
		{Location: time.UTC, MaxBadRows: 3, Decimal: ','},
		{Location: time.UTC, MaxBadRows: 3, Decimal: '.'},
	}
	ends := []string{"\n", "\r\n", "", "\r"}
	// Each value alone in a file, so that it decides the separator.
	for _, v := range fastEdgeValues {
		in := "Magazijn;Artikelcode;Voorraad;Gereserveerd\n1;A;" + v + ";0\n2;A;" + v + ";" + v + "\n"
		compareFast(t, []byte(in), optsList[0], 1<<20)
	}
	// Values, a few to a file whose separator is settled before, or not.
	const group = 3
	for vi := 0; vi < len(fastEdgeValues); vi += group {
		for _, lead := range []string{"", "1;A0;1,5;0\n", "1;A0;1.5;0\n", "1;A0;1.234;0\n"} {
			var b strings.Builder
			b.WriteString("Magazijn;Artikelcode;Voorraad;Gereserveerd\n")
			b.WriteString(lead)
			for k, v := range fastEdgeValues[vi:min(vi+group, len(fastEdgeValues))] {
				fmt.Fprintf(&b, "1;A1;%s;0\n", v)
				fmt.Fprintf(&b, "2;A2;0;%s\r\n", v)
				fmt.Fprintf(&b, "3;A%d;%s;%s%s", k, v, v, ends[(vi+k)%len(ends)])
				if ends[(vi+k)%len(ends)] == "" || ends[(vi+k)%len(ends)] == "\r" {
					b.WriteString("\n")
				}
			}
			for _, o := range optsList {
				compareFast(t, []byte(b.String()), o, 1<<20)
			}
		}
	}
	// Line lengths from 1 to 140 bytes; item codes with white space and
	// other than ASCII at either end.
	items := []string{"A", " A", "A ", "\tA", "Ä", "AÄ", "\u00a0A", "A\u00a0", "A\r"}
	line := func(l int) string {
		s := "12,5;" + items[l%len(items)]
		if len(s) < l {
			s += strings.Repeat("x", l-len(s))
		}
		return s
	}
	for _, nl := range []string{"\n", "\r\n"} {
		var b strings.Builder
		b.WriteString("Voorraad;Artikelcode\n")
		for l := 1; l <= 140; l++ {
			b.WriteString(line(l) + nl)
		}
		// delimiters near the line end
		for l := 1; l <= 140; l++ {
			b.WriteString(strings.Repeat(" ", l) + "5;B" + nl)
			b.WriteString(strings.Repeat(" ", l) + "5;" + nl) // no item
			b.WriteString("3;" + strings.Repeat("C", l) + nl)
			b.WriteString("4;D;" + strings.Repeat("C", l) + nl) // a field too many
		}
		for _, o := range optsList {
			compareFast(t, []byte(b.String()), o, 1<<20)
			compareFast(t, []byte(b.String()), o, 300)
		}
	}
	// The last line of a block, at the lengths where the word-wise reads
	// change, with every line end.
	for l := 1; l <= 140; l++ {
		if l > 18 && l < 55 || l > 74 && l < 118 {
			continue
		}
		for _, end := range ends {
			in := "Voorraad;Artikelcode\n7;B\n" + line(l) + end
			compareFast(t, []byte(in), optsList[0], 1<<20)
		}
	}
}

// A line is as long as MaxLineBytes allows, or one byte longer.
func TestFastPathLineLimit(t *testing.T) {
	for max := 8; max <= 140; max++ {
		if max > 18 && max < 60 || max > 70 && max < 122 {
			continue
		}
		for _, d := range []int{-1, 0, 1} {
			line := "1;" + strings.Repeat("A", max+d-3) // with its '\n': max+d bytes
			in := "Voorraad;Artikelcode\n" + line + "\n2;B\n"
			compareFast(t, []byte(in), Options{Location: time.UTC, MaxLineBytes: max}, 1<<20)
			in = "Voorraad;Artikelcode\n" + line + "\r\n2;B\n"
			compareFast(t, []byte(in), Options{Location: time.UTC, MaxLineBytes: max}, 1<<20)
		}
	}
}

// Lines the fast path leaves to the splitter (here: every line, each with
// an empty extra field, which row accepts) cost about what they cost
// without the fast path: the block is not searched for a quote again for
// every line (that made a block of them 20 times slower).
func TestFastPathFallbackLinear(t *testing.T) {
	var b strings.Builder
	b.WriteString("Voorraad;Artikelcode\n")
	for b.Len() < 256<<10 {
		b.WriteString("1;A;\n")
	}
	in := []byte(b.String())
	defer func(v bool) { fastOff = v }(fastOff)
	best := map[bool]time.Duration{}
	for range 3 {
		for _, off := range []bool{true, false} {
			fastOff = off
			bp := newBlockParser(t, in, Options{Location: time.UTC}, 1<<20)
			var out blockOut
			t0 := time.Now()
			if err := bp.parse(0, &out); err != nil || out.badTotal != 0 {
				t.Fatal(err, out.badTotal)
			}
			if d := time.Since(t0); best[off] == 0 || d < best[off] {
				best[off] = d
			}
		}
	}
	t.Logf("with %v, without %v", best[false], best[true])
	if best[false] > 4*best[true]+5*time.Millisecond {
		t.Errorf("a block of lines left to the splitter: %v with the fast path, %v without", best[false], best[true])
	}
}
