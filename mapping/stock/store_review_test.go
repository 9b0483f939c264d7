package stock

import (
	"math/rand/v2"
	"testing"
)

// memCap is the capacity of the store's partition buffers.
func (s *partStore) memCap() int {
	n := 0
	for _, m := range s.mem {
		n += cap(m)
	}
	return n
}

// The partition buffers kept across spills stay within the budget, and
// what is held between spills is bounded by the budget too, however much
// is added and however unevenly it falls on the partitions; every byte
// reads back in order.
func TestPartStoreMemoryBound(t *testing.T) {
	for _, budget := range []int{100, 64 << 10, 1 << 20} {
		s := newPartStore(t.TempDir(), "test", budget)
		rng := rand.New(rand.NewPCG(1, uint64(budget)))
		var want [nParts][]byte
		peak := 0
		for i := range 2500 {
			p := rng.IntN(nParts)
			if i%3 == 0 {
				p = i % 5 // a few partitions get most
			}
			rec := make([]byte, 4+rng.IntN(3000))
			for j := range rec {
				rec[j] = byte(i + j)
			}
			rec[0], rec[1], rec[2], rec[3] = byte(len(rec)-4), byte((len(rec)-4)>>8), 0, 0
			before := s.size
			if err := s.add(p, rec); err != nil {
				t.Fatal(err)
			}
			want[p] = append(want[p], rec...)
			if s.size != before { // a spill: only the kept buffers remain
				if c := s.memCap(); c > budget {
					t.Fatalf("budget %d: %d bytes of buffers kept after a spill", budget, c)
				}
			}
			peak = max(peak, s.memCap())
		}
		if limit := 3*budget + 2*3004 + nParts*4<<10; peak > limit {
			t.Errorf("budget %d: buffers of %d bytes at the peak, want at most %d", budget, peak, limit)
		}
		for p := range nParts {
			c := s.cursor(p)
			var got []byte
			for r := c.next(); r != nil; r = c.next() {
				got = append(got, byte(len(r)), byte(len(r)>>8), 0, 0)
				got = append(got, r...)
			}
			if c.err != nil || string(got) != string(want[p]) {
				t.Fatalf("budget %d partition %d: read back %d bytes (%v), want %d", budget, p, len(got), c.err, len(want[p]))
			}
		}
		if err := s.close(); err != nil {
			t.Fatal(err)
		}
	}
}
