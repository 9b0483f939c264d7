package feed

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"globex/internal/decimal"
)

// The stock feed workload of `globex once` on a 2-million-row export: a
// million items in two warehouses, each record built into a reused *Stock
// (and map) as mapping/stock's builder does, then encoded as a JSONL line
// with its index entry and as a CSV row.
//
//	go test ./mapping/feed -run '^$' -bench 'StockEncode|IndexFinish' -benchtime 3x

// benchRand is a small deterministic generator (xorshift64*).
type benchRand uint64

func (r *benchRand) next() uint64 {
	x := uint64(*r)
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	*r = benchRand(x)
	return x * 2685821657736338717
}

func (r *benchRand) intn(n int) int { return int(r.next() % uint64(n)) }

// stockGen fills a reused Stock like mapping/stock's builder: decimals
// summed over the warehouses and normalized, Available pointing at the
// generator's own values, the warehouse map cleared and refilled.
type stockGen struct {
	r       benchRand
	rec     Stock
	avail   decimal.Dec
	whAvail [8]decimal.Dec
	codeBuf []byte
	// options for the differential tests
	display   string // "", "capped" or "class"
	varied    bool   // negative, large-scale and odd values, missing warehouses, escapes
	whs       []string
	threshold decimal.Dec
	cap       decimal.Dec
}

func newStockGen(seed uint64) *stockGen {
	return &stockGen{r: benchRand(seed | 1), whs: []string{"1", "2"}, threshold: decimal.FromInt(10), cap: decimal.FromInt(100)}
}

func (g *stockGen) dec() decimal.Dec {
	if g.varied {
		switch g.r.intn(10) {
		case 0:
			return decimal.New(-int64(g.r.intn(1_000_000)), g.r.intn(7))
		case 1:
			return decimal.New(int64(g.r.next()>>1), g.r.intn(decimal.MaxScale+1))
		case 2:
			return decimal.New(0, g.r.intn(5))
		case 3:
			return decimal.New(int64(g.r.intn(100)), 0)
		}
	}
	return decimal.New(int64(g.r.intn(1_000_000)), 3)
}

func nonNegDec(d decimal.Dec) decimal.Dec {
	if d.Sign() < 0 {
		return decimal.Dec{}
	}
	return d
}

// fill builds record i.
func (g *stockGen) fill(i int) *Stock {
	rec := &g.rec
	g.codeBuf = strconv.AppendInt(append(g.codeBuf[:0], "ART-"...), int64(100000+i), 10)
	item := string(g.codeBuf)
	if g.varied && g.r.intn(20) == 0 {
		item += `"<&>;` + "\u2028 "
	}
	*rec = Stock{Administration: "500", ItemCode: item, Warehouses: rec.Warehouses[:0]}
	k := 0
	for _, code := range g.whs {
		if g.varied && g.r.intn(4) == 0 {
			continue // the item is not in this warehouse
		}
		oh, rs := g.dec(), decimal.New(int64(g.r.intn(200_000)), 3)
		in := decimal.Dec{}
		if g.r.intn(10) == 0 {
			in = g.dec()
		}
		rec.OnHand, _ = rec.OnHand.Add(oh)
		rec.Reserved, _ = rec.Reserved.Add(rs)
		rec.Incoming, _ = rec.Incoming.Add(in)
		wa, _ := oh.Sub(rs)
		g.whAvail[k] = nonNegDec(wa).Normalize()
		ws := WarehouseStock{Code: code, OnHand: oh.Normalize(), Reserved: rs.Normalize(), Incoming: in.Normalize(), Available: &g.whAvail[k]}
		k++
		switch g.display {
		case "class":
			ws.Available = nil
		case "capped":
			if ws.Available.Cmp(g.cap) > 0 {
				ws.Available = nil
			}
		}
		rec.Warehouses = append(rec.Warehouses, ws)
	}
	av, _ := rec.OnHand.Sub(rec.Reserved)
	g.avail = nonNegDec(av).Normalize()
	rec.OnHand, rec.Reserved, rec.Incoming = rec.OnHand.Normalize(), rec.Reserved.Normalize(), rec.Incoming.Normalize()
	switch {
	case g.avail.Sign() > 0 && g.avail.Cmp(g.threshold) > 0:
		rec.Availability = InStock
	case g.avail.Sign() > 0:
		rec.Availability = LowStock
	case rec.Incoming.Sign() > 0:
		rec.Availability = Backorder
	default:
		rec.Availability = OutOfStock
	}
	rec.Available = &g.avail
	switch g.display {
	case "class":
		rec.Available = nil
	case "capped":
		if g.avail.Cmp(g.cap) > 0 {
			rec.Available = nil
			rec.Display = "100+"
		} else {
			rec.Display = g.avail.String()
		}
	}
	if g.varied && g.r.intn(3) == 0 {
		rec.ExpectedDate = "2024-06-01"
	}
	if !g.varied || g.r.intn(5) != 0 {
		rec.MeasuredAt = "2024-05-14T06:00:00Z"
	}
	return rec
}

const benchStockItems = 1_000_000

// encodeStock encodes records lo..hi of seed's sequence into the JSONL
// chunk (with index entries) and the CSV chunk, emptying them every 1024
// records as ChunkWriter users do.
func encodeStock(tb testing.TB, g *stockGen, jc *benchIndexedChunk, cc Chunk, cw *CSVWriter, lo, hi int) (jsonBytes int) {
	for i := lo; i < hi; i++ {
		rec := g.fill(i)
		if err := jc.Add(rec); err != nil {
			tb.Fatal(err)
		}
		if err := cc.Add(rec); err != nil {
			tb.Fatal(err)
		}
		if (i-lo)%1024 == 1023 || i == hi-1 {
			jsonBytes += len(jc.b)
			jc.reset()
			if err := cw.WriteChunk(cc); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return jsonBytes
}

// BenchmarkStockEncode encodes a million stock records on one goroutine:
// JSON line, index key and hashes, CSV row.
func BenchmarkStockEncode(b *testing.B) {
	cw := NewCSVWriter(io.Discard, KindStock, Columns{Warehouses: []string{"1", "2"}})
	jc, cc := newBenchIndexedChunk(), cw.NewChunk()
	g := newStockGen(42)
	b.ResetTimer()
	var n int
	for range b.N {
		n = encodeStock(b, g, jc, cc, cw, 0, benchStockItems)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchStockItems), "ns/record")
	b.ReportMetric(float64(n), "json-bytes")
}

// BenchmarkStockGen is the record generation alone (part of the figures
// of BenchmarkStockEncode).
func BenchmarkStockGen(b *testing.B) {
	g := newStockGen(42)
	for range b.N {
		for i := range benchStockItems {
			g.fill(i)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchStockItems), "ns/record")
}

// BenchmarkStockEncodeParallel is BenchmarkStockEncode on two goroutines,
// as the stock feed runs on the two cores of the reference machine.
func BenchmarkStockEncodeParallel(b *testing.B) {
	const workers = 2
	type worker struct {
		g  *stockGen
		jc *benchIndexedChunk
		cc Chunk
		cw *CSVWriter
	}
	ws := make([]worker, workers)
	for i := range ws {
		cw := NewCSVWriter(io.Discard, KindStock, Columns{Warehouses: []string{"1", "2"}})
		ws[i] = worker{g: newStockGen(uint64(42 + i)), jc: newBenchIndexedChunk(), cc: cw.NewChunk(), cw: cw}
	}
	b.ResetTimer()
	for range b.N {
		var wg sync.WaitGroup
		for i := range ws {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w := ws[i]
				per := benchStockItems / workers
				encodeStock(b, w.g, w.jc, w.cc, w.cw, i*per, (i+1)*per)
			}()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchStockItems), "ns/record")
}

// indexBenchEntries makes n index entries of stock keys (500, ART-…) in a
// shuffled item order, as RecordHashes would.
func indexBenchEntries(n int) (keys []byte, offs []int, khs, chs []uint64) {
	r := benchRand(7)
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := r.intn(i + 1)
		perm[i], perm[j] = perm[j], perm[i]
	}
	offs = make([]int, n+1)
	khs, chs = make([]uint64, n), make([]uint64, n)
	for i, p := range perm {
		offs[i] = len(keys)
		keys = append(keys, "500\x00ART-"...)
		keys = strconv.AppendInt(keys, int64(100000+p), 10)
		khs[i] = keyHashBytes(keys[offs[i]:])
		chs[i] = r.next()
	}
	offs[n] = len(keys)
	return
}

func addIndexEntries(tb testing.TB, ib *IndexBuilder, keys []byte, offs []int, khs, chs []uint64) {
	for i := range khs {
		if err := ib.AddHashed(keys[offs[i]:offs[i+1]], khs[i], chs[i]); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkIndexFinish times IndexBuilder.Finish for a million stock keys
// (the adding, with its background spills, is not timed).
func BenchmarkIndexFinish(b *testing.B) {
	keys, offs, khs, chs := indexBenchEntries(benchStockItems)
	dir := b.TempDir()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		ib := NewIndexBuilder(dir)
		addIndexEntries(b, ib, keys, offs, khs, chs)
		out := filepath.Join(dir, fmt.Sprintf("i%d.idx", i))
		b.StartTimer()
		if err := ib.Finish(KindStock, out); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.Remove(out)
		b.StartTimer()
	}
}

// BenchmarkIndexAddFinish times adding a million entries and Finish.
func BenchmarkIndexAddFinish(b *testing.B) {
	keys, offs, khs, chs := indexBenchEntries(benchStockItems)
	dir := b.TempDir()
	b.ResetTimer()
	for i := range b.N {
		ib := NewIndexBuilder(dir)
		addIndexEntries(b, ib, keys, offs, khs, chs)
		out := filepath.Join(dir, fmt.Sprintf("i%d.idx", i))
		if err := ib.Finish(KindStock, out); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.Remove(out)
		b.StartTimer()
	}
}

// benchDecs are stock-like figures: three decimals, normalized.
var benchDecs = func() []decimal.Dec {
	g := newStockGen(3)
	ds := make([]decimal.Dec, 4096)
	for i := range ds {
		ds[i] = g.dec().Normalize()
	}
	return ds
}()

func benchmarkDec(b *testing.B, f func([]byte, decimal.Dec) []byte) {
	buf := make([]byte, 0, 64<<10)
	for range b.N {
		buf = buf[:0]
		for _, d := range benchDecs {
			buf = f(buf, d)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(benchDecs)), "ns/dec")
}

// BenchmarkAppendDec formats stock figures.
func BenchmarkAppendDec(b *testing.B) { benchmarkDec(b, appendDec) }

// BenchmarkMemoAdd formats them into a figMemo, as a chunk's JSON does.
func BenchmarkMemoAdd(b *testing.B) {
	var m figMemo
	benchmarkDec(b, func(buf []byte, d decimal.Dec) []byte {
		if m.n == memoFigs {
			m.n = 0
		}
		return m.add(buf, d)
	})
}
