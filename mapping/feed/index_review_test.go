package feed

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A change at the first or the last line of the new snapshot, a new record
// there, or only deletes: the delta holds exactly the changed lines
// (compared with the in-memory reference), and the snapshot is read up to
// the last change only (lines beyond it, even a snapshot longer than
// count, are not looked at).
func TestDeltaUpToLastChangeEdges(t *testing.T) {
	const n = 130 // more than two words of the bit set
	base := func() []*Catalogue {
		var recs []*Catalogue
		for i := range n {
			recs = append(recs, catalogue(i, "1.00"))
		}
		return recs
	}
	for name, edit := range map[string]func([]*Catalogue) []*Catalogue{
		"first":      func(r []*Catalogue) []*Catalogue { r[0] = catalogue(0, "2.00"); return r },
		"last":       func(r []*Catalogue) []*Catalogue { r[n-1] = catalogue(n-1, "2.00"); return r },
		"line 64":    func(r []*Catalogue) []*Catalogue { r[63] = catalogue(63, "2.00"); return r },
		"line 65":    func(r []*Catalogue) []*Catalogue { r[64] = catalogue(64, "2.00"); return r },
		"new last":   func(r []*Catalogue) []*Catalogue { return append(r, catalogue(n, "1.00")) },
		"deletes":    func(r []*Catalogue) []*Catalogue { return r[:n-3] },
		"first+last": func(r []*Catalogue) []*Catalogue { r[0], r[n-1] = catalogue(0, "3"), catalogue(n-1, "3"); return r },
		"nothing":    func(r []*Catalogue) []*Catalogue { return r },
	} {
		dir := t.TempDir()
		prevSnap, prevIdx, _ := writeSnapshot(t, dir, "prev", base())
		next := edit(base())
		nextSnap, nextIdx, count := writeSnapshot(t, dir, "next", next)
		var want bytes.Buffer
		p, _ := os.Open(prevSnap)
		q, _ := os.Open(nextSnap)
		wst, err := Diff(KindCatalogue, p, q, &want)
		p.Close()
		q.Close()
		if err != nil {
			t.Fatal(err)
		}
		// Lines after the last change may be anything, or missing; a
		// snapshot longer than count is read no further.
		b, _ := os.ReadFile(nextSnap)
		lines := strings.SplitAfter(string(b), "\n")
		last := 0
		for i, l := range lines {
			if strings.Contains(want.String(), strings.TrimSuffix(l, "\n")) && l != "" {
				last = i + 1
			}
		}
		trunc := strings.Join(lines[:last], "") + "not json\n"
		os.WriteFile(filepath.Join(dir, "cut.jsonl"), []byte(trunc), 0o644)
		for _, snap := range []string{nextSnap, filepath.Join(dir, "cut.jsonl")} {
			var got bytes.Buffer
			st, err := DeltaFromIndexes(KindCatalogue, prevIdx, nextIdx, snap, count, &got)
			if err != nil || st != wst || strings.Join(sortedLines(got.String()), "\n") != strings.Join(sortedLines(want.String()), "\n") {
				t.Errorf("%s (%s): %+v %v\n%s\nwant %+v\n%s", name, filepath.Base(snap), st, err, got.String(), wst, want.String())
			}
		}
	}
}

// An index that names a changed or new record past the snapshot's count is
// damaged: an error, not a delta whose counts claim an upsert it lacks.
// Unchanged entries past count are not looked at.
func TestDeltaIndexPastCount(t *testing.T) {
	dir := t.TempDir()
	var recs []*Catalogue
	for i := range 10 {
		recs = append(recs, catalogue(i, "1.00"))
	}
	_, prevIdx, _ := writeSnapshot(t, dir, "prev", recs)
	nextSnap, sameIdx, _ := writeSnapshot(t, dir, "same", recs)
	if st, err := DeltaFromIndexes(KindCatalogue, prevIdx, sameIdx, nextSnap, 5, io.Discard); err != nil || st.Unchanged != 10 {
		t.Fatalf("unchanged past count: %+v, %v", st, err)
	}
	for name, edit := range map[string]func([]*Catalogue) []*Catalogue{
		"changed": func(r []*Catalogue) []*Catalogue { r[7] = catalogue(7, "2.00"); return r },
		"new":     func(r []*Catalogue) []*Catalogue { return append(r, catalogue(10, "1.00")) },
	} {
		next := edit(slices.Clone(recs))
		nextSnap, nextIdx, count := writeSnapshot(t, dir, "next-"+name, next)
		var out bytes.Buffer
		st, err := DeltaFromIndexes(KindCatalogue, prevIdx, nextIdx, nextSnap, count-3, &out)
		if err == nil || !strings.Contains(err.Error(), "is damaged: line") {
			t.Errorf("%s: %+v, %v, want a damaged index error\n%s", name, st, err, out.String())
		}
		// With the right count, the same indexes make a one-upsert delta.
		out.Reset()
		st, err = DeltaFromIndexes(KindCatalogue, prevIdx, nextIdx, nextSnap, count, &out)
		if err != nil || st.Upserts != 1 || strings.Count(out.String(), `"op":"upsert"`) != 1 {
			t.Errorf("%s with count %d: %+v, %v\n%s", name, count, st, err, out.String())
		}
	}
}
