package stock

import (
	"errors"
	"time"
)

var errDate = errors.New("is not a date (expected dd-mm-yyyy, dd/mm/yyyy, dd.mm.yyyy, ddmmyyyy, yyyy-mm-dd or yyyymmdd, optionally with hh:mm[:ss], or RFC 3339)")

// parseDate reads the date forms Globe exports and Dutch Windows tools
// write. Day-first forms are European (never month-first). A time without
// a zone is in loc. An 8-digit form is ddmmyyyy, or yyyymmdd when only
// that reading is a valid date between 1900 and 2999.
func parseDate(b []byte, loc *time.Location) (time.Time, error) {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return time.Time{}, errDate
	}
	dp, tp := b, []byte(nil)
	for i, c := range b {
		if c == ' ' || c == 'T' {
			dp, tp = b[:i], b[i+1:]
			for len(tp) > 0 && tp[0] == ' ' {
				tp = tp[1:]
			}
			break
		}
	}
	y, m, d, ok := parseDMY(dp)
	if !ok {
		return time.Time{}, errDate
	}
	hh, mm, ss, nsec := 0, 0, 0, 0
	zone := loc
	if len(tp) > 0 {
		var rest []byte
		if hh, mm, ss, nsec, rest, ok = parseClock(tp); !ok {
			return time.Time{}, errDate
		}
		if len(rest) > 0 {
			if zone, ok = parseZone(rest); !ok {
				return time.Time{}, errDate
			}
		}
	}
	t := time.Date(y, time.Month(m), d, hh, mm, ss, nsec, zone)
	if t.Day() != d || int(t.Month()) != m {
		return time.Time{}, errDate
	}
	return t, nil
}

func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 4 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func validYMD(y, m, d int) bool {
	if y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 {
		return false
	}
	return d <= time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func parseDMY(b []byte) (y, m, d int, ok bool) {
	if len(b) == 8 {
		if _, digits := atoi(b[:4]); digits {
			d1, _ := atoi(b[0:2])
			m1, _ := atoi(b[2:4])
			y1, ok1 := atoi(b[4:8])
			y2, _ := atoi(b[0:4])
			m2, _ := atoi(b[4:6])
			d2, ok2 := atoi(b[6:8])
			v1 := ok1 && validYMD(y1, m1, d1)
			v2 := ok2 && validYMD(y2, m2, d2)
			switch {
			case v1 && !v2:
				return y1, m1, d1, true
			case v2 && !v1:
				return y2, m2, d2, true
			}
			return 0, 0, 0, false
		}
	}
	var parts [3][]byte
	n, start := 0, 0
	var sep byte
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '-' || b[i] == '/' || b[i] == '.' {
			if n == 3 {
				return 0, 0, 0, false
			}
			if i < len(b) {
				if sep == 0 {
					sep = b[i]
				} else if b[i] != sep {
					return 0, 0, 0, false
				}
			}
			parts[n] = b[start:i]
			n++
			start = i + 1
		}
	}
	if n != 3 {
		return 0, 0, 0, false
	}
	a, ok1 := atoi(parts[0])
	mo, ok2 := atoi(parts[1])
	c, ok3 := atoi(parts[2])
	if !ok1 || !ok2 || !ok3 {
		return 0, 0, 0, false
	}
	if len(parts[0]) == 4 {
		y, m, d = a, mo, c
	} else if len(parts[2]) == 4 {
		y, m, d = c, mo, a
	} else {
		return 0, 0, 0, false
	}
	if !validYMD(y, m, d) {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

// parseClock reads hh:mm[:ss[.fff]] and returns what follows.
func parseClock(b []byte) (hh, mm, ss, nsec int, rest []byte, ok bool) {
	num := func(i int) (int, bool) {
		if len(b) < i+2 {
			return 0, false
		}
		return atoi(b[i : i+2])
	}
	if hh, ok = num(0); !ok || len(b) < 5 || b[2] != ':' {
		// accept a one-digit hour ("6:00")
		if len(b) >= 4 && b[1] == ':' {
			b = append([]byte{'0'}, b...)
			return parseClock(b)
		}
		return 0, 0, 0, 0, nil, false
	}
	if mm, ok = num(3); !ok {
		return 0, 0, 0, 0, nil, false
	}
	rest = b[5:]
	if len(rest) >= 3 && rest[0] == ':' {
		if ss, ok = atoi(rest[1:3]); !ok {
			return 0, 0, 0, 0, nil, false
		}
		rest = rest[3:]
		if len(rest) > 1 && (rest[0] == '.' || rest[0] == ',') {
			i, scale := 1, 100000000
			for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
				nsec += int(rest[i]-'0') * scale
				scale /= 10
			}
			rest = rest[i:]
		}
	}
	if hh > 23 || mm > 59 || ss > 59 {
		return 0, 0, 0, 0, nil, false
	}
	return hh, mm, ss, nsec, rest, true
}

// parseZone reads "Z" or ±hh:mm / ±hhmm.
func parseZone(b []byte) (*time.Location, bool) {
	if len(b) == 1 && (b[0] == 'Z' || b[0] == 'z') {
		return time.UTC, true
	}
	if len(b) != 6 && len(b) != 5 || (b[0] != '+' && b[0] != '-') {
		return nil, false
	}
	h, ok1 := atoi(b[1:3])
	mb := b[3:]
	if len(b) == 6 {
		if b[3] != ':' {
			return nil, false
		}
		mb = b[4:]
	}
	m, ok2 := atoi(mb)
	if !ok1 || !ok2 || h > 14 || m > 59 {
		return nil, false
	}
	off := (h*60 + m) * 60
	if b[0] == '-' {
		off = -off
	}
	return time.FixedZone("", off), true
}

// excelSerial converts an XLSX date serial (days since 1899-12-30, or
// 1904-01-01 for 1904 workbooks; the fraction is the time of day) to a time
// in loc, without floating point.
func excelSerial(b []byte, date1904 bool, loc *time.Location) (time.Time, bool) {
	d, _, err := parseNum(b, true)
	if err != nil || d.Sign() < 0 || len(b) == 0 {
		return time.Time{}, false
	}
	scale := d.Scale()
	coef := d.Coef()
	var pow int64 = 1
	for range scale {
		pow *= 10
	}
	days := coef / pow
	if days > 400000 {
		return time.Time{}, false
	}
	fracPart := coef % pow
	// seconds of the day, rounded to the nearest second
	secs := (fracPart*86400 + pow/2) / pow
	if scale > 12 { // avoid overflow of fracPart*86400 for long fractions
		f := fracPart / (pow / 1e12)
		secs = (f*86400 + 5e11) / 1e12
	}
	base := time.Date(1899, 12, 30, 0, 0, 0, 0, loc)
	if date1904 {
		base = time.Date(1904, 1, 1, 0, 0, 0, 0, loc)
	}
	return base.AddDate(0, 0, int(days)).Add(time.Duration(secs) * time.Second), true
}

// dateCache remembers the last parsed value: exports repeat one measuring
// date on every row.
type dateCache struct {
	raw []byte
	t   time.Time
	err error
}

func (c *dateCache) parse(b []byte, loc *time.Location, xlsx, date1904 bool) (time.Time, error) {
	if c.raw != nil && string(b) == string(c.raw) {
		return c.t, c.err
	}
	c.raw = append(c.raw[:0], b...)
	c.t, c.err = parseDate(b, loc)
	if c.err != nil && xlsx {
		if t, ok := excelSerial(b, date1904, loc); ok {
			c.t, c.err = t, nil
		}
	}
	return c.t, c.err
}
