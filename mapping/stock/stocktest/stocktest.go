// Package stocktest generates realistic Globe stock exports for tests and
// benchmarks, so big inputs never have to be committed.
package stocktest

import (
	"bufio"
	"io"
	"math/rand/v2"
	"strconv"
)

// Header is the header line Generate writes (the recommended Globe stock
// CSV of the research brief, Dutch captions).
const Header = "Administratie;Magazijn;Artikelcode;Voorraad;Gereserveerd;TeOntvangen;VrijeVoorraad;Peildatum\r\n"

// Generate writes a stock CSV with rows data rows: ';' separated, decimal
// comma with three decimals, CRLF line ends, two warehouses per item, items
// in a seed-dependent order that is not sorted (every item's two rows are
// far apart). The same seed gives the same bytes.
func Generate(w io.Writer, rows int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	items := (rows + 1) / 2
	if _, err := bw.WriteString(Header); err != nil {
		return err
	}
	// Visit items in a permuted order (a multiplicative walk), first all
	// warehouse-1 rows, then warehouse-2 rows.
	step := 1
	if items > 2 {
		step = int(rng.Uint64N(uint64(items-1))) + 1
		for gcd(step, items) != 1 {
			step++
		}
	}
	var buf []byte
	for r := range rows {
		wh := 1 + r/items
		item := (r % items) * step % items
		buf = buf[:0]
		buf = append(buf, "500;"...)
		buf = strconv.AppendInt(buf, int64(wh), 10)
		buf = append(buf, ";ART-"...)
		buf = strconv.AppendInt(buf, int64(100000+item), 10)
		onHand := int64(rng.Uint64N(5000000))
		if rng.Uint64N(10) == 0 {
			onHand = 0
		}
		reserved := int64(rng.Uint64N(uint64(onHand/4 + 1)))
		incoming := int64(0)
		if rng.Uint64N(5) == 0 {
			incoming = int64(rng.Uint64N(1000)) * 1000
		}
		buf = append(buf, ';')
		buf = appendQty(buf, onHand)
		buf = append(buf, ';')
		buf = appendQty(buf, reserved)
		buf = append(buf, ';')
		buf = appendQty(buf, incoming)
		buf = append(buf, ';')
		buf = appendQty(buf, onHand-reserved)
		buf = append(buf, ";14-05-2024 06:00\r\n"...)
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// appendQty writes milli-units v as "1250,000".
func appendQty(b []byte, v int64) []byte {
	b = strconv.AppendInt(b, v/1000, 10)
	f := v % 1000
	return append(b, ',', byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10))
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
