package stock

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sync"
)

// Rows and aggregates are kept in nParts partitions by a hash of the
// administration and item code: every row of an item lands in one
// partition, so partitions are aggregated independently (in parallel, each
// with a table small enough for the CPU's caches), and memory is bounded by
// spilling partitions to a temporary file.
const (
	partBits = 8
	nParts   = 1 << partBits
)

func partOf(h uint64) int { return int(h >> (64 - partBits)) }

// partStore holds byte records per partition: in memory up to budget bytes,
// beyond that in a spill file (created in dir, removed by close). Appends
// to one partition keep their order; a partition reads back as its spilled
// segments followed by what is still in memory.
type partStore struct {
	dir    string
	budget int
	name   string

	mu       sync.Mutex
	mem      [nParts][]byte
	memBytes int
	f        *os.File
	size     int64
	segs     [nParts][]segment
	lens     [nParts]int64
}

type segment struct {
	off int64
	n   int
}

func newPartStore(dir, name string, budget int) *partStore {
	return &partStore{dir: dir, name: name, budget: budget}
}

// add appends b to partition p.
func (s *partStore) add(p int, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.mem[p]; cap(m)-len(m) < len(b) {
		// Double up to the partition's share of the budget, and no
		// further unless its rows need it: a buffer of the share is kept
		// across spills, so a large file copies each buffer a few times
		// in all, not after every spill.
		// (make gives the capacity asked for; append would round it up.)
		share := max(s.budget/nParts, 1)
		c := max(2*cap(m), 4<<10)
		if cap(m) < share {
			c = min(c, share)
		}
		nb := make([]byte, len(m), max(c, len(m)+len(b)))
		copy(nb, m)
		s.mem[p] = nb
	}
	s.mem[p] = append(s.mem[p], b...)
	s.memBytes += len(b)
	s.lens[p] += int64(len(b))
	if s.memBytes > s.budget {
		return s.spill()
	}
	return nil
}

// spill moves every partition's bytes in memory to the spill file.
func (s *partStore) spill() error {
	if s.f == nil {
		f, err := os.CreateTemp(s.dir, "globex-stock-"+s.name+"-*.tmp")
		if err != nil {
			return fmt.Errorf("stock: a temporary file for a large export: %w", err)
		}
		s.f = f
	}
	for p := range s.mem {
		b := s.mem[p]
		if len(b) == 0 {
			continue
		}
		if _, err := s.f.WriteAt(b, s.size); err != nil {
			return fmt.Errorf("stock: writing a temporary file for a large export: %w", err)
		}
		s.segs[p] = append(s.segs[p], segment{s.size, len(b)})
		s.size += int64(len(b))
		// Keep a buffer of at most this partition's share of the budget
		// for the rows to come: all kept buffers stay within the budget.
		if cap(b) > s.budget/nParts {
			s.mem[p] = nil
		} else {
			s.mem[p] = b[:0]
		}
	}
	s.memBytes = 0
	return nil
}

// release drops partition p from memory once it has been read.
func (s *partStore) release(p int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.memBytes -= len(s.mem[p])
	s.mem[p] = nil
}

// cursor returns a reader of partition p's records (see recCursor).
func (s *partStore) cursor(p int) *recCursor {
	return &recCursor{s: s, segs: s.segs[p], mem: s.mem[p]}
}

func (s *partStore) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mem = [nParts][]byte{}
	if s.f == nil {
		return nil
	}
	name := s.f.Name()
	err := s.f.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	s.f = nil
	return err
}

// recCursor reads length-prefixed records (a 4-byte length, then the
// record) of one partition in order, with a small buffer for spilled
// segments, so that all partitions can be read side by side.
type recCursor struct {
	s    *partStore
	segs []segment
	off  int64 // read position in segs[0]
	mem  []byte
	buf  []byte
	pos  int
	err  error
}

const cursorBuf = 32 << 10

// next returns the next record (valid until the next call), or nil at the
// end or on an error (see err).
func (c *recCursor) next() []byte {
	for {
		rest := c.buf[c.pos:]
		if len(rest) >= 4 {
			if n := int(binary.LittleEndian.Uint32(rest)); 4+n <= len(rest) {
				c.pos += 4 + n
				return rest[4 : 4+n]
			}
		}
		if !c.fill() {
			return nil
		}
	}
}

// fill moves the unread bytes to the front and reads more.
func (c *recCursor) fill() bool {
	rest := len(c.buf) - c.pos
	switch {
	case len(c.segs) > 0:
		sg := c.segs[0]
		want := int(min(int64(sg.n)-c.off, cursorBuf))
		if cap(c.buf) < rest+want {
			nb := make([]byte, rest, max(2*cap(c.buf), rest+want, cursorBuf))
			copy(nb, c.buf[c.pos:])
			c.buf = nb
		} else {
			copy(c.buf, c.buf[c.pos:])
			c.buf = c.buf[:rest]
		}
		c.pos = 0
		if _, err := c.s.f.ReadAt(c.buf[rest:rest+want], sg.off+c.off); err != nil && err != io.EOF {
			c.err = fmt.Errorf("stock: reading back a temporary file: %w", err)
			return false
		}
		c.buf = c.buf[:rest+want]
		c.off += int64(want)
		if c.off == int64(sg.n) {
			c.segs, c.off = c.segs[1:], 0
		}
		return true
	case c.mem != nil:
		// The records in memory follow the spilled ones; a record may
		// straddle the two.
		if rest == 0 {
			c.buf, c.pos = c.mem, 0
		} else {
			c.buf = append(c.buf[c.pos:len(c.buf):len(c.buf)], c.mem...)
			c.pos = 0
		}
		c.mem = nil
		return true
	default:
		if rest != 0 {
			c.err = fmt.Errorf("stock: a temporary file ends inside a record")
		}
		return false
	}
}
