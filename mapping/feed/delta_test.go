package feed

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"globex/internal/decimal"
)

func stockSnapshot(t *testing.T, n int, change map[int]string, drop map[int]bool) []byte {
	t.Helper()
	var b bytes.Buffer
	w := NewJSONLWriter(&b)
	for i := range n {
		if drop[i] {
			continue
		}
		avail := decimal.FromInt(int64(i))
		rec := &Stock{Administration: "500", ItemCode: fmt.Sprintf("ART-%04d", i), OnHand: decimal.FromInt(int64(i)),
			Available: &avail, Availability: InStock}
		if v, ok := change[i]; ok {
			rec.OnHand = decimal.MustParse(v)
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	return b.Bytes()
}

func TestDiff(t *testing.T) {
	prev := stockSnapshot(t, 100, nil, nil)
	next := stockSnapshot(t, 102, map[int]string{7: "7.5", 42: "0"}, map[int]bool{3: true, 99: true})
	var out bytes.Buffer
	st, err := Diff(KindStock, bytes.NewReader(prev), bytes.NewReader(next), &out)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"op":"upsert","record":{"administration":"500","item_code":"ART-0007","on_hand":"7.5","reserved":"0","incoming":"0","available":"7","availability":"in_stock"}}
{"op":"upsert","record":{"administration":"500","item_code":"ART-0042","on_hand":"0","reserved":"0","incoming":"0","available":"42","availability":"in_stock"}}
{"op":"upsert","record":{"administration":"500","item_code":"ART-0100","on_hand":"100","reserved":"0","incoming":"0","available":"100","availability":"in_stock"}}
{"op":"upsert","record":{"administration":"500","item_code":"ART-0101","on_hand":"101","reserved":"0","incoming":"0","available":"101","availability":"in_stock"}}
{"op":"delete","key":{"administration":"500","item_code":"ART-0003"}}
{"op":"delete","key":{"administration":"500","item_code":"ART-0099"}}
`
	if out.String() != want {
		t.Errorf("delta:\n%s\nwant:\n%s", out.String(), want)
	}
	if st != (DeltaStats{Upserts: 4, Deletes: 2, Unchanged: 96}) {
		t.Errorf("stats %+v", st)
	}

	// Same snapshot again: empty delta.
	out.Reset()
	st, err = Diff(KindStock, bytes.NewReader(next), bytes.NewReader(next), &out)
	if err != nil || out.Len() != 0 || st.Unchanged != 100 {
		t.Fatalf("identical: %v %q %+v", err, out.String(), st)
	}
	// First run: everything is an upsert.
	out.Reset()
	st, err = Diff(KindStock, nil, bytes.NewReader(next), &out)
	if err != nil || st.Upserts != 100 || strings.Count(out.String(), "\n") != 100 {
		t.Fatalf("first run: %v %+v", err, st)
	}
}

func TestDiffErrors(t *testing.T) {
	dup := []byte(`{"administration":"1","item_code":"A","on_hand":"1","reserved":"0","incoming":"0","availability":"in_stock"}` + "\n")
	dup2 := append(append([]byte{}, dup...), dup...)
	if _, err := Diff(KindStock, bytes.NewReader(dup2), bytes.NewReader(dup), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("duplicate in prev: %v", err)
	}
	if _, err := Diff(KindStock, bytes.NewReader(dup), bytes.NewReader(dup2), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate in next: %v", err)
	}
	if _, err := Diff(KindStock, strings.NewReader("{\"on_hand\":\"1,5\"}\n"), bytes.NewReader(dup), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad prev: %v", err)
	}
}
