package stock

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"globex/internal/decimal"
)

// craftedCodes are item codes made to defeat an unkeyed mix: their first 8
// bytes cancel the multiplier constant the hash XORs them with.
func craftedCodes() [][]byte {
	var prefix [8]byte
	binary.LittleEndian.PutUint64(prefix[:], 0xe7037ed1a0b428db)
	var codes [][]byte
	for _, tail := range []string{"A", "B", "AB", "12345678", "123456789", "1234567890123456789012"} {
		codes = append(codes, append(prefix[:], tail...))
	}
	return codes
}

// The item hash is keyed in every part: codes built from the hash's
// constants do not collide (with a key mixed into one operand only, every
// code of 9 to 16 bytes starting with such a prefix hashed to 0, so an
// export could put all its items into one probe chain).
func TestItemHashCraftedCodes(t *testing.T) {
	seen := map[uint64]string{}
	for _, c := range craftedCodes() {
		h := itemHash(c)
		if o, ok := seen[h]; ok {
			t.Errorf("%q and %q have the same hash %#x", o, c, h)
		}
		seen[h] = string(c)
	}
}

// Items are told apart by their bytes (and administration), not by their
// hash: rows of different items with one hash stay different items.
func TestAggregateCollidingHashes(t *testing.T) {
	a := &partAgg{whUsed: make([]bool, 1), slots: make([]int32, 64), maxBad: 1}
	codes := [][]byte{[]byte("A"), []byte("B"), []byte("AB"), []byte("A")}
	for i, c := range codes {
		for admin := range uint16(2) {
			r := rowRec{item: c, admin: admin, hash: 42, line: uint64(2*i + int(admin) + 1)}
			a.add(&r)
		}
	}
	if len(a.items) != 6 {
		t.Fatalf("%d items, want 6 (3 codes in 2 administrations)", len(a.items))
	}
	for _, it := range a.items {
		if it.nWh != 1 {
			t.Errorf("item %q admin %d: %d warehouses", a.keys[it.keyOff:it.keyOff+it.keyLen], it.admin, it.nWh)
		}
	}
}

// rowRec.append writes what the field-by-field encoding wrote, and decode
// reads it back, for small and large figures, with and without safety
// stock and measuring time, after other records.
func TestRowRecAppend(t *testing.T) {
	decs := []decimal.Dec{{}, decimal.New(5, 0), decimal.New(-1, 3), decimal.New(math.MaxInt32, 2),
		decimal.New(math.MinInt32, 0), decimal.New(math.MaxInt32+1, 1), decimal.New(math.MinInt64+1, 18)}
	var b []byte
	n := 0
	for i := range 400 {
		r := rowRec{line: uint64(i * 7919), admin: uint16(i * 31), wh: uint16(i * 17), expected: uint32(20240000 + i),
			onHand: decs[i%len(decs)], reserved: decs[i/7%len(decs)], incoming: decs[i/49%len(decs)],
			safety: decs[i/3%len(decs)], measured: int64(i) << 33, item: []byte(strings.Repeat("x", i%20))}
		r.flags = byte(i % 4) // rowSafety, rowMeasured
		want := le.AppendUint32(nil, uint32(r.line))
		flags := r.flags
		sm := small(r.onHand, r.reserved, r.incoming)
		if sm {
			flags |= rowSmall
		}
		want = append(want, byte(r.admin), byte(r.admin>>8), byte(r.wh), byte(r.wh>>8), flags)
		want = le.AppendUint32(want, r.expected)
		want = le.AppendUint16(want, uint16(len(r.item)))
		want = appendDecs(want, sm, r.onHand, r.reserved, r.incoming)
		if r.flags&rowSafety != 0 {
			want = appendDec(want, r.safety)
		}
		if r.flags&rowMeasured != 0 {
			want = le.AppendUint64(want, uint64(r.measured))
		}
		want = append(want, r.item...)
		b = r.append(b)
		if got := b[n:]; string(got) != string(want) {
			t.Fatalf("record %d:\n got %x\nwant %x", i, got, want)
		}
		var d rowRec
		if end := d.decode(b, n); end != len(b) || d.line != r.line || d.onHand != r.onHand || d.reserved != r.reserved ||
			d.incoming != r.incoming || string(d.item) != string(r.item) || r.flags&rowSafety != 0 && d.safety != r.safety ||
			r.flags&rowMeasured != 0 && d.measured != r.measured {
			t.Fatalf("record %d: decoded %+v, want %+v", i, d, r)
		}
		n = len(b)
	}
}
