package stock

import (
	"hash/maphash"
	"unsafe"

	"globex/internal/decimal"
)

// The aggregates live in chunked, pointer-free storage: growing never
// copies, and the garbage collector has nothing to scan in them.

const chunkBits = 14

type chunked[T any] struct {
	chunks [][]T
	n      int
}

func (c *chunked[T]) at(i int32) *T { return &c.chunks[i>>chunkBits][i&(1<<chunkBits-1)] }

func (c *chunked[T]) add(v T) int32 {
	if c.n>>chunkBits == len(c.chunks) {
		c.chunks = append(c.chunks, make([]T, 0, 1<<chunkBits))
	}
	last := &c.chunks[len(c.chunks)-1]
	*last = append(*last, v)
	c.n++
	return int32(c.n - 1)
}

type itemAgg struct {
	keyOff      int64 // item code in the key arena
	measured    int64 // unix seconds, when hasMeasured
	safety      decimal.Dec
	first, last int32 // list of whAgg
	keyLen      uint32
	admin       uint16
	hasMeasured bool
	hasSafety   bool
}

type whAgg struct {
	onHand, reserved, incoming decimal.Dec
	next                       int32
	expected                   int32 // yyyymmdd, 0 for none
	wh                         uint16
}

// arena stores item codes back to back in chunks that never move.
type arena struct {
	chunks [][]byte
}

const arenaChunk = 1 << 20

func (a *arena) add(b []byte) int64 {
	if len(a.chunks) == 0 || len(a.chunks[len(a.chunks)-1])+len(b) > cap(a.chunks[len(a.chunks)-1]) {
		a.chunks = append(a.chunks, make([]byte, 0, max(arenaChunk, len(b))))
	}
	ci := len(a.chunks) - 1
	off := len(a.chunks[ci])
	a.chunks[ci] = append(a.chunks[ci], b...)
	return int64(ci)<<32 | int64(off)
}

func (a *arena) get(off int64, n uint32) []byte {
	c := a.chunks[off>>32]
	o := int(off & 0xffffffff)
	return c[o : o+int(n) : o+int(n)]
}

// str returns the bytes as a string without copying; arena bytes are never
// modified once written.
func (a *arena) str(off int64, n uint32) string {
	b := a.get(off, n)
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// itemIndex is an open-addressing hash table from (administration, item
// code) to an item index: 8 bytes per slot (a 32-bit hash tag and the index),
// at most half full.
type itemIndex struct {
	seed  maphash.Seed
	slots []uint64
	n     int
}

// newItemIndex returns an index sized for about items items (0: unknown),
// so that growing, which rehashes every key, is rare.
func newItemIndex(items int) *itemIndex {
	n := 1024
	for n < 2*items && n < maxPresizedSlots {
		n *= 2
	}
	return &itemIndex{seed: maphash.MakeSeed(), slots: make([]uint64, n)}
}

// maxPresizedSlots caps the size an index is given up front (64 MiB); it
// still grows beyond it when the items are there.
const maxPresizedSlots = 1 << 23

func (x *itemIndex) hash(admin uint16, item []byte) uint64 {
	return maphash.Bytes(x.seed, item) ^ uint64(admin)*0x9e3779b97f4a7c15
}

// find returns the index of the item, or -1 and the slot to insert at.
func (x *itemIndex) find(h uint64, admin uint16, item []byte, items *chunked[itemAgg], keys *arena) (int32, int) {
	mask := len(x.slots) - 1
	tag := uint32(h >> 32)
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			return -1, i
		}
		if uint32(s>>32) == tag {
			idx := int32(uint32(s)) - 1
			it := items.at(idx)
			if it.admin == admin && string(keys.get(it.keyOff, it.keyLen)) == string(item) {
				return idx, i
			}
		}
	}
}

func (x *itemIndex) insert(slot int, h uint64, idx int32, items *chunked[itemAgg], keys *arena) {
	x.slots[slot] = h>>32<<32 | uint64(uint32(idx+1))
	x.n++
	if x.n*2 <= len(x.slots) {
		return
	}
	old := x.slots
	x.slots = make([]uint64, len(old)*2)
	mask := len(x.slots) - 1
	for _, s := range old {
		if s == 0 {
			continue
		}
		it := items.at(int32(uint32(s)) - 1)
		h := x.hash(it.admin, keys.get(it.keyOff, it.keyLen))
		i := int(h) & mask
		for x.slots[i] != 0 {
			i = (i + 1) & mask
		}
		x.slots[i] = s
	}
}
