// Package decimal is an exact, allocation-free decimal number for money,
// quantities and stock levels. A Dec is coef × 10^-scale with an int64
// coefficient: 18 significant digits, which covers every amount Globe stores
// (its columns are float(53) or numeric(20,6) at most). Operations that would
// overflow return an error instead of rounding silently; binary floats are
// never involved.
package decimal

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
)

// MaxScale is the largest number of digits after the point a Dec keeps.
const MaxScale = 18

// Dec is an exact decimal value. The zero value is 0.
type Dec struct {
	coef  int64
	scale uint8
}

// ErrSyntax is returned for text that is not a plain decimal number.
var ErrSyntax = errors.New("not a decimal number")

// ErrRange is returned when a value or a result does not fit in 18 digits.
var ErrRange = errors.New("decimal out of range")

var pow10 = [...]int64{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
	1000000000, 10000000000, 100000000000, 1000000000000, 10000000000000,
	100000000000000, 1000000000000000, 10000000000000000, 100000000000000000,
	1000000000000000000}

// New returns coef × 10^-scale.
func New(coef int64, scale int) Dec {
	if scale < 0 || scale > MaxScale {
		panic("decimal: scale out of range")
	}
	return Dec{coef: coef, scale: uint8(scale)}
}

// FromInt returns the integer n.
func FromInt(n int64) Dec { return Dec{coef: n} }

// Parse reads a plain decimal with a point: an optional sign, digits, and an
// optional '.' followed by digits ("12", "-0.5", "4.95", ".5"). Exponents,
// commas, spaces, thousands separators, "NaN" and "Inf" are refused, so "1,5"
// and "1e3" never pass as numbers.
func Parse(s string) (Dec, error) { return parse(s, '.') }

// ParseComma is Parse with ',' as the decimal separator instead of '.'
// (Dutch CSV exports: "12,50").
func ParseComma(s string) (Dec, error) { return parse(s, ',') }

func parse(s string, sep byte) (Dec, error) {
	if len(s) == 0 {
		return Dec{}, fmt.Errorf("%w: empty", ErrSyntax)
	}
	i := 0
	neg := false
	switch s[0] {
	case '-':
		neg = true
		i++
	case '+':
		i++
	}
	var coef uint64
	var scale int
	digits := 0
	seenSep := false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if seenSep {
				scale++
				if scale > MaxScale {
					return Dec{}, fmt.Errorf("%w: more than %d decimals in %q", ErrRange, MaxScale, s)
				}
			}
			if coef == 0 && c == '0' && !seenSep {
				digits = max(digits, 1)
				continue
			}
			hi, lo := bits.Mul64(coef, 10)
			lo, carry := bits.Add64(lo, uint64(c-'0'), 0)
			if hi != 0 || carry != 0 || lo > math.MaxInt64 {
				return Dec{}, fmt.Errorf("%w: %q has too many digits", ErrRange, s)
			}
			coef = lo
			digits++
		case c == sep && !seenSep:
			seenSep = true
		default:
			return Dec{}, fmt.Errorf("%w: %q", ErrSyntax, s)
		}
	}
	if digits == 0 && scale == 0 {
		return Dec{}, fmt.Errorf("%w: %q", ErrSyntax, s)
	}
	if seenSep && scale == 0 {
		// "12." is not a number a person or a schema expects.
		return Dec{}, fmt.Errorf("%w: %q ends with a separator", ErrSyntax, s)
	}
	v := int64(coef)
	if neg {
		v = -v
	}
	return Dec{coef: v, scale: uint8(scale)}, nil
}

// MustParse is Parse for constants in code and tests; it panics on error.
func MustParse(s string) Dec {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// Scale is the number of digits after the point.
func (d Dec) Scale() int { return int(d.scale) }

// Coef is the unscaled coefficient.
func (d Dec) Coef() int64 { return d.coef }

// Sign returns -1, 0 or +1.
func (d Dec) Sign() int {
	switch {
	case d.coef < 0:
		return -1
	case d.coef > 0:
		return 1
	}
	return 0
}

// IsZero reports whether d is 0.
func (d Dec) IsZero() bool { return d.coef == 0 }

// Neg returns -d.
func (d Dec) Neg() Dec { return Dec{coef: -d.coef, scale: d.scale} }

// rescale returns d with the larger scale s (s >= d.scale).
func (d Dec) rescale(s uint8) (Dec, error) {
	if s == d.scale {
		return d, nil
	}
	m := pow10[s-d.scale]
	hi, lo := bits.Mul64(uint64(abs(d.coef)), uint64(m))
	if hi != 0 || lo > math.MaxInt64 {
		return Dec{}, ErrRange
	}
	v := int64(lo)
	if d.coef < 0 {
		v = -v
	}
	return Dec{coef: v, scale: s}, nil
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func align(a, b Dec) (Dec, Dec, error) {
	s := max(a.scale, b.scale)
	a, err := a.rescale(s)
	if err != nil {
		return a, b, err
	}
	b, err = b.rescale(s)
	return a, b, err
}

// Add returns a+b exactly.
func (a Dec) Add(b Dec) (Dec, error) {
	a, b, err := align(a, b)
	if err != nil {
		return Dec{}, err
	}
	c := a.coef + b.coef
	if (c > a.coef) != (b.coef > 0) {
		return Dec{}, ErrRange
	}
	return Dec{coef: c, scale: a.scale}, nil
}

// Sub returns a-b exactly.
func (a Dec) Sub(b Dec) (Dec, error) { return a.Add(b.Neg()) }

// Mul returns a×b exactly; the scale is the sum of both scales, reduced by
// dropping trailing zeros when it would exceed MaxScale.
func (a Dec) Mul(b Dec) (Dec, error) {
	hi, lo := bits.Mul64(uint64(abs(a.coef)), uint64(abs(b.coef)))
	if hi != 0 || lo > math.MaxInt64 {
		return Dec{}, ErrRange
	}
	v := int64(lo)
	if (a.coef < 0) != (b.coef < 0) {
		v = -v
	}
	s := int(a.scale) + int(b.scale)
	for s > MaxScale {
		if v%10 != 0 {
			return Dec{}, ErrRange
		}
		v /= 10
		s--
	}
	return Dec{coef: v, scale: uint8(s)}, nil
}

// Shift returns d × 10^-n exactly (n ≥ 0): Shift(2) divides by 100, which is
// how a percentage becomes a factor.
func (d Dec) Shift(n int) (Dec, error) {
	s := int(d.scale) + n
	v := d.coef
	for s > MaxScale {
		if v%10 != 0 {
			return Dec{}, ErrRange
		}
		v /= 10
		s--
	}
	return Dec{coef: v, scale: uint8(s)}, nil
}

// Round returns d rounded half away from zero to at most places decimals.
func (d Dec) Round(places int) Dec {
	if places < 0 || int(d.scale) <= places {
		return d
	}
	drop := int(d.scale) - places
	m := pow10[drop]
	q, r := d.coef/m, d.coef%m
	if abs(r)*2 >= m {
		if d.coef < 0 {
			q--
		} else {
			q++
		}
	}
	return Dec{coef: q, scale: uint8(places)}
}

// Normalize drops trailing zeros after the point ("4.50" becomes "4.5",
// "12.000" becomes "12").
func (d Dec) Normalize() Dec {
	for d.scale > 0 && d.coef%10 == 0 {
		d.coef /= 10
		d.scale--
	}
	return d
}

// Cmp returns -1, 0 or +1 as a is less than, equal to or greater than b.
func (a Dec) Cmp(b Dec) int {
	x, y, err := align(a, b)
	if err != nil {
		// Out of int64 range after alignment: compare through float only for
		// ordering, which is exact enough at such a magnitude gap.
		fa, fb := a.Float64(), b.Float64()
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	}
	switch {
	case x.coef < y.coef:
		return -1
	case x.coef > y.coef:
		return 1
	}
	return 0
}

// Equal reports whether a and b are the same number ("4.5" equals "4.50").
func (a Dec) Equal(b Dec) bool { return a.Cmp(b) == 0 }

// Float64 is for display and statistics only, never for money.
func (d Dec) Float64() float64 { return float64(d.coef) / float64(pow10[d.scale]) }

// String formats d with a point and exactly Scale() decimals; no exponent,
// no thousands separator.
func (d Dec) String() string {
	var buf [24]byte
	return string(d.AppendTo(buf[:0]))
}

// AppendTo appends the String form of d to b without allocating.
func (d Dec) AppendTo(b []byte) []byte {
	if d.coef < 0 {
		b = append(b, '-')
	}
	var tmp [20]byte
	digits := strconv.AppendUint(tmp[:0], uint64(abs(d.coef)), 10)
	if d.coef == math.MinInt64 {
		digits = []byte("9223372036854775808")
	}
	s := int(d.scale)
	if len(digits) <= s {
		b = append(b, '0', '.')
		for i := len(digits); i < s; i++ {
			b = append(b, '0')
		}
		return append(b, digits...)
	}
	b = append(b, digits[:len(digits)-s]...)
	if s > 0 {
		b = append(b, '.')
		b = append(b, digits[len(digits)-s:]...)
	}
	return b
}

// MarshalJSON writes the value as a JSON string ("4.95"): feeds never carry
// binary floats.
func (d Dec) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 24)
	b = append(b, '"')
	b = d.AppendTo(b)
	return append(b, '"'), nil
}

// UnmarshalJSON accepts a JSON string or a JSON number, both in Parse syntax.
func (d *Dec) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		uq, err := strconv.Unquote(s)
		if err != nil {
			return fmt.Errorf("%w: %s", ErrSyntax, s)
		}
		s = uq
	}
	v, err := Parse(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
