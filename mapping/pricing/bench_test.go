package pricing

import "testing"

// BenchmarkMap maps one list line with four percentage breaks.
func BenchmarkMap(b *testing.B) {
	p := cases(b)["PCT"]
	b.ReportAllocs()
	for b.Loop() {
		if rec, _, err := Map(p, nil); err != nil || rec == nil {
			b.Fatal(err)
		}
	}
}
