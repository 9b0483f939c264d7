package feed

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Building an index. Entries are added in snapshot order to a buffer of
// IndexRun entries. A full buffer is spilled in the background to a run
// file, scattered by the top bucketBits bits of the key hash into
// indexBuckets buckets (a counting pass, no sort): for every bucket in
// order, its size as a little-endian uint32, then its entries, unsorted,
// in the index file's own encoding. Finish takes the buckets in key-hash
// order, each from every run at once (so each run file is read
// sequentially), sorts the bucket in memory and appends it to the index;
// ranges of buckets (parts) go to parallel workers, each writing its own
// region of the index file. Memory: the entry buffers (a few MB) and, while
// Finish runs, one bucket per worker (1/4096 of the entries: 10 KB for a
// million stock keys) plus the run readers' buffers.

const (
	bucketBits     = 12
	indexBuckets   = 1 << bucketBits
	indexParts     = 16
	bucketsPerPart = indexBuckets / indexParts
	// maxIndexKey is the longest key an index holds.
	maxIndexKey = 1 << 20
)

// IndexBuilder collects the entries of one snapshot. Full runs are
// bucketed and written in the background, one at a time.
type IndexBuilder struct {
	dir  string
	buf  []indexEntry
	keys []byte
	runs []indexRun
	n    uint64
	done bool // Finish was called: the builder is used up

	// the run being spilled in the background, if any
	pending   chan spillResult
	spareBuf  []indexEntry
	spareKeys []byte
	spillErr  error
	// scratch of the spilling goroutine (and of Finish once it has waited)
	runBytes   []byte
	bucketSize []int
	bucketPos  []int
}

// indexRun is a run: a file, or (the last, partial one) bytes in memory.
type indexRun struct {
	path    string
	mem     []byte
	parts   [indexParts + 1]int64 // where each part's first bucket starts; parts[indexParts] is the size
	payload [indexParts]int64     // index bytes of each part (the run less its bucket sizes)
}

type spillResult struct {
	run  indexRun
	buf  []indexEntry
	keys []byte
	err  error
}

// NewIndexBuilder keeps its run files in dir.
func NewIndexBuilder(dir string) *IndexBuilder { return &IndexBuilder{dir: dir} }

// Add records the next line of the snapshot: rec and its JSON.
func (b *IndexBuilder) Add(rec Record, json []byte) error {
	off := len(b.keys)
	b.keys = AppendKey(b.keys, rec)
	key := b.keys[off:]
	return b.add(keyHashBytes(key), ContentHash(rec, json), off)
}

// RecordHashes returns what AddHashed needs for rec and its JSON: the key
// (appended to keyBuf), its key hash and the content hash. It may be called
// concurrently.
func RecordHashes(rec Record, json, keyBuf []byte) (key []byte, kh, ch uint64) {
	key = AppendKey(keyBuf, rec)
	k := key[len(keyBuf):]
	return key, keyHashBytes(k), ContentHash(rec, json)
}

// AddHashed records the next line of the snapshot from its key and hashes
// (see RecordHashes); it is Add with the hashing done elsewhere.
func (b *IndexBuilder) AddHashed(key []byte, kh, ch uint64) error {
	off := len(b.keys)
	b.keys = append(b.keys, key...)
	return b.add(kh, ch, off)
}

// errFinished refuses a builder used after Finish: its runs are gone, so
// a second index would be silently empty.
var errFinished = errors.New("index: the builder is finished")

func (b *IndexBuilder) add(kh, ch uint64, off int) error {
	if b.done {
		return errFinished
	}
	if b.spillErr != nil {
		return b.spillErr
	}
	if len(b.keys) > 1<<32-1 {
		return errors.New("index: keys too long")
	}
	if klen := len(b.keys) - off; klen > maxIndexKey {
		b.keys = b.keys[:off]
		return fmt.Errorf("index: a key of %d bytes is longer than %d", klen, maxIndexKey)
	}
	b.buf = append(b.buf, indexEntry{kh: kh, ch: ch, ord: b.n, koff: uint32(off), klen: uint32(len(b.keys) - off)})
	b.n++
	if len(b.buf) >= IndexRun {
		return b.spillAsync()
	}
	return nil
}

// Count is the number of records added.
func (b *IndexBuilder) Count() uint64 { return b.n }

// wait waits for the background spill, if any.
func (b *IndexBuilder) wait() error {
	if b.pending == nil {
		return b.spillErr
	}
	r := <-b.pending
	b.pending = nil
	b.spareBuf, b.spareKeys = r.buf[:0], r.keys[:0]
	if r.err != nil && b.spillErr == nil {
		b.spillErr = r.err
	}
	if r.run.path != "" {
		b.runs = append(b.runs, r.run)
	}
	return b.spillErr
}

func (b *IndexBuilder) spillAsync() error {
	if err := b.wait(); err != nil {
		return err
	}
	buf, keys := b.buf, b.keys
	b.buf, b.keys = b.spareBuf, b.spareKeys
	b.spareBuf, b.spareKeys = nil, nil
	done := make(chan spillResult, 1)
	b.pending = done
	go func() {
		run, err := b.spillRun(buf, keys)
		done <- spillResult{run: run, buf: buf, keys: keys, err: err}
	}()
	return nil
}

// entrySize is the encoded size of an entry with a key of klen bytes.
func entrySize(klen uint32) int {
	n := 25 + int(klen)
	for v := klen; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

func putEntry(dst []byte, e *indexEntry, key []byte) int {
	binary.LittleEndian.PutUint64(dst[0:], e.kh)
	binary.LittleEndian.PutUint64(dst[8:], e.ch)
	binary.LittleEndian.PutUint64(dst[16:], e.ord)
	n := 24 + binary.PutUvarint(dst[24:], uint64(len(key)))
	return n + copy(dst[n:], key)
}

// encodeRun encodes es as a run (bucketed, see above) into dst's memory. It
// uses b.bucketSize and b.bucketPos: the spilling goroutine, or Finish.
func (b *IndexBuilder) encodeRun(es []indexEntry, keys, dst []byte) ([]byte, indexRun, error) {
	var run indexRun
	if b.bucketSize == nil {
		b.bucketSize, b.bucketPos = make([]int, indexBuckets), make([]int, indexBuckets)
	}
	size, pos := b.bucketSize, b.bucketPos
	clear(size)
	for i := range es {
		size[es[i].kh>>(64-bucketBits)] += entrySize(es[i].klen)
	}
	off := 0
	for d := range indexBuckets {
		p := d / bucketsPerPart
		if d%bucketsPerPart == 0 {
			run.parts[p] = int64(off)
		}
		if size[d] > math.MaxUint32 {
			return dst, run, errors.New("index: a run bucket exceeds 4 GB")
		}
		run.payload[p] += int64(size[d])
		pos[d] = off + 4
		off += 4 + size[d]
	}
	run.parts[indexParts] = int64(off)
	dst = slices.Grow(dst[:0], off)[:off]
	for d := range indexBuckets {
		binary.LittleEndian.PutUint32(dst[pos[d]-4:], uint32(size[d]))
	}
	for i := range es {
		e := &es[i]
		d := e.kh >> (64 - bucketBits)
		pos[d] += putEntry(dst[pos[d]:], e, keys[e.koff:e.koff+e.klen])
	}
	return dst, run, nil
}

// spillRun writes one run file. It runs in the background, one at a time.
func (b *IndexBuilder) spillRun(es []indexEntry, keys []byte) (indexRun, error) {
	data, run, err := b.encodeRun(es, keys, b.runBytes)
	b.runBytes = data
	if err != nil {
		return run, err
	}
	f, err := os.CreateTemp(b.dir, ".run-*")
	if err != nil {
		return run, err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return run, err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return run, err
	}
	run.path = f.Name()
	return run, nil
}

// DuplicateKeyError is a key that occurs twice in one snapshot.
type DuplicateKeyError struct {
	Kind   Kind
	Key    string
	Fields []KeyField
}

func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("%s key %v occurs twice", e.Kind, e.Fields)
}

// Finish writes everything added, sorted by key hash and key, to the index
// file out (created anew; the caller renames it into place). A key added
// twice is a *DuplicateKeyError (the first duplicate in index order). The
// parts of the index are sorted in parallel, each into its own region of
// out.
func (b *IndexBuilder) Finish(kind Kind, out string) error {
	if b.done {
		return errFinished
	}
	b.done = true
	err := b.wait()
	defer func() {
		for _, r := range b.runs {
			os.Remove(r.path)
		}
		b.runs = nil
	}()
	if err != nil {
		return err
	}
	runs := slices.Clip(b.runs)
	if len(b.buf) > 0 {
		data, run, err := b.encodeRun(b.buf, b.keys, b.runBytes)
		b.runBytes = data
		if err != nil {
			return err
		}
		run.mem = data
		runs = append(runs, run)
	}
	b.buf, b.keys = b.buf[:0], b.keys[:0]
	files := make([]*os.File, len(runs))
	nfiles := 0
	for i, r := range runs {
		if r.path == "" {
			continue
		}
		f, err := os.Open(r.path)
		if err != nil {
			return err
		}
		defer f.Close()
		files[i] = f
		nfiles++
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	var base [indexParts + 1]int64
	for p := range indexParts {
		base[p+1] = base[p]
		for _, r := range runs {
			base[p+1] += r.payload[p]
		}
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), indexParts))
	// the run readers' buffers: about 4 MB in all
	bufSize := min(256<<10, max(4<<10, (4<<20)/max(1, nfiles*workers)))
	var next atomic.Int32
	var failed atomic.Int32 // the first part that failed
	failed.Store(indexParts)
	var errs [indexParts]error
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := &bucketMerger{kind: kind, bufSize: bufSize}
			for {
				p := int(next.Add(1) - 1)
				if p >= indexParts || int32(p) > failed.Load() {
					return
				}
				if base[p+1] == base[p] {
					continue
				}
				if err := m.part(runs, files, p, io.NewOffsetWriter(f, base[p])); err != nil {
					errs[p] = err
					for {
						old := failed.Load()
						if int32(p) >= old || failed.CompareAndSwap(old, int32(p)) {
							break
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return f.Sync()
}

// bucketMerger sorts the buckets of parts of the index; one per worker.
type bucketMerger struct {
	kind    Kind
	bufSize int
	readers []*bufio.Reader
	srcs    []runSource
	gather  []byte
	ents    []bucketEntry
	tmp     []bucketEntry
	counts  []int32
	out     []byte
}

// bucketEntry is an entry of the bucket being sorted: its encoding is
// gather[off:end].
type bucketEntry struct {
	kh       uint64
	off, end uint32
}

// runSource yields the buckets of one part of one run in order.
type runSource struct {
	r   *bufio.Reader // a run file
	mem []byte        // the in-memory run: what is left of the part
}

// next appends the source's next bucket to dst.
func (s *runSource) next(dst []byte) ([]byte, error) {
	if s.r == nil {
		if len(s.mem) < 4 {
			return dst, errors.New("index: the last run is damaged")
		}
		n := int(binary.LittleEndian.Uint32(s.mem))
		if len(s.mem)-4 < n {
			return dst, errors.New("index: the last run is damaged")
		}
		dst = append(dst, s.mem[4:4+n]...)
		s.mem = s.mem[4+n:]
		return dst, nil
	}
	hdr, err := s.r.Peek(4)
	if err != nil {
		return dst, fmt.Errorf("index: reading a run: %w", noEOF(err))
	}
	n := int(binary.LittleEndian.Uint32(hdr))
	s.r.Discard(4)
	l := len(dst)
	dst = slices.Grow(dst, n)[:l+n]
	if _, err := io.ReadFull(s.r, dst[l:]); err != nil {
		return dst, fmt.Errorf("index: reading a run: %w", noEOF(err))
	}
	return dst, nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// part sorts the buckets of part p of every run into w.
func (m *bucketMerger) part(runs []indexRun, files []*os.File, p int, w io.Writer) error {
	m.srcs = m.srcs[:0]
	for i, r := range runs {
		lo, hi := r.parts[p], r.parts[p+1]
		if r.path == "" {
			m.srcs = append(m.srcs, runSource{mem: r.mem[lo:hi]})
			continue
		}
		sec := io.NewSectionReader(files[i], lo, hi-lo)
		if len(m.readers) <= i {
			m.readers = append(m.readers, make([]*bufio.Reader, i+1-len(m.readers))...)
		}
		if m.readers[i] == nil {
			m.readers[i] = bufio.NewReaderSize(sec, m.bufSize)
		} else {
			m.readers[i].Reset(sec)
		}
		m.srcs = append(m.srcs, runSource{r: m.readers[i]})
	}
	m.out = m.out[:0]
	for range bucketsPerPart {
		g := m.gather[:0]
		for i := range m.srcs {
			var err error
			if g, err = m.srcs[i].next(g); err != nil {
				return err
			}
		}
		m.gather = g
		if len(g) > math.MaxUint32 {
			return errors.New("index: a bucket exceeds 4 GB")
		}
		if err := m.bucket(); err != nil {
			return err
		}
		if len(m.out) >= 256<<10 {
			if _, err := w.Write(m.out); err != nil {
				return err
			}
			m.out = m.out[:0]
		}
	}
	_, err := w.Write(m.out)
	return err
}

// key is the key of e.
func (m *bucketMerger) key(e bucketEntry) []byte {
	o := e.off + 24
	for m.gather[o] >= 0x80 {
		o++
	}
	return m.gather[o+1 : e.end]
}

func (m *bucketMerger) less(x, y bucketEntry) bool {
	if x.kh != y.kh {
		return x.kh < y.kh
	}
	return bytes.Compare(m.key(x), m.key(y)) < 0
}

// bucket sorts the gathered bucket and appends it to m.out.
func (m *bucketMerger) bucket() error {
	g := m.gather
	es := m.ents[:0]
	for o := 0; o < len(g); {
		if len(g)-o < 25 {
			return errors.New("index: a run is damaged")
		}
		kh := binary.LittleEndian.Uint64(g[o:])
		klen, n := uint64(g[o+24]), 1
		if klen >= 0x80 {
			klen, n = binary.Uvarint(g[o+24:])
		}
		if n <= 0 || klen > uint64(len(g)-o-24-n) {
			return errors.New("index: a run is damaged")
		}
		end := o + 24 + n + int(klen)
		es = append(es, bucketEntry{kh: kh, off: uint32(o), end: uint32(end)})
		o = end
	}
	m.ents = es
	sorted := m.sort(es)
	for i, e := range sorted {
		if i > 0 && e.kh == sorted[i-1].kh && bytes.Equal(m.key(e), m.key(sorted[i-1])) {
			k := string(m.key(e))
			return &DuplicateKeyError{Kind: m.kind, Key: k, Fields: KeyFieldsOf(m.kind, k)}
		}
		m.out = append(m.out, g[e.off:e.end]...)
	}
	return nil
}

// sort orders a bucket's entries by key hash, then key: a counting sort on
// the hash bits below the bucket's, then an insertion sort of what is
// nearly sorted.
func (m *bucketMerger) sort(es []bucketEntry) []bucketEntry {
	n := len(es)
	out := es
	if n > 32 {
		bits := min(bitsLen(n)+1, 16)
		shift := 64 - bucketBits - bits
		mask := uint64(1)<<bits - 1
		if cap(m.counts) < 1<<bits+1 {
			m.counts = make([]int32, 1<<bits+1)
		}
		counts := m.counts[:1<<bits+1]
		clear(counts)
		for i := range es {
			counts[(es[i].kh>>shift)&mask+1]++
		}
		for i := 1; i < len(counts); i++ {
			counts[i] += counts[i-1]
		}
		if cap(m.tmp) < n {
			m.tmp = make([]bucketEntry, n, n+n/4)
		}
		out = m.tmp[:n]
		for _, e := range es {
			d := (e.kh >> shift) & mask
			out[counts[d]] = e
			counts[d]++
		}
	}
	for i := 1; i < n; i++ {
		e := out[i]
		j := i
		for ; j > 0; j-- {
			if p := out[j-1]; e.kh > p.kh || e.kh == p.kh && !m.less(e, p) {
				break
			}
			out[j] = out[j-1]
		}
		out[j] = e
	}
	return out
}

func bitsLen(n int) int {
	b := 0
	for 1<<b < n {
		b++
	}
	return max(b, 1)
}
