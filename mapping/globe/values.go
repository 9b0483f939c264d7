package globe

import (
	"bytes"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"globex/internal/decimal"
)

// Flag is a yes/no value of an export that may also be absent.
type Flag uint8

const (
	// Unset means the element was absent or empty.
	Unset Flag = iota
	// No is a false value ("0" or "false").
	No
	// Yes is a true value ("1" or "true").
	Yes
)

// True reports whether f is Yes.
func (f Flag) True() bool { return f == Yes }

// String returns "", "0" or "1".
func (f Flag) String() string {
	switch f {
	case No:
		return "0"
	case Yes:
		return "1"
	}
	return ""
}

var (
	errBool = errors.New("not a boolean (want 0, 1, true or false)")
	errDate = errors.New("not a date (want YYYY-MM-DD, optionally with a time)")
	errInt  = errors.New("not an integer")
)

// trim removes leading and trailing white space as bytes.TrimSpace does,
// returning at once in the common case of nothing to trim.
func trim(b []byte) []byte {
	if len(b) == 0 || b[0] > ' ' && b[0] < utf8.RuneSelf && b[len(b)-1] > ' ' && b[len(b)-1] < utf8.RuneSelf {
		return b
	}
	return bytes.TrimSpace(b)
}

// parseFlag reads 0/1/true/false (case-insensitive); empty is Unset.
func parseFlag(b []byte) (Flag, error) {
	b = trim(b)
	switch len(b) {
	case 0:
		return Unset, nil
	case 1:
		switch b[0] {
		case '1':
			return Yes, nil
		case '0':
			return No, nil
		}
	case 4:
		if bytes.EqualFold(b, []byte("true")) {
			return Yes, nil
		}
	case 5:
		if bytes.EqualFold(b, []byte("false")) {
			return No, nil
		}
	}
	return Unset, errBool
}

// parseDec reads a decimal with a point; empty is (zero, false).
func parseDec(b []byte) (decimal.Dec, bool, error) {
	b = trim(b)
	if len(b) == 0 {
		return decimal.Dec{}, false, nil
	}
	if d, ok := fastDec(b); ok {
		return d, true, nil
	}
	d, err := decimal.Parse(string(b))
	return d, err == nil, err
}

// fastDec reads the common case of a decimal without allocating: up to 18
// bytes of digits with at most one inner or leading point and an optional
// minus sign. It returns ok=false for anything else, which decimal.Parse
// then judges; for the inputs it accepts it gives the same value.
func fastDec(b []byte) (decimal.Dec, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg = true
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 || b[len(b)-1] == '.' {
		return decimal.Dec{}, false
	}
	var coef int64
	scale, digits := 0, 0
	dot := false
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			coef = coef*10 + int64(c-'0')
			digits++
			if dot {
				scale++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return decimal.Dec{}, false
		}
	}
	if digits == 0 {
		return decimal.Dec{}, false
	}
	if neg {
		coef = -coef
	}
	return decimal.New(coef, scale), true
}

// parseInt reads a small non-negative or negative integer; empty is 0.
func parseInt(b []byte) (int, error) {
	b = trim(b)
	if len(b) == 0 {
		return 0, nil
	}
	neg := false
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 9 {
		return 0, errInt
	}
	n, ok := digits(b)
	if !ok {
		return 0, errInt
	}
	if neg {
		n = -n
	}
	return n, nil
}

// parseDate reads YYYY-MM-DD, optionally followed by 'T' or ' ' and
// HH:MM[:SS[.fraction]] and an optional 'Z' or ±HH:MM zone. A date without a
// zone is taken as UTC. Empty is the zero time.
func parseDate(b []byte) (time.Time, error) {
	b = trim(b)
	if len(b) == 0 {
		return time.Time{}, nil
	}
	if len(b) < 10 || b[4] != '-' || b[7] != '-' {
		return time.Time{}, errDate
	}
	y, ok1 := digits(b[0:4])
	m, ok2 := digits(b[5:7])
	d, ok3 := digits(b[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return time.Time{}, errDate
	}
	rest := b[10:]
	var hh, mm, ss, ns int
	loc := time.UTC
	if len(rest) > 0 {
		if rest[0] != 'T' && rest[0] != ' ' || len(rest) < 6 || rest[3] != ':' {
			return time.Time{}, errDate
		}
		var okh, okm bool
		hh, okh = digits(rest[1:3])
		mm, okm = digits(rest[4:6])
		if !okh || !okm || hh > 24 || mm > 59 {
			return time.Time{}, errDate
		}
		rest = rest[6:]
		if len(rest) >= 3 && rest[0] == ':' {
			var oks bool
			ss, oks = digits(rest[1:3])
			if !oks || ss > 60 {
				return time.Time{}, errDate
			}
			rest = rest[3:]
			if len(rest) > 1 && rest[0] == '.' {
				k := 1
				scale := 100000000
				for k < len(rest) && rest[k] >= '0' && rest[k] <= '9' {
					ns += int(rest[k]-'0') * scale
					scale /= 10
					k++
				}
				if k == 1 {
					return time.Time{}, errDate
				}
				rest = rest[k:]
			}
		}
		switch {
		case len(rest) == 0:
		case len(rest) == 1 && rest[0] == 'Z':
		case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
			zh, ok1 := digits(rest[1:3])
			zm, ok2 := digits(rest[4:6])
			if !ok1 || !ok2 || zh > 14 || zm > 59 {
				return time.Time{}, errDate
			}
			off := zh*3600 + zm*60
			if rest[0] == '-' {
				off = -off
			}
			loc = time.FixedZone("", off)
		default:
			return time.Time{}, errDate
		}
	}
	t := time.Date(y, time.Month(m), d, hh, mm, ss, ns, loc)
	return t.UTC(), nil
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// ValueError reports an element or attribute whose value cannot be read:
// a price that is not a decimal, a date that is not a date. Callers throw the
// whole export away, as for a SyntaxError.
type ValueError struct {
	Line, Col int    // position of the end tag (or start tag for attributes)
	Record    string // e.g. `Item "ART-001"`
	Field     string // path below the record, e.g. "Sales/Price/Value" or "Discount@number"
	Value     string // the offending text, cut to 64 bytes
	Err       error
}

// Error implements error.
func (e *ValueError) Error() string {
	return fmt.Sprintf("globe: line %d, column %d: %s: %s %q: %v", e.Line, e.Col, e.Record, e.Field, e.Value, e.Err)
}

// Unwrap returns the cause.
func (e *ValueError) Unwrap() error { return e.Err }

func cut64(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "…"
	}
	return string(b)
}

// availability reads Availability/DateStart or DateEnd into from or to;
// other children are ignored. A bad date is reported through fail.
func availability(child elem, txt []byte, from, to *time.Time, fail func(error)) {
	if child != eDateStart && child != eDateEnd {
		return
	}
	t, err := parseDate(txt)
	if err != nil {
		fail(err)
	}
	if child == eDateStart {
		*from = t
	} else {
		*to = t
	}
}
