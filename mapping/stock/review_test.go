package stock

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"globex/mapping/feed"
	"globex/mapping/stock/stocktest"
)

// A file ending in a 2-byte last line "\rX" without a newline: the block
// reader reads it as the in-order reader does.
func TestReviewCRLastLine(t *testing.T) {
	for _, in := range []string{
		"Artikelcode\nA\n\rB",
		"Artikelcode;Voorraad\nA;1\n\rB",
	} {
		defer func(b int) { inOrderOnly = false; blockBytes = b }(blockBytes)
		inOrderOnly = true
		want := outcome(t, []byte(in), Options{SkipBadRows: true})
		inOrderOnly = false
		got := outcome(t, []byte(in), Options{SkipBadRows: true})
		if got != want {
			t.Errorf("input %q\nblocks:\n%s\nin order:\n%s", in, got, want)
		}
	}
}

// No temporary file is left behind when Read fails after a spill.
func TestReviewSpillLeakOnError(t *testing.T) {
	big := genStock(t, 20000)
	cases := map[string][]byte{
		"bad row":    append(append([]byte{}, big...), []byte("x;y;z\n")...),
		"decode err": append(append([]byte{}, big...), []byte("\xff\xfe;1\n")...),
		"long line":  append(append([]byte{}, big...), []byte(strings.Repeat("x", 3000)+"\n")...),
	}
	for name, in := range cases {
		dir := t.TempDir()
		_, err := Read(bytes.NewReader(in), Options{TempDir: dir, MemoryBudget: 64 << 10, MaxLineBytes: 2000, Encoding: "utf-8"})
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("%s: error %.80q, left behind in TempDir: %v", name, err.Error(), ents)
		}
	}
}

// More than 65535 distinct warehouses refuse the file whole, the same way
// whichever worker meets the limit first.
func TestReviewManyWarehouses(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("Magazijn;Artikelcode;Voorraad\n")
	for i := range 70000 {
		fmt.Fprintf(&b, "W%d;A%d;1\n", i, i%7)
	}
	in := b.Bytes()
	summary := func() string {
		res, err := Read(bytes.NewReader(in), Options{SkipBadRows: true, MaxBadRows: 3})
		if err != nil {
			return err.Error()
		}
		defer res.Close()
		s := fmt.Sprint(res.BadRowCount(), len(res.Warehouses()))
		for _, r := range res.BadRows() {
			s += "\n" + r.Error()
		}
		return s
	}
	defer func(b int) { inOrderOnly = false; blockBytes = b }(blockBytes)
	inOrderOnly = true
	want := summary()
	if !strings.Contains(want, "more than 65535 distinct warehouses") {
		t.Errorf("in order: %s", want)
	}
	inOrderOnly = false
	blockBytes = 4096
	for k := range 3 {
		if got := summary(); got != want {
			t.Fatalf("try %d:\nblocks: %s\nin order: %s", k, got, want)
		}
	}
}

// Rows that disagree on safety stock are counted, and only the first
// MaxBadRows of them are kept.
func TestReviewAggBadGrows(t *testing.T) {
	gen := func(conflict bool, n int) []byte {
		var b bytes.Buffer
		b.WriteString("Artikelcode;Voorraad;Veiligheidsvoorraad\n")
		for i := range n {
			s := 1
			if conflict && (i/1000)%2 == 1 {
				s = 2
			}
			fmt.Fprintf(&b, "ITEM-%06d;1;%d\n", i%1000, s)
		}
		return b.Bytes()
	}
	heap := func(in []byte) (uint64, *Result) {
		res, err := Read(bytes.NewReader(in), Options{SkipBadRows: true, MemoryBudget: 1 << 20, TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc, res
	}
	n := 400000
	if raceDetector {
		n = 100000
	}
	h0, r0 := heap(gen(false, n))
	r0.Close()
	r0 = nil
	runtime.GC()
	h1, r1 := heap(gen(true, n))
	t.Logf("heap with result alive: no conflicts %d MB, %d conflicting rows %d MB (bad %d, listed %d)", h0>>20, r1.BadRowCount(), h1>>20, r1.BadRowCount(), len(r1.BadRows()))
	if h1 > h0+8<<20 {
		t.Errorf("%d bad rows take %d MB more heap", r1.BadRowCount(), (h1-h0)>>20)
	}
	if cap(r1.badRows) > 100 {
		t.Errorf("Result.badRows keeps a backing array of %d entries for %d listed", cap(r1.badRows), len(r1.badRows))
	}
	r1.Close()
}

type failChunkWriter struct {
	feed.ChunkWriter
	n int
}

func (f *failChunkWriter) WriteChunk(c feed.Chunk) error {
	f.n++
	if f.n == 2 {
		return errors.New("disk full")
	}
	return f.ChunkWriter.WriteChunk(c)
}

type failWriter struct{ n int }

func (f *failWriter) Write(feed.Record) error {
	f.n++
	if f.n == 5 {
		return errors.New("writer broke")
	}
	return nil
}
func (f *failWriter) Close() error { return nil }

// Error paths end every goroutine.
func TestReviewErrorPathsNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	in := genStock(t, 60000)
	res, err := Read(bytes.NewReader(in), Options{TempDir: t.TempDir(), MemoryBudget: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	cw := &failChunkWriter{ChunkWriter: feed.NewJSONLWriter(io.Discard)}
	if err := res.WriteTo(Rules{}, cw, &failWriter{}); err == nil {
		t.Error("no error")
	} else {
		t.Log("WriteTo:", err)
	}
	res.Close()
	// fatal error early while later blocks are in flight
	defer func(b int) { blockBytes = b }(blockBytes)
	blockBytes = 4096
	bad := append([]byte("Artikelcode;Voorraad\nA;1\n"+strings.Repeat("y", 5000)+"\n"), in[100:]...)
	_, err = Read(bytes.NewReader(bad), Options{MaxLineBytes: 4000})
	t.Log("long line:", err)
	// commit error: TempDir missing
	_, err = Read(bytes.NewReader(in), Options{TempDir: filepath.Join(t.TempDir(), "nope"), MemoryBudget: 1024})
	t.Log("spill:", err)
	// read error mid-file
	_, err = Read(io.MultiReader(bytes.NewReader(in[:len(in)/2]), errReader{}), Options{})
	t.Log("read:", err)
	time.Sleep(200 * time.Millisecond)
	if after := runtime.NumGoroutine(); after > before {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines %d -> %d\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

// Decode error line numbers and read-error messages agree between the
// block reader and the in-order reader.
func TestReviewDecodeErrorLines(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("Artikelcode;Omschrijving;Voorraad\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "A%d;\"twee\nregels\";1\n", i)
	}
	b.WriteString("Z;caf\xe9;1\n")
	for i := range 10 {
		fmt.Fprintf(&b, "B%d;x;1\n", i)
	}
	in := b.Bytes()
	defer func(bb int) { inOrderOnly = false; blockBytes = bb }(blockBytes)
	for _, enc := range []string{"", "utf-8"} {
		inOrderOnly = true
		want := readErr(t, in, Options{Encoding: enc}).Error()
		inOrderOnly = false
		for _, bb := range []int{7, 4096, 1 << 20} {
			blockBytes = bb
			if got := readErr(t, in, Options{Encoding: enc}).Error(); got != want {
				t.Errorf("enc %q blocks %d: %s\nin order: %s", enc, bb, got, want)
			}
		}
		t.Log(want)
	}
	// read error
	src := func() io.Reader { return io.MultiReader(bytes.NewReader(in[:40000]), errReader{}) }
	inOrderOnly = true
	_, e1 := Read(src(), Options{Encoding: "windows-1252"})
	inOrderOnly = false
	_, e2 := Read(src(), Options{Encoding: "windows-1252"})
	if fmt.Sprint(e1) != fmt.Sprint(e2) {
		t.Errorf("read error: blocks %v\nin order %v", e2, e1)
	}
	t.Log(e1)
}

func TestReviewEdgeTable(t *testing.T) {
	for _, in := range []string{
		"Artikelcode;Voorraad",
		"Artikelcode;Voorraad\n",
		"\xef\xbb\xbfArtikelcode;Voorraad\r\nA;1\r\nB;2",
		"Artikelcode;Voorraad\r\nA;1\r",
		"Artikelcode;Voorraad\r\nA;1\r\r",
		"Artikelcode;Voorraad\nA;1\n\r",
		"Artikelcode;Voorraad\nA;1\n\r\r",
		"Artikelcode;Voorraad\nA;1\n\rB;2",
		"Artikelcode;Voorraad\nA;1\n\r\n\rB;2\n",
		"Artikelcode;Voorraad\nA;1\n\r;",
		"Artikelcode;Voorraad\nA;1\n\"\r",
		"Artikelcode;Voorraad\nA;1\n\"B\"\r",
		"Artikelcode;Voorraad\nA;1\n\"B\r\n\";1\r\n",
		"Artikelcode;Voorraad\nA;1\n\n\n",
		"Artikelcode;Voorraad\nA;1,500\nB;1.5\n",
		"Artikelcode;Voorraad\nA;1,500\n\n\nB;2,5\nC;1.5\n",
	} {
		t.Run("", func(t *testing.T) {
			compareModes(t, []byte(in), Options{SkipBadRows: true, MaxLineBytes: 8})
			compareModes(t, []byte(in), Options{SkipBadRows: true})
		})
	}
	compareModes(t, utf16le("\ufeffArtikelcode;Voorraad\r\nA;1\r\n\rB"), Options{SkipBadRows: true})
}

// peakHeap reads a generated export of rows rows, streamed (the input is
// never in memory), and returns the peak heap in use while reading.
func peakHeap(t *testing.T, rows int, gen func(w io.Writer) error) uint64 {
	t.Helper()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(gen(pw)) }()
	runtime.GC()
	var peak uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}()
	res, err := Read(pr, Options{MemoryBudget: 1 << 20, TempDir: t.TempDir()})
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if err := res.WriteTo(Rules{}, feed.NewJSONLWriter(io.Discard)); err != nil {
		t.Fatal(err)
	}
	res.Close()
	return peak
}

// Memory does not grow with the export: four times the rows, about the
// same peak.
func TestReviewPeakHeap(t *testing.T) {
	n := 200000
	if raceDetector {
		n = 50000
	}
	small := peakHeap(t, n, func(w io.Writer) error { return stocktest.Generate(w, n, 7) })
	large := peakHeap(t, 4*n, func(w io.Writer) error { return stocktest.Generate(w, 4*n, 7) })
	t.Logf("peak heap: %d rows %d MB, %d rows %d MB (budget 1 MiB)", n, small>>20, 4*n, large>>20)
	if large > small+24<<20 {
		t.Errorf("peak heap grew from %d MB to %d MB with four times the rows", small>>20, large>>20)
	}
}

// One item with most of the rows (a skewed partition) is streamed too, and
// its many warehouses are found by index, not by a list walk per row.
func TestReviewSkewHeap(t *testing.T) {
	gen := func(rows int) func(w io.Writer) error {
		return func(w io.Writer) error {
			bw := bufio.NewWriter(w)
			bw.WriteString("Magazijn;Artikelcode;Voorraad\n")
			for i := range rows {
				fmt.Fprintf(bw, "W%d;A;1\n", i%1000)
			}
			return bw.Flush()
		}
	}
	n := 250000
	if raceDetector {
		n = 60000
	}
	start := time.Now()
	small := peakHeap(t, n, gen(n))
	large := peakHeap(t, 4*n, gen(4*n))
	t.Logf("one item: peak heap %d rows %d MB, %d rows %d MB, %v", n, small>>20, 4*n, large>>20, time.Since(start))
	if large > small+24<<20 {
		t.Errorf("peak heap grew from %d MB to %d MB with four times the rows of one item", small>>20, large>>20)
	}
}
