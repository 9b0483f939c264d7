package customers

import "testing"

// BenchmarkMap maps one debtor with six addresses.
func BenchmarkMap(b *testing.B) {
	a := cases(b)["FULL"]
	b.ReportAllocs()
	for b.Loop() {
		if _, keep, _ := Map(a, nil); !keep {
			b.Fatal("left out")
		}
	}
}
