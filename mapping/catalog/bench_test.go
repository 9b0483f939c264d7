package catalog

import "testing"

// BenchmarkMap maps one fully populated item with the demo options.
func BenchmarkMap(b *testing.B) {
	it := cases(b)["FULL-1"]
	if err := sampleOptions.Validate(); err != nil { // as the exchange does once
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, keep, _ := Map(it, sampleOptions); !keep {
			b.Fatal("left out")
		}
	}
}
