package stock

import (
	"fmt"

	"globex/internal/decimal"
)

// Decimal separators. The policy (documented on Options.Decimal):
//
//   - Thousands separators are never accepted: a value with both ',' and '.'
//     ("1.234,50") or with a separator twice ("1.234.567") is a bad value.
//   - With Options.Decimal set, only that separator is accepted; the other
//     one makes the value bad ("1.234" with decimal ',' may be 1234 written
//     with digit grouping, so it is refused, not guessed).
//   - Automatic (the default): the file must use one separator throughout;
//     the first unambiguous value decides. A value like "1.234" or "5,000"
//     (1-3 digits, separator, exactly 3 digits) could be a grouped integer, so
//     it decides nothing; if the whole file holds only such values the file
//     is refused and the operator asked to configure the separator. Values
//     themselves never change meaning with the decision: "5,000" is 5 under
//     either reading that is accepted, because grouping is never accepted.

type numErr struct{ msg string }

func (e *numErr) Error() string { return e.msg }

var (
	errNumSyntax   = &numErr{"is not a number"}
	errNumGrouping = &numErr{"has a thousands separator; export quantities without digit grouping"}
	errNumRange    = &numErr{"has more than 18 digits"}
	errNumTrailing = &numErr{"ends with a decimal separator"}
)

// numInfo describes the separator a parsed value used.
type numInfo struct {
	sep       byte // 0, ',' or '.'
	ambiguous bool // could be an integer with digit grouping ("1.234")
}

// parseNum parses a quantity from b: optional surrounding spaces, an
// optional sign, digits and at most one ',' or '.'. An empty field is 0.
// When exp is true an exponent ("1.5E-3", as XLSX raw values have) is
// accepted too. It does not allocate.
func parseNum(b []byte, exp bool) (decimal.Dec, numInfo, error) {
	var info numInfo
	b = trimNum(b)
	if len(b) == 0 {
		return decimal.Dec{}, info, nil
	}
	if d, info, ok := parseNumShort(b); ok {
		return d, info, nil
	}
	return parseNumSlow(b, exp)
}

// parseNumShort is the fast path of parseNum for a trimmed, non-empty value
// of at most 18 bytes (so at most 18 digits: no range error is possible)
// that is an optional sign, digits and at most one separator followed by
// digits. ok is false for anything else, which parseNumSlow then parses.
func parseNumShort(b []byte) (decimal.Dec, numInfo, bool) {
	var info numInfo
	if len(b) > 18 {
		return decimal.Dec{}, info, false
	}
	j := 0
	neg := false
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		j = 1
	}
	var coef int64
	k := j
	for k < len(b) && b[k]-'0' < 10 {
		coef = coef*10 + int64(b[k]-'0')
		k++
	}
	intDigits, frac := k-j, 0
	if k < len(b) && (b[k] == ',' || b[k] == '.') {
		info.sep = b[k]
		k++
		f0 := k
		for k < len(b) && b[k]-'0' < 10 {
			coef = coef*10 + int64(b[k]-'0')
			k++
		}
		frac = k - f0
		if frac == 0 {
			return decimal.Dec{}, info, false
		}
	} else if intDigits == 0 {
		return decimal.Dec{}, info, false
	}
	if k != len(b) {
		return decimal.Dec{}, info, false
	}
	info.ambiguous = info.sep != 0 && frac == 3 && intDigits >= 1 && intDigits <= 3 && b[j] != '0'
	if neg {
		coef = -coef
	}
	return decimal.New(coef, frac), info, true
}

// parseNumSlow is parseNum for a trimmed, non-empty value.
func parseNumSlow(b []byte, exp bool) (decimal.Dec, numInfo, error) {
	var info numInfo
	i := 0
	neg := false
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		i++
	}
	var coef int64
	sig, intDigits, frac := 0, 0, 0
	firstInt := byte(0)
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			if info.sep != 0 {
				frac++
			} else {
				if intDigits == 0 {
					firstInt = c
				}
				intDigits++
			}
			if coef == 0 && c == '0' {
				if info.sep != 0 && frac > decimal.MaxScale {
					return decimal.Dec{}, info, errNumRange
				}
				continue
			}
			sig++
			if sig > 18 || frac > decimal.MaxScale {
				return decimal.Dec{}, info, errNumRange
			}
			coef = coef*10 + int64(c-'0')
		case c == ',' || c == '.':
			if info.sep != 0 {
				return decimal.Dec{}, info, errNumGrouping
			}
			info.sep = c
		case exp && (c == 'e' || c == 'E') && (intDigits > 0 || frac > 0):
			return applyExp(coef, frac, neg, b[i+1:])
		default:
			return decimal.Dec{}, info, errNumSyntax
		}
	}
	if intDigits == 0 && frac == 0 {
		return decimal.Dec{}, info, errNumSyntax
	}
	if info.sep != 0 && frac == 0 {
		return decimal.Dec{}, info, errNumTrailing
	}
	info.ambiguous = info.sep != 0 && frac == 3 && intDigits >= 1 && intDigits <= 3 && firstInt != '0'
	if neg {
		coef = -coef
	}
	return decimal.New(coef, frac), info, nil
}

// applyExp returns coef×10^-frac×10^e for the exponent text e.
func applyExp(coef int64, frac int, neg bool, e []byte) (decimal.Dec, numInfo, error) {
	info := numInfo{sep: '.'}
	eneg := false
	if len(e) > 0 && (e[0] == '-' || e[0] == '+') {
		eneg = e[0] == '-'
		e = e[1:]
	}
	if len(e) == 0 || len(e) > 3 {
		return decimal.Dec{}, info, errNumSyntax
	}
	x := 0
	for _, c := range e {
		if c < '0' || c > '9' {
			return decimal.Dec{}, info, errNumSyntax
		}
		x = x*10 + int(c-'0')
	}
	if eneg {
		frac += x
	} else {
		frac -= x
	}
	for frac < 0 {
		if coef > (1<<63-1)/10 {
			return decimal.Dec{}, info, errNumRange
		}
		coef *= 10
		frac++
	}
	for frac > decimal.MaxScale && coef%10 == 0 && coef != 0 {
		coef /= 10
		frac--
	}
	if coef == 0 {
		frac = 0
	}
	if frac > decimal.MaxScale {
		return decimal.Dec{}, info, errNumRange
	}
	if neg {
		coef = -coef
	}
	return decimal.New(coef, frac), info, nil
}

// sepTracker enforces the decimal separator policy over one file.
type sepTracker struct {
	fixed   byte // configured separator, or 0 for automatic
	decided byte // separator decided by an unambiguous value
	decLine int
	decVal  string
	// first ambiguous example per separator (index 0 ',', 1 '.')
	ambLine [2]int
	ambCol  [2]string
	ambVal  [2]string
	// rec, when set, makes check record the block's values in rec and
	// accept them all (see sepSummary).
	rec *sepSummary
}

// sepSummary records what a block of rows, parsed ahead of the rows
// before it, says about the decimal separator: which separators occur, the
// first unambiguous value of each, and the first ambiguous value that
// comes before it. sepTracker.apply then decides, in file order, whether
// the block's parse stands (the block is consistent with the file so far)
// or the block must be parsed again with the file's tracker.
type sepSummary struct {
	seen      [2]bool
	unambLine [2]int
	unambVal  [2]string
	ambLine   [2]int
	ambCol    [2]string
	ambVal    [2]string
}

func (s *sepSummary) record(info numInfo, line int, col string, raw []byte) {
	i := sepIndex(info.sep)
	s.seen[i] = true
	switch {
	case s.unambLine[i] != 0:
	case !info.ambiguous:
		s.unambLine[i], s.unambVal[i] = line, string(raw)
	case s.ambLine[i] == 0:
		s.ambLine[i], s.ambCol[i], s.ambVal[i] = line, col, string(raw)
	}
}

// apply takes a block's summary into the tracker, exactly as checking the
// block's values one by one would, and reports true; it reports false (and
// changes nothing) when some value of the block would be refused, or when
// it cannot tell, so that the block is parsed again value by value.
func (t *sepTracker) apply(s *sepSummary) bool {
	if t.fixed != 0 {
		return true // checked by the block's parser: no state
	}
	switch {
	case !s.seen[0] && !s.seen[1]:
		return true
	case s.seen[0] && s.seen[1]:
		return false
	}
	i := 0
	if s.seen[1] {
		i = 1
	}
	sep := ",."[i]
	if t.decided != 0 {
		return t.decided == sep
	}
	if t.ambLine[1-i] != 0 {
		return false
	}
	if s.ambLine[i] != 0 && t.ambLine[i] == 0 {
		t.ambLine[i], t.ambCol[i], t.ambVal[i] = s.ambLine[i], s.ambCol[i], s.ambVal[i]
	}
	if s.unambLine[i] != 0 {
		t.decided, t.decLine, t.decVal = sep, s.unambLine[i], s.unambVal[i]
	}
	return true
}

func sepIndex(c byte) int {
	if c == ',' {
		return 0
	}
	return 1
}

// check validates the separator of one parsed value and returns a message
// for a bad value, or "".
func (t *sepTracker) check(info numInfo, line int, col string, raw []byte) string {
	if info.sep == 0 {
		return ""
	}
	if t.rec != nil && t.fixed == 0 {
		t.rec.record(info, line, col, raw)
		return ""
	}
	if t.fixed != 0 {
		if info.sep != t.fixed {
			return fmt.Sprintf("has %q, but the decimal separator is configured as %q (thousands separators are not supported)", info.sep, t.fixed)
		}
		return ""
	}
	if t.decided != 0 {
		if info.sep != t.decided {
			return fmt.Sprintf("uses %q as decimal separator, but line %d (%q) uses %q; a file must use one separator and no thousands separators",
				info.sep, t.decLine, t.decVal, t.decided)
		}
		return ""
	}
	other := 1 - sepIndex(info.sep)
	if t.ambLine[other] != 0 {
		return fmt.Sprintf("uses %q, but line %d column %q (%q) uses %q; a file must use one decimal separator and no thousands separators",
			info.sep, t.ambLine[other], t.ambCol[other], t.ambVal[other], ",."[other])
	}
	if info.ambiguous {
		if i := sepIndex(info.sep); t.ambLine[i] == 0 {
			t.ambLine[i], t.ambCol[i], t.ambVal[i] = line, col, string(raw)
		}
		return ""
	}
	t.decided, t.decLine, t.decVal = info.sep, line, string(raw)
	return ""
}

// finish returns an error when the file's decimal separator stayed
// ambiguous.
func (t *sepTracker) finish(unit string) error {
	if t.fixed != 0 || t.decided != 0 {
		return nil
	}
	for i, l := range t.ambLine {
		if l != 0 {
			return fmt.Errorf("%s %d, column %q: %q could be a decimal number or an integer with a thousands separator, and no other value in the file tells which; set the decimal separator (',' or '.') for this exchange",
				unit, l, t.ambCol[i], t.ambVal[i])
		}
	}
	return nil
}
