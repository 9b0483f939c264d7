package stock

import (
	"bytes"
	"io"
	"testing"

	"globex/mapping/feed"
	"globex/mapping/stock/stocktest"
)

func genStock(tb testing.TB, rows int) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := stocktest.Generate(&b, rows, 42); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func TestGenerateSmall(t *testing.T) {
	got := string(genStock(t, 6))
	t.Log("\n" + got)
	res, err := Read(bytes.NewReader([]byte(got)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Items() != 3 || res.Rows() != 6 {
		t.Fatalf("items %d rows %d", res.Items(), res.Rows())
	}
}

// BenchmarkStockFeed measures a whole stock run: read and aggregate a
// generated 2-million-row export, then write the JSONL and CSV feeds.
//
//	go test ./mapping/stock -run '^$' -bench StockFeed -benchtime 3x -benchmem
func BenchmarkStockFeed(b *testing.B) {
	const rows = 2_000_000
	data := genStock(b, rows)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		res, err := Read(bytes.NewReader(data), Options{})
		if err != nil {
			b.Fatal(err)
		}
		ru := Rules{LowStockThreshold: feedDec("10")}
		jw := feed.NewJSONLWriter(io.Discard)
		cw := feed.NewCSVWriter(io.Discard, feed.KindStock, res.Columns(ru))
		if err := res.WriteTo(ru, jw, cw); err != nil {
			b.Fatal(err)
		}
		if err := jw.Close(); err != nil {
			b.Fatal(err)
		}
		if err := cw.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead isolates reading and aggregation.
func BenchmarkRead(b *testing.B) {
	data := genStock(b, 200_000)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		if _, err := Read(bytes.NewReader(data), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
