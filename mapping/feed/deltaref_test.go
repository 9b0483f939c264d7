package feed

import (
	"bufio"
	"fmt"
	"hash/maphash"
	"io"
	"slices"
)

// The reference delta of the tests: the same lines as DeltaFromIndexes,
// computed in memory by another route (a map of keys and maphash content
// hashes), to check the index path against.

// Delta writes the delta between the last published full snapshot (JSONL)
// and the records of the new snapshot, given one at a time with Write:
//
//	{"op":"upsert","record":{…}}   a record that is new or whose content changed
//	{"op":"delete","key":{…}}      a record of the previous snapshot that is gone
//
// Upserts come in the order of the new snapshot, then deletes sorted by key,
// so the output is deterministic. A record equal to its previous version
// yields no line.
//
// Memory: Delta keeps, per record key of either snapshot, the key string and
// a 64-bit content hash of the record's canonical JSON (AppendJSON) in a map:
// about 56 bytes plus the key length per record (roughly 80 MB for a million
// stock records). Record contents are never held. A change is missed only if
// the 64-bit hashes of the old and new content collide (odds 2^-64 per
// changed record).
type Delta struct {
	kind  Kind
	seed  maphash.Seed
	index map[string]deltaEntry
	w     *bufio.Writer
	buf   []byte
	hbuf  []byte
	stats DeltaStats
	err   error
	done  bool
}

type deltaEntry struct {
	hash uint64
	seen bool // key occurs in the new snapshot
}

// NewDelta reads the previous snapshot prev (JSONL of kind; nil or empty
// for the first run, which makes every record an upsert) and returns a
// Delta writing to out.
func NewDelta(kind Kind, prev io.Reader, out io.Writer) (*Delta, error) {
	if !kind.Valid() {
		return nil, fmt.Errorf("feed: unknown kind %q", kind)
	}
	d := &Delta{kind: kind, seed: maphash.MakeSeed(), index: make(map[string]deltaEntry),
		w: bufio.NewWriterSize(out, 256<<10), buf: make([]byte, 0, 1024)}
	if prev == nil {
		return d, nil
	}
	err := eachJSONL(kind, prev, func(line int, rec Record, _ []byte) error {
		k := rec.Key()
		if _, dup := d.index[k]; dup {
			return fmt.Errorf("previous %s snapshot line %d: key %v occurs twice", kind, line, rec.KeyFields())
		}
		d.index[k] = deltaEntry{hash: d.contentHash(rec)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Write compares rec with its previous version and writes an upsert line
// when it is new or changed. A key given twice is an error.
func (d *Delta) Write(rec Record) error {
	if d.err != nil {
		return d.err
	}
	if rec.Kind() != d.kind {
		return fmt.Errorf("feed: %s record written to a %s delta", rec.Kind(), d.kind)
	}
	k := rec.Key()
	const head = `{"op":"upsert","record":`
	d.buf = append(d.buf[:0], head...)
	d.buf = rec.AppendJSON(d.buf)
	h := d.contentHash(rec)
	e, ok := d.index[k]
	if ok && e.seen {
		return fmt.Errorf("feed: %s key %v occurs twice in the new snapshot", d.kind, rec.KeyFields())
	}
	d.index[k] = deltaEntry{hash: h, seen: true}
	if ok && e.hash == h {
		d.stats.Unchanged++
		return nil
	}
	d.stats.Upserts++
	d.buf = append(d.buf, '}', '\n')
	_, d.err = d.w.Write(d.buf)
	return d.err
}

// contentHash hashes what makes a record different for the shop. A stock
// record's measured_at is left out: every export has a new measuring time,
// and a delta that re-sends every unchanged item for it would be no delta.
func (d *Delta) contentHash(rec Record) uint64 {
	if s, ok := rec.(*Stock); ok && s.MeasuredAt != "" {
		c := *s
		c.MeasuredAt = ""
		rec = &c
	}
	d.hbuf = rec.AppendJSON(d.hbuf[:0])
	return maphash.Bytes(d.seed, d.hbuf)
}

// Close writes the delete lines (sorted by key) and flushes. It does not
// close the underlying writer.
func (d *Delta) Close() error {
	if d.err != nil || d.done {
		return d.err
	}
	d.done = true
	var gone []string
	for k, e := range d.index {
		if !e.seen {
			gone = append(gone, k)
		}
	}
	slices.Sort(gone)
	for _, k := range gone {
		d.buf = append(d.buf[:0], `{"op":"delete","key":`...)
		d.buf = appendKeyObject(d.buf, KeyFieldsOf(d.kind, k))
		d.buf = append(d.buf, '}', '\n')
		if _, d.err = d.w.Write(d.buf); d.err != nil {
			return d.err
		}
		d.stats.Deletes++
	}
	d.err = d.w.Flush()
	return d.err
}

// Stats returns the counts so far (final after Close).
func (d *Delta) Stats() DeltaStats { return d.stats }

// Diff writes to out the delta from the snapshot prev to the snapshot next,
// both JSONL of kind (see Delta for the lines, their order and the memory
// used).
func Diff(kind Kind, prev, next io.Reader, out io.Writer) (DeltaStats, error) {
	d, err := NewDelta(kind, prev, out)
	if err != nil {
		return DeltaStats{}, err
	}
	err = eachJSONL(kind, next, func(line int, rec Record, _ []byte) error {
		if err := d.Write(rec); err != nil {
			return fmt.Errorf("new %s snapshot line %d: %w", kind, line, err)
		}
		return nil
	})
	if err != nil {
		return d.Stats(), err
	}
	err = d.Close()
	return d.Stats(), err
}
