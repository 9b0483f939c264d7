package stock

import (
	"bytes"
	"math"
	"math/bits"
	"math/rand/v2"

	"globex/internal/decimal"
)

// The fast path of parseBlock takes an ordinary line (no quote, exactly as
// many fields as the header, numbers that parse, dates that parse, codes
// within their limits) from the block without the splitter: one pass finds
// its delimiters, and the row is parsed from their positions. It is
// parser.row for such a line; any line it is not sure about goes to the
// splitter and parser.row, before the fast path has changed anything (see
// fastRow), so that every message, limit and decision stays theirs.

// fastOff turns the fast path off (tests and benchmarks compare the two).
var fastOff = false

// fastMaxCols bounds the columns of a file the fast path takes.
const fastMaxCols = 64

// fastState is a parser's fast path for one file.
type fastState struct {
	on    bool // the file allows the fast path (and fastOff was off)
	init  bool // setup has run
	n     int  // columns
	delim byte
	cols  colMap
	// bnd[k] is the position of the delimiter before column k (bnd[0] is
	// -1); bnd[n] is the end of the line.
	bnd [fastMaxCols + 1]int32
	// quote is the position of the first quote of the block at or after
	// the position it was looked for from (the block's length when there
	// is none), -1 before it is looked for; see fastLines.
	quote int
}

// setup prepares the fast path for the parser's file.
func (f *fastState) setup(rd *reader) {
	f.init = true
	f.n, f.delim, f.cols = len(rd.hdr), rd.delim, rd.cols
	f.on = !fastOff && !rd.xlsx && f.n >= 1 && f.n <= fastMaxCols && f.delim != '"' && f.delim != '\n' && f.delim != '\r'
	f.bnd[0] = -1
}

// split finds the delimiters of line (without its line end); the caller
// sets bnd[n]. It is false when line holds a quote or not exactly n
// fields.
func (f *fastState) split(line []byte) bool {
	n := f.n
	d := uint64(f.delim) * swarOnes
	var q uint64
	cnt := 1
	i := 0
	for ; i+8 <= len(line); i += 8 {
		w := le.Uint64(line[i:])
		q |= zeroBytes(w ^ swarQuote)
		for m := zeroBytes(w ^ d); m != 0; m &= m - 1 {
			if cnt >= n {
				return false
			}
			f.bnd[cnt] = int32(i + bits.TrailingZeros64(m)>>3)
			cnt++
		}
	}
	if i < len(line) {
		if len(line) >= 8 {
			// The last 8 bytes, without those already seen.
			base := len(line) - 8
			w := le.Uint64(line[base:])
			seen := uint64(1)<<(8*(i-base)) - 1
			q |= zeroBytes(w^swarQuote) &^ seen
			for m := zeroBytes(w^d) &^ seen; m != 0; m &= m - 1 {
				if cnt >= n {
					return false
				}
				f.bnd[cnt] = int32(base + bits.TrailingZeros64(m)>>3)
				cnt++
			}
		} else {
			for ; i < len(line); i++ {
				switch line[i] {
				case f.delim:
					if cnt >= n {
						return false
					}
					f.bnd[cnt] = int32(i)
					cnt++
				case '"':
					return false
				}
			}
		}
	}
	return q == 0 && cnt == n
}

// scanMax is how far scan looks for a line end.
const scanMax = 128

// scan looks for the line end in the first scanMax bytes of rest (reading
// whole words only): end is the position of the '\n', or -1 when it did
// not find one. ok reports that the line has n fields, whose delimiters it
// has put in bnd (bnd[n] is the caller's); it does not look for quotes
// (fastLines does). One pass finds the line end and the delimiters, eight
// bytes at a time, into bit masks: no branch depends on where the
// delimiters are.
func (f *fastState) scan(rest []byte) (end int, ok bool) {
	const nlOnes = '\n' * swarOnes
	d := uint64(f.delim) * swarOnes
	var lo, hi uint64 // delimiters by position: bytes 0-63, 64-127
	for i := uint(0); i+8 <= uint(len(rest)) && i < scanMax; i += 8 {
		w := le.Uint64(rest[i:])
		nl := zeroBytes(w ^ nlOnes)
		dw := zeroBytes(w ^ d)
		if nl != 0 {
			m := movemask(dw & (nl&-nl - 1)) // the bytes before the first '\n'
			if i < 64 {
				lo |= m << (i & 63)
			} else {
				hi |= m << (i & 63)
			}
			return int(i) + bits.TrailingZeros64(nl)>>3, f.positions(lo, hi)
		}
		if i < 64 {
			lo |= movemask(dw) << (i & 63)
		} else {
			hi |= movemask(dw) << (i & 63)
		}
	}
	return -1, false
}

// movemask gathers the high bits of the bytes of m (the form zeroBytes
// returns) into the low 8 bits, byte i to bit i.
func movemask(m uint64) uint64 {
	return (m >> 7) * 0x0102040810204080 >> 56
}

// positions puts the delimiters of lo and hi (bytes 0-63 and 64-127) into
// bnd when there are n-1.
func (f *fastState) positions(lo, hi uint64) bool {
	n := f.n
	if bits.OnesCount64(lo)+bits.OnesCount64(hi) != n-1 {
		return false
	}
	for k := 1; k < n; k++ {
		if lo != 0 {
			f.bnd[k] = int32(bits.TrailingZeros64(lo))
			lo &= lo - 1
		} else {
			f.bnd[k] = int32(64 + bits.TrailingZeros64(hi))
			hi &= hi - 1
		}
	}
	return true
}

// field returns column c (>= 0) of the line split last.
func (f *fastState) field(line []byte, c int) []byte {
	return line[f.bnd[c]+1 : f.bnd[c+1]]
}

// get is parser.get for the line split last.
func (f *fastState) get(line []byte, fl field) []byte {
	if c := f.cols[fl]; c >= 0 {
		return f.field(line, c)
	}
	return nil
}

// sameBytes is string(a) == string(b), without a call for short values.
func sameBytes(a, b []byte) bool {
	n := len(a)
	switch {
	case n != len(b):
		return false
	case n >= 8 && n <= 16:
		return le.Uint64(a) == le.Uint64(b) && le.Uint64(a[n-8:]) == le.Uint64(b[n-8:])
	case n < 8:
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	return string(a) == string(b)
}

// trimmed reports that trim leaves b as it is, for a value without white
// space or other than ASCII at either end (a test that inlines).
func trimmed(b []byte) bool {
	n := len(b)
	return n > 0 && b[0]-0x21 < 0x5f && b[n-1]-0x21 < 0x5f
}

// trimNum drops the white space parseNum drops (spaces and tabs).
func trimNum(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// parseNumFast is parseNum (exp false) for a value it can tell quickly: b
// trimmed by trimNum, empty or an optional sign, digits and at most one
// separator followed by digits, at most 18 bytes. ok is false for any
// other value.
func parseNumFast(b []byte) (decimal.Dec, numInfo, bool) {
	if len(b) == 0 {
		return decimal.Dec{}, numInfo{}, true
	}
	if len(b) <= 8 && cap(b) >= 8 {
		if coef, frac, info, ok := parse8(b); ok {
			return decimal.New(coef, frac), info, true
		}
	}
	return parseNumShort(b)
}

// parse8 is parseNumShort for 1 to 8 bytes without a sign, reading b[:8]
// (cap(b) >= 8) at once: the digits are combined without a loop.
func parse8(b []byte) (coef int64, frac int, info numInfo, ok bool) {
	l := uint(len(b))
	// The bytes of b are taken from w only: a byte loaded on its own would
	// keep the compiler from loading w in one instruction. (Shift counts
	// are masked to 63, as they are, to spare the checks for more.)
	w := le.Uint64(b[:8])
	// The l bytes at the top of t, the first in byte 8-l: the bytes below
	// become leading zeros, those after b are shifted out.
	t := (w ^ 0x3030303030303030) << ((64 - 8*l) & 63) // digits become 0-9
	if nd := (((t & swarLow7) + 0x7676767676767676) | t) & 0x8080808080808080; nd != 0 {
		if nd&(nd-1) != 0 {
			return 0, 0, info, false
		}
		q := uint(bits.TrailingZeros64(nd)) >> 3 // in t
		p := q - (8 - l)                         // in b
		c := byte(w >> ((8 * p) & 63))
		if c != ',' && c != '.' || q == 7 {
			return 0, 0, info, false
		}
		info.sep = c
		frac = int(7 - q)
		info.ambiguous = frac == 3 && p >= 1 && p <= 3 && byte(w) != '0'
		// Drop the separator: the bytes before it (the low q+1 of t, with
		// it) move up one.
		low := ^uint64(0) >> ((56 - 8*q) & 63)
		t = t&^low | (t<<8)&low
	}
	t = t*10 + t>>8
	t = ((t&0x000000FF000000FF)*(100+1000000<<32) + (t>>16&0x000000FF000000FF)*(1+10000<<32)) >> 32
	return int64(t), frac, info, true
}

// settled reports that check(info, …) for a value with separator sep
// (not 0) returns "" and changes nothing.
func (t *sepTracker) settled(sep byte) bool {
	if t.fixed != 0 {
		return sep == t.fixed
	}
	if t.rec != nil {
		i := sepIndex(sep)
		return t.rec.seen[i] && t.rec.unambLine[i] != 0
	}
	return t.decided == sep
}

// fastNum parses the quantity field fl of the line split last; ok is
// false when parseNumFast cannot tell, chk true when its separator is to be
// checked.
func (p *parser) fastNum(line []byte, fl field) (d decimal.Dec, chk, ok bool) {
	b := p.fast.field(line, p.fast.cols[fl])
	var info numInfo
	if n := len(b); uint(n-1) < 8 && cap(b) >= 8 && b[0]-'0' < 10 && b[n-1]-'0' < 10 {
		// No white space, no sign: parse8 tells.
		var coef int64
		var frac int
		if coef, frac, info, ok = parse8(b); ok {
			d = decimal.New(coef, frac)
		}
	}
	if !ok {
		d, info, ok = parseNumFast(trimNum(b))
	}
	return d, ok && info.sep != 0 && !p.sep.settled(info.sep), ok
}

// fastCheckOrder is the order in which row reads quantities.
var fastCheckOrder = [...]field{fOnHand, fFree, fReserved, fIncoming, fSafety}

// fastCheck checks the separators of the quantities in pend (by field
// bit), in row's order, as num does; it is true when one is bad (and so
// the row).
func (p *parser) fastCheck(line []byte, ln int, pend uint16) bool {
	for _, fl := range fastCheckOrder {
		if pend&(1<<fl) == 0 {
			continue
		}
		raw := p.fast.field(line, p.fast.cols[fl])
		val := trimNum(raw)
		_, info, _ := parseNumFast(val)
		if msg := p.sep.check(info, ln, p.colName(fl), val); msg != "" {
			p.bad(ln, p.colName(fl), string(raw), msg)
			return true
		}
	}
	return false
}

func b2u(b bool) uint16 {
	if b {
		return 1
	}
	return 0
}

// fastLines parses the lines of sp's block with fastRow from sp's
// position, until the end of the block or a line fastRow leaves to the
// splitter, or until a row ends the file (p.out.fatal).
func (p *parser) fastLines(sp *splitter) {
	f := &p.fast
	data := sp.data[:len(sp.data):len(sp.data)] // parse8 reads within the block
	// The next quote: a line before it has none. It is looked for again
	// only once the splitter has read past it: a block of lines left to
	// the splitter one by one is not searched again for every line.
	if f.quote < sp.pos {
		f.quote = len(data)
		if i := bytes.IndexByte(data[sp.pos:], '"'); i >= 0 {
			f.quote = sp.pos + i
		}
	}
	quote := f.quote
	for sp.pos < len(data) {
		rest := data[sp.pos:]
		var line []byte
		adv, split := 0, false
		if end, ok := f.scan(rest); end >= 0 {
			adv, line, split = end+1, rest[:end], ok
			if quote < sp.pos+end {
				return // the splitter reads quotes
			}
		} else {
			adv, line = len(rest), rest
			if i := bytes.IndexByte(rest, '\n'); i >= 0 {
				adv, line = i+1, rest[:i]
			}
		}
		if adv > sp.max {
			return // the splitter refuses it
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) > 0 {
			if !split && !f.split(line) {
				return
			}
			f.bnd[f.n] = int32(len(line))
			if !p.fastRow(line, sp.numLine+1) {
				return
			}
		}
		sp.pos += adv
		sp.numLine++
		if p.out.fatal != nil {
			return
		}
	}
}

// fastRow is parser.row for line (the record's line without its line end,
// split by fastState.scan or split) when it is sure to find what row would;
// it is false, having changed nothing, otherwise.
func (p *parser) fastRow(line []byte, ln int) bool {
	f := &p.fast
	if uint64(ln) > math.MaxUint32 {
		return false
	}
	rd := p.rd
	cols := &f.cols
	item := f.field(line, cols[fItem])
	if len(item) > 0 && !trimmed(item) {
		item = trim(item)
	}
	if len(item) == 0 || len(item) > math.MaxUint16 {
		return false
	}
	admin := f.get(line, fAdmin)
	if len(admin) > 0 && !trimmed(admin) {
		admin = trim(admin)
	}
	if len(admin) == 0 {
		if p.adminBytes == nil {
			p.adminBytes = []byte(rd.opts.Administration)
		}
		admin = p.adminBytes
	} else if rd.opts.Administration != "" && string(admin) != rd.opts.Administration {
		return false
	}
	wh := f.get(line, fWarehouse)
	if len(wh) > 0 && !trimmed(wh) {
		wh = trim(wh)
	}
	if len(admin) > maxCodeBytes || len(wh) > maxCodeBytes {
		return false
	}

	// Quantities, in row's order. Those whose separator the tracker has
	// not settled yet are checked below, in that order; a value settled
	// now stays settled, as check only ever settles more.
	var r rowRec
	var pend uint16 // fields to check, by bit
	var ok, chk bool
	if cols[fOnHand] >= 0 {
		if r.onHand, chk, ok = p.fastNum(line, fOnHand); !ok {
			return false
		}
		pend |= b2u(chk) << fOnHand
	}
	var free decimal.Dec
	if cols[fFree] >= 0 && (cols[fReserved] < 0 || cols[fOnHand] < 0) {
		if free, chk, ok = p.fastNum(line, fFree); !ok {
			return false
		}
		pend |= b2u(chk) << fFree
	}
	switch {
	case cols[fReserved] >= 0:
		if r.reserved, chk, ok = p.fastNum(line, fReserved); !ok {
			return false
		}
		pend |= b2u(chk) << fReserved
		if cols[fOnHand] < 0 {
			sum, err := free.Add(r.reserved)
			if err != nil {
				return false
			}
			r.onHand = sum
		}
	case cols[fFree] >= 0 && cols[fOnHand] >= 0:
		res, err := r.onHand.Sub(free)
		if err != nil {
			return false
		}
		r.reserved = res
	case cols[fFree] >= 0:
		r.onHand = free
	}
	if cols[fIncoming] >= 0 {
		if r.incoming, chk, ok = p.fastNum(line, fIncoming); !ok {
			return false
		}
		pend |= b2u(chk) << fIncoming
	}
	if c := cols[fSafety]; c >= 0 && len(trimNum(f.field(line, c))) > 0 {
		if r.safety, chk, ok = p.fastNum(line, fSafety); !ok {
			return false
		}
		pend |= b2u(chk) << fSafety
		r.flags |= rowSafety
	}

	// Dates. A date that does not parse is left to row; the caches stay
	// right either way.
	var raw []byte
	r.measured = rd.defMeas
	if rd.hasDef {
		r.flags |= rowMeasured
	}
	raw = f.get(line, fMeasured)
	if len(raw) > 0 && !trimmed(raw) {
		raw = trim(raw)
	}
	if len(raw) > 0 {
		if p.measured.raw != nil && sameBytes(raw, p.measured.raw) && p.measured.err == nil {
			r.measured = p.measUnix
		} else {
			t, err := p.measured.parse(raw, rd.opts.Location, false, rd.date1904)
			if err != nil {
				return false
			}
			p.measUnix = t.Unix()
			r.measured = p.measUnix
		}
		r.flags |= rowMeasured
	}
	raw = f.get(line, fExpected)
	if len(raw) > 0 && !trimmed(raw) {
		raw = trim(raw)
	}
	if len(raw) > 0 {
		t, err := p.expected.parse(raw, rd.opts.Location, false, rd.date1904)
		if err != nil {
			return false
		}
		r.expected = uint32(t.Year()*10000 + int(t.Month())*100 + t.Day())
	}

	// From here on the row is this path's.
	p.out.rows++
	if pend != 0 && p.fastCheck(line, ln, pend) {
		return true
	}
	p.store(&r, ln, item, admin, wh)
	return true
}

// itemHashKey keys itemHash: random per process, so that no export can be
// made to collide on purpose.
var itemHashKey = rand.Uint64()

// itemHash is a wyhash-style hash of b (128-bit multiplies folded to 64
// bits), keyed with itemHashKey. The key goes into both operands of every
// multiply: an operand that the bytes of b alone could make zero (b's first
// word equal to a constant) would zero the product whatever the key, so
// that codes made for it would all collide.
func itemHash(b []byte) uint64 {
	const m1, m2, m3 = 0xa0761d6478bd642f, 0xe7037ed1a0b428db, 0x8ebc6af09c88c6e3
	n := len(b)
	key := itemHashKey
	seed := key
	var x, y uint64
	switch {
	case n > 16:
		for i := 0; i+16 < n; i += 16 {
			seed = mum(le.Uint64(b[i:])^m2^key, le.Uint64(b[i+8:])^seed)
		}
		b = b[n-16:] // the last 16 bytes, again or not
		fallthrough
	case n >= 8:
		x, y = le.Uint64(b), le.Uint64(b[len(b)-8:])
	case n >= 4:
		x, y = uint64(le.Uint32(b)), uint64(le.Uint32(b[n-4:]))
	case n > 0:
		x = uint64(b[0])<<16 | uint64(b[n>>1])<<8 | uint64(b[n-1])
	}
	return mum(m3^uint64(n), mum(x^m2^key, y^seed^m1))
}

// mum multiplies a and b and folds the 128-bit product.
func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}
