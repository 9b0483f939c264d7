// Command gen writes the inputs of the items benchmark (bench/items/run.sh):
// a Globe Items export made by globetest.GenerateItems and, optionally, a
// Globe stock CSV made by stocktest.Generate.
//
//	gen -items 300000 -o items.xml            # a number of items
//	gen -size 300MB -o items.xml              # items until the size is reached
//	gen -stock-rows 2000000 -stock stock.csv  # the stock CSV
//
// It prints what it wrote (items, bytes, bytes per item) on stdout.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"globex/mapping/globe/globetest"
	"globex/mapping/stock/stocktest"
)

func main() {
	items := flag.Int("items", 0, "number of items to generate")
	size := flag.String("size", "", "target size of the export instead of -items (e.g. 300MB); the item count is derived from a sample")
	out := flag.String("o", "items.xml", "items export to write")
	seed := flag.Int64("seed", 1, "random seed (the same seed gives the same bytes)")
	stockRows := flag.Int("stock-rows", 0, "rows of the stock CSV (0: no stock CSV)")
	stockOut := flag.String("stock", "stock.csv", "stock CSV to write")
	varied := flag.String("varied", "", "also write this copy of the items export with every -vary-every'th item's sales price changed (for delta runs)")
	every := flag.Int("vary-every", 100, "with -varied: change one item in this many (100 = 1%)")
	flag.Parse()
	if err := run(*items, *size, *out, *seed, *stockRows, *stockOut); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if *varied != "" {
		if err := vary(*out, *varied, *every); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}

// vary copies the export in to out, changing the sales price of every
// every'th item.
func vary(in, out string, every int) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	changed := 0
	n, err := writeFile(out, func(w io.Writer) error {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
		item, inSales, done := -1, false, false
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.Contains(line, "<Item "):
				item++
				done = false
			case strings.Contains(line, "<Sales>"):
				inSales = true
			case strings.Contains(line, "</Sales>"):
				inSales = false
			case inSales && !done && item%every == 0 && strings.Contains(line, "<Value>"):
				line = "          <Value>999.99</Value>"
				done = true
				changed++
			}
			if _, err := io.WriteString(w, line+"\n"); err != nil {
				return err
			}
		}
		return sc.Err()
	})
	if err != nil {
		return err
	}
	fmt.Printf("varied export %s: %d items changed, %d bytes\n", out, changed, n)
	return nil
}

func run(items int, size, out string, seed int64, stockRows int, stockOut string) error {
	if size != "" {
		target, err := parseSize(size)
		if err != nil {
			return err
		}
		// Measure the generator's bytes per item on a sample.
		var cw countWriter
		const sample = 2000
		if err := globetest.GenerateItems(&cw, sample, seed); err != nil {
			return err
		}
		items = max(1, int(target*sample/cw.n))
	}
	if items > 0 {
		n, err := writeFile(out, func(w io.Writer) error { return globetest.GenerateItems(w, items, seed) })
		if err != nil {
			return err
		}
		fmt.Printf("items export %s: %d items, %d bytes (%.1f MB), %.0f bytes/item\n", out, items, n, float64(n)/1e6, float64(n)/float64(items))
	}
	if stockRows > 0 {
		n, err := writeFile(stockOut, func(w io.Writer) error { return stocktest.Generate(w, stockRows, uint64(seed)) })
		if err != nil {
			return err
		}
		fmt.Printf("stock CSV %s: %d rows, %d bytes (%.1f MB)\n", stockOut, stockRows, n, float64(n)/1e6)
	}
	if items <= 0 && stockRows <= 0 {
		return errors.New("nothing to do: give -items, -size or -stock-rows")
	}
	return nil
}

func writeFile(name string, gen func(io.Writer) error) (int64, error) {
	f, err := os.Create(name)
	if err != nil {
		return 0, err
	}
	cw := &countWriter{w: bufio.NewWriterSize(f, 1<<20)}
	err = gen(cw)
	if err == nil {
		err = cw.w.(*bufio.Writer).Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return cw.n, err
}

// countWriter counts bytes, passing them to w when w is not nil.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if c.w == nil {
		return len(p), nil
	}
	return c.w.Write(p)
}

// parseSize reads 300MB, 1GB, 512KB or a number of bytes (MB = 10^6 bytes).
func parseSize(s string) (int64, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, x := range []struct {
		suf string
		m   int64
	}{{"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}} {
		if strings.HasSuffix(u, x.suf) {
			mult, u = x.m, strings.TrimSpace(strings.TrimSuffix(u, x.suf))
			break
		}
	}
	v, err := strconv.ParseInt(u, 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("bad size %q (want e.g. 300MB)", s)
	}
	return v * mult, nil
}
