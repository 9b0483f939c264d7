package globe_test

import (
	"bytes"
	"testing"

	"globex/mapping/globe"
	"globex/mapping/globe/globetest"
)

// BenchmarkReadItems reads a generated export of 20,000 items (~20 MB).
func BenchmarkReadItems(b *testing.B) {
	var buf bytes.Buffer
	if err := globetest.GenerateItems(&buf, 20000, 1); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	c0 := cpuTime()
	for b.Loop() {
		n := 0
		err := globe.ReadItems(bytes.NewReader(data), globe.Options{}, func(it *globe.Item) error {
			n++
			return nil
		})
		if err != nil || n != 20000 {
			b.Fatalf("n=%d err=%v", n, err)
		}
	}
	cpu := cpuTime() - c0
	if cpu > 0 {
		b.ReportMetric(float64(len(data))*float64(b.N)/cpu.Seconds()/1e6, "cpu-MB/s")
	}
	b.ReportMetric(float64(len(data))/20000, "bytes/item")
}
