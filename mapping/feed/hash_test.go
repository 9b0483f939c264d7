package feed

import (
	"bytes"
	"hash/crc32"
	"hash/fnv"
	"testing"

	"globex/internal/decimal"
)

// KeyHash is FNV-1a 64 (indexes on disk depend on it), with or without
// allocation.
func TestKeyHashIsFNV1a(t *testing.T) {
	for _, k := range []string{"", "500\x00ART-1", "ü\x00<&>"} {
		h := fnv.New64a()
		h.Write([]byte(k))
		if got, want := KeyHash(k), h.Sum64(); got != want {
			t.Errorf("KeyHash(%q) = %x, want %x", k, got, want)
		}
		if keyHashBytes([]byte(k)) != KeyHash(k) {
			t.Errorf("keyHashBytes(%q) differs", k)
		}
	}
}

// ContentHash leaves measured_at out, on the fast path and the slow one.
func TestContentHashSkipsMeasuredAt(t *testing.T) {
	avail := decimal.MustParse("3")
	for _, m := range []string{"2024-05-14T06:00:00Z", `odd"<value>`} {
		s := &Stock{Administration: "500", ItemCode: "A", OnHand: avail, Available: &avail, Availability: InStock,
			Warehouses: StockWarehouses{{Code: "1", OnHand: avail}}, MeasuredAt: m}
		j := s.AppendJSON(nil)
		c := *s
		c.MeasuredAt = ""
		bare := c.AppendJSON(nil)
		bare = bare[:len(bare)-1] // the hash has always covered the JSON up to measured_at
		want := uint64(crc32.Checksum(bare, castagnoli))<<32 | uint64(crc32.ChecksumIEEE(bare))
		if got := ContentHash(s, j); got != want {
			t.Errorf("measured_at %q: ContentHash %x, want %x", m, got, want)
		}
		key, kh, ch := RecordHashes(s, j, []byte("x"))
		if !bytes.Equal(key, []byte("x"+s.Key())) || kh != KeyHash(s.Key()) || ch != want {
			t.Errorf("RecordHashes = %q %x %x", key, kh, ch)
		}
	}
}
