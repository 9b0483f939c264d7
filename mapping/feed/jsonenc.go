package feed

import (
	"math/bits"
	"slices"
	"unicode/utf8"

	"globex/internal/decimal"
)

const hexDigits = "0123456789abcdef"

// jsonSafe tells the ASCII bytes that encoding/json writes unescaped.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s as a JSON string exactly as encoding/json does
// (HTML-safe escaping of <, > and &; U+2028/U+2029 escaped; invalid UTF-8
// replaced by U+FFFD).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// jsonObj is a small helper that writes the members of one JSON object.
type jsonObj struct {
	b     []byte
	first bool
}

func openObj(b []byte) jsonObj { return jsonObj{b: append(b, '{'), first: true} }

func (o *jsonObj) name(n string) {
	if !o.first {
		o.b = append(o.b, ',')
	}
	o.first = false
	o.b = append(o.b, '"')
	o.b = append(o.b, n...)
	o.b = append(o.b, '"', ':')
}

func (o *jsonObj) str(n, v string) {
	o.name(n)
	o.b = appendJSONString(o.b, v)
}

func (o *jsonObj) strOmit(n, v string) {
	if v != "" {
		o.str(n, v)
	}
}

func (o *jsonObj) dec(n string, d decimal.Dec) {
	o.name(n)
	o.b = append(o.b, '"')
	o.b = appendDec(o.b, d)
	o.b = append(o.b, '"')
}

func (o *jsonObj) decOmit(n string, d *decimal.Dec) {
	if d != nil {
		o.dec(n, *d)
	}
}

func (o *jsonObj) boolean(n string, v bool) {
	o.name(n)
	if v {
		o.b = append(o.b, "true"...)
	} else {
		o.b = append(o.b, "false"...)
	}
}

func (o *jsonObj) strMapOmit(n string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	o.name(n)
	o.b = append(o.b, '{')
	var arr [8]string
	for i, k := range sortedKeysInto(arr[:0], m) {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = appendJSONString(o.b, k)
		o.b = append(o.b, ':')
		o.b = appendJSONString(o.b, m[k])
	}
	o.b = append(o.b, '}')
}

func (o *jsonObj) close() []byte { return append(o.b, '}') }

// sortedKeys returns the keys of m in encoding/json order (byte-wise).
func sortedKeys[V any](m map[string]V) []string {
	return sortedKeysInto(make([]string, 0, len(m)), m)
}

// sortedKeysInto is sortedKeys appending to buf: the maps of a record hold a
// handful of keys, so a caller's stack array and an insertion sort avoid the
// allocation and the generic sort per record.
func sortedKeysInto[V any](buf []string, m map[string]V) []string {
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	if len(keys) > 16 {
		slices.Sort(keys)
		return keys
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

// pow10u are the powers of ten that fit in a uint64.
var pow10u = [20]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// decDigits is the number of decimal digits of u (0 for 0).
func decDigits(u uint64) int {
	t := bits.Len64(u) * 1233 >> 12
	if u >= pow10u[t] {
		t++
	}
	return t
}

// decWords returns the text of d (as d.AppendTo writes it) in two
// little-endian words and its length, for a coefficient of at most 8
// digits and a scale of at most 7 (ok is false otherwise). It has no loop
// and no branch on the digits: the 8 digits are computed side by side in
// the lanes of one word (two lanes of 4 digits, then four of 2, then eight
// of 1), the leading zeros counted from the bits and the point inserted by
// shifts. It is no faster than appendDec's loop, but its result is in
// registers: a figMemo keeps it without reading back what was just written
// byte by byte (which stalls the CPU).
func decWords(d decimal.Dec) (w0, w1 uint64, n int, ok bool) {
	c, s := d.Coef(), d.Scale()
	neg := c < 0
	u := uint64(c)
	if neg {
		u = uint64(-c) // -MinInt64 stays out of range below
	}
	if u >= 1e8 || s > 7 {
		return 0, 0, 0, false
	}
	x := u/10000 | (u%10000)<<32                    // 4 digits in each 32-bit lane
	q := (x * 10486 >> 20) & 0x0000007F0000007F     // lane / 100 (exact below 10,000)
	x = q | (x-q*100)<<16                           // 2 digits in each 16-bit lane
	q = (x * 103 >> 10) & 0x000F000F000F000F        // lane / 10 (exact below 100)
	x = q | (x-q*10)<<8                             // a digit in each byte, the first lowest
	lz := bits.TrailingZeros64(x) / 8               // leading zero digits (8 for 0)
	lz = min(lz, 7-s)                               // keep a digit before the point
	a := (x | 0x3030303030303030) >> (8 * uint(lz)) // the digits from the first kept
	if s == 0 {
		w0, n = a, 8-lz
	} else {
		l1 := uint(8 - s - lz) // digits before the point, 1…7
		low := a & (1<<(8*l1) - 1)
		frac := a >> (8 * l1)
		w0 = low | '.'<<(8*l1) | frac<<(8*(l1+1))
		w1 = frac >> (64 - 8*(l1+1))
		n = 9 - lz
	}
	if neg {
		w0, w1 = '-'|w0<<8, w1<<8|w0>>56
		n++
	}
	return w0, w1, n, true
}

// appendDec appends d exactly as d.AppendTo does ("-0.05", "12.500"), with
// a cheaper digit loop (two digits per division) writing in place.
func appendDec(b []byte, d decimal.Dec) []byte {
	c, s := d.Coef(), d.Scale()
	if c < 0 {
		if c == -1<<63 {
			return d.AppendTo(b)
		}
		b = append(b, '-')
		c = -c
	}
	u := uint64(c)
	if s == 0 && u < 100 {
		if u < 10 {
			return append(b, byte('0'+u))
		}
		return append(b, digitPairs[2*u], digitPairs[2*u+1])
	}
	total := max(decDigits(u)-s, 1)
	if s > 0 {
		total += 1 + s
	}
	n := len(b)
	b = slices.Grow(b, total)[:n+total]
	out := b[n:]
	i := len(out)
	if s > 0 {
		for ; s >= 2; s -= 2 {
			q := u / 100
			r := u - q*100
			i -= 2
			out[i], out[i+1] = digitPairs[2*r], digitPairs[2*r+1]
			u = q
		}
		if s == 1 {
			i--
			out[i] = byte('0' + u%10)
			u /= 10
		}
		i--
		out[i] = '.'
	}
	for u >= 100 {
		q := u / 100
		r := u - q*100
		i -= 2
		out[i], out[i+1] = digitPairs[2*r], digitPairs[2*r+1]
		u = q
	}
	if u >= 10 {
		i -= 2
		out[i], out[i+1] = digitPairs[2*u], digitPairs[2*u+1]
	} else {
		i--
		out[i] = byte('0' + u)
	}
	return b
}
