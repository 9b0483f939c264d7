package feed

import (
	"bytes"
	"strings"
	"testing"

	"globex/internal/decimal"
)

func TestDeltaIgnoresMeasuredAtOnly(t *testing.T) {
	rec := func(onHand, measured string) *Stock {
		return &Stock{Administration: "500", ItemCode: "A", OnHand: decimal.MustParse(onHand), Availability: InStock, MeasuredAt: measured}
	}
	var prev bytes.Buffer
	j := NewJSONLWriter(&prev)
	j.Write(rec("5", "2026-11-27T05:00:00Z"))
	j.Close()
	var out bytes.Buffer
	d, err := NewDelta(KindStock, bytes.NewReader(prev.Bytes()), &out)
	if err != nil {
		t.Fatal(err)
	}
	d.Write(rec("5", "2026-11-27T06:00:00Z"))
	d.Close()
	if out.Len() != 0 || d.Stats().Unchanged != 1 {
		t.Fatalf("a new measuring time alone made a delta: %q", out.String())
	}
	out.Reset()
	d, _ = NewDelta(KindStock, bytes.NewReader(prev.Bytes()), &out)
	d.Write(rec("6", "2026-11-27T06:00:00Z"))
	d.Close()
	if !strings.Contains(out.String(), `"measured_at":"2026-11-27T06:00:00Z"`) {
		t.Fatalf("the upsert does not carry the new measuring time: %q", out.String())
	}
}
