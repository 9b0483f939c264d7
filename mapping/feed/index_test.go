package feed

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"globex/internal/decimal"
)

func writeSnapshot(t *testing.T, dir, name string, recs []*Catalogue) (string, string, uint64) {
	t.Helper()
	snap := filepath.Join(dir, name+".jsonl")
	f, err := os.Create(snap)
	if err != nil {
		t.Fatal(err)
	}
	b := NewIndexBuilder(dir)
	var buf []byte
	for _, r := range recs {
		buf = r.AppendJSON(buf[:0])
		if err := b.Add(r, buf); err != nil {
			t.Fatal(err)
		}
		f.Write(append(buf, '\n'))
	}
	f.Close()
	idx := filepath.Join(dir, name+".idx")
	if err := b.Finish(KindCatalogue, idx); err != nil {
		t.Fatal(err)
	}
	return snap, idx, b.Count()
}

func catalogue(n int, price string) *Catalogue {
	p := decimal.MustParse(price)
	return &Catalogue{Administration: "500", ItemCode: fmt.Sprintf("ART-%05d", n), Description: "x", SalesPrice: &p, Status: "active"}
}

func sortedLines(s string) []string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	sort.Strings(l)
	return l
}

// The on-disk index delta equals the in-memory Delta, across many runs.
func TestDeltaFromIndexesMatchesDiff(t *testing.T) {
	old := IndexRun
	IndexRun = 97 // many runs to merge
	defer func() { IndexRun = old }()
	dir := t.TempDir()
	var prev, next []*Catalogue
	for i := 0; i < 1000; i++ {
		prev = append(prev, catalogue(i, "1.00"))
	}
	for i := 0; i < 1000; i++ {
		switch {
		case i%97 == 0: // deleted
		case i%89 == 0:
			next = append(next, catalogue(i, "2.00")) // changed
		default:
			next = append(next, catalogue(i, "1.00"))
		}
	}
	next = append(next, catalogue(5000, "3.00")) // new
	// shuffle the new snapshot's order a little
	next[0], next[len(next)-1] = next[len(next)-1], next[0]
	prevSnap, prevIdx, _ := writeSnapshot(t, dir, "prev", prev)
	nextSnap, nextIdx, n := writeSnapshot(t, dir, "next", next)
	var got bytes.Buffer
	st, err := DeltaFromIndexes(KindCatalogue, prevIdx, nextIdx, nextSnap, n, &got)
	if err != nil {
		t.Fatal(err)
	}
	pf, _ := os.Open(prevSnap)
	nf, _ := os.Open(nextSnap)
	var want bytes.Buffer
	wst, err := Diff(KindCatalogue, pf, nf, &want)
	if err != nil {
		t.Fatal(err)
	}
	if st != wst {
		t.Fatalf("stats %+v, Diff says %+v", st, wst)
	}
	if g, w := sortedLines(got.String()), sortedLines(want.String()); strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Fatalf("delta differs:\n%s\nwant\n%s", got.String(), want.String())
	}
	if st.Upserts == 0 || st.Deletes == 0 {
		t.Fatalf("test data has no changes: %+v", st)
	}
}

func TestIndexFindsDuplicateKeys(t *testing.T) {
	old := IndexRun
	IndexRun = 7
	defer func() { IndexRun = old }()
	b := NewIndexBuilder(t.TempDir())
	for i := 0; i < 50; i++ {
		r := catalogue(i, "1.00")
		b.Add(r, r.AppendJSON(nil))
	}
	r := catalogue(17, "9.00")
	b.Add(r, r.AppendJSON(nil))
	err := b.Finish(KindCatalogue, filepath.Join(t.TempDir(), "x.idx"))
	var dup *DuplicateKeyError
	if !errors.As(err, &dup) || !strings.Contains(dup.Key, "ART-00017") {
		t.Fatalf("err = %v", err)
	}
}

// The snapshot is read only up to its last changed line: an export that
// changed nothing does not read it at all, and one whose last change is
// line k stops there.
func TestDeltaReadsSnapshotUpToLastChange(t *testing.T) {
	dir := t.TempDir()
	var recs []*Catalogue
	for i := range 200 {
		recs = append(recs, catalogue(i, "1.00"))
	}
	_, prevIdx, _ := writeSnapshot(t, dir, "prev", recs)
	_, sameIdx, n := writeSnapshot(t, dir, "same", recs)
	st, err := DeltaFromIndexes(KindCatalogue, prevIdx, sameIdx, filepath.Join(dir, "no-such-snapshot.jsonl"), n, io.Discard)
	if err != nil || st.Upserts != 0 || st.Unchanged != 200 {
		t.Fatalf("unchanged: %+v, %v", st, err)
	}
	recs[10] = catalogue(10, "2.00")
	nextSnap, nextIdx, n := writeSnapshot(t, dir, "next", recs)
	b, err := os.ReadFile(nextSnap)
	if err != nil {
		t.Fatal(err)
	}
	// everything after line 11 cut off: not read, so not missed
	cut := 0
	for range 11 {
		cut += bytes.IndexByte(b[cut:], '\n') + 1
	}
	os.WriteFile(nextSnap, b[:cut], 0o644)
	var out bytes.Buffer
	st, err = DeltaFromIndexes(KindCatalogue, prevIdx, nextIdx, nextSnap, n, &out)
	if err != nil || st.Upserts != 1 || !strings.Contains(out.String(), `"ART-00010"`) {
		t.Fatalf("one change: %+v, %v\n%s", st, err, out.String())
	}
}
