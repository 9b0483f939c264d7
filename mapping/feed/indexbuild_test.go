package feed

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type refEntry struct {
	kh, ch, ord uint64
	key         string
}

// refIndex is the index format by definition: every entry in memory,
// sorted by key hash then key, encoded one after the other.
func refIndex(es []refEntry) ([]byte, *DuplicateKeyError) {
	s := slices.Clone(es)
	slices.SortStableFunc(s, func(x, y refEntry) int {
		if c := cmp.Compare(x.kh, y.kh); c != 0 {
			return c
		}
		return strings.Compare(x.key, y.key)
	})
	var out []byte
	for i, e := range s {
		if i > 0 && e.kh == s[i-1].kh && e.key == s[i-1].key {
			return nil, &DuplicateKeyError{Kind: KindStock, Key: e.key, Fields: KeyFieldsOf(KindStock, e.key)}
		}
		out = binary.LittleEndian.AppendUint64(out, e.kh)
		out = binary.LittleEndian.AppendUint64(out, e.ch)
		out = binary.LittleEndian.AppendUint64(out, e.ord)
		out = binary.AppendUvarint(out, uint64(len(e.key)))
		out = append(out, e.key...)
	}
	return out, nil
}

// The builder writes exactly the reference index, whatever the run size,
// key lengths, hash collisions and hash skew, and reports the same first
// duplicate.
func TestIndexBuilderMatchesReference(t *testing.T) {
	old := IndexRun
	defer func() { IndexRun = old }()
	dir := t.TempDir()
	r := benchRand(99)
	type scenario struct {
		name string
		n    int
		run  int
		gen  func(i int) refEntry
	}
	plain := func(i int) refEntry {
		k := fmt.Sprintf("500\x00ART-%d", i)
		return refEntry{kh: KeyHash(k), ch: r.next(), key: k}
	}
	scenarios := []scenario{
		{"empty", 0, 64, plain},
		{"one", 1, 64, plain},
		{"in memory only", 5000, 1 << 16, plain},
		{"many runs", 20000, 997, plain},
		{"tiny runs", 3000, 7, plain},
		{"exact runs", 4096, 1024, plain},
		{"long keys", 3000, 500, func(i int) refEntry {
			k := fmt.Sprintf("500\x00%s-%d", strings.Repeat("x", i%400), i)
			return refEntry{kh: KeyHash(k), ch: r.next(), key: k}
		}},
		{"hash collisions", 5000, 333, func(i int) refEntry {
			k := fmt.Sprintf("500\x00C-%d", i)
			return refEntry{kh: uint64(i%50) << 40, ch: r.next(), key: k} // 100 keys per hash, one bucket
		}},
		{"skewed hashes", 8000, 1000, func(i int) refEntry {
			k := fmt.Sprintf("500\x00S-%d", i)
			return refEntry{kh: r.next() >> 20, ch: r.next(), key: k} // all in bucket 0
		}},
		{"duplicate", 10000, 777, func(i int) refEntry {
			if i == 9000 {
				i = 1234
			}
			return plain(i)
		}},
		{"several duplicates", 10000, 100000, func(i int) refEntry {
			if i%1000 == 999 {
				i -= 500
			}
			return plain(i)
		}},
		{"duplicate colliding", 4000, 300, func(i int) refEntry {
			if i == 3999 {
				i = 17
			}
			return refEntry{kh: 42, ch: 1, key: fmt.Sprintf("500\x00D-%d", i)}
		}},
	}
	for si, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			IndexRun = sc.run
			es := make([]refEntry, sc.n)
			b := NewIndexBuilder(dir)
			for i := range es {
				es[i] = sc.gen(i)
				es[i].ord = uint64(i)
				if err := b.AddHashed([]byte(es[i].key), es[i].kh, es[i].ch); err != nil {
					t.Fatal(err)
				}
			}
			want, wantErr := refIndex(es)
			out := filepath.Join(dir, fmt.Sprintf("%d.idx", si))
			err := b.Finish(KindStock, out)
			if wantErr != nil {
				var dup *DuplicateKeyError
				if !errors.As(err, &dup) || dup.Key != wantErr.Key || dup.Error() != wantErr.Error() {
					t.Fatalf("Finish = %v, want %v", err, wantErr)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("index differs from the reference (%d bytes, want %d)", len(got), len(want))
				}
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".run-*")); len(left) > 0 {
				t.Fatalf("run files left: %v", left)
			}
		})
	}
}

// A key longer than an index holds is refused when added.
func TestIndexBuilderLongKey(t *testing.T) {
	b := NewIndexBuilder(t.TempDir())
	if err := b.AddHashed(make([]byte, maxIndexKey+1), 1, 1); err == nil {
		t.Fatal("a key over 1 MiB was accepted")
	}
	if err := b.AddHashed([]byte("ok"), 1, 1); err != nil || b.Count() != 1 {
		t.Fatalf("after a refused key: %v, count %d", err, b.Count())
	}
}

// A builder is used up by Finish: a second Finish (say, a retry) or a
// later Add is an error, not an empty index.
func TestFinishTwice(t *testing.T) {
	dir := t.TempDir()
	b := NewIndexBuilder(dir)
	for i := range 100 {
		if err := b.AddHashed([]byte(fmt.Sprint("key", i)), uint64(i)*0x9e3779b97f4a7c15, uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Finish(KindCatalogue, filepath.Join(dir, "a.idx")); err != nil {
		t.Fatal(err)
	}
	if err := b.Finish(KindCatalogue, filepath.Join(dir, "b.idx")); err == nil {
		t.Error("a second Finish succeeded")
	}
	if err := b.AddHashed([]byte("late"), 1, 1); err == nil {
		t.Error("Add after Finish succeeded")
	}
}
