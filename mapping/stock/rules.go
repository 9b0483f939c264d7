package stock

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"globex/internal/decimal"
	"globex/mapping/feed"
)

// Display modes of Rules.Display.
const (
	// DisplayExact publishes the available quantity as is.
	DisplayExact = "exact"
	// DisplayCapped publishes the available quantity up to Rules.Cap; above
	// it, available is left out (per item and per warehouse) and display
	// reads "<cap>+" ("100+"). At or below the cap, display is the
	// quantity itself, so a shop can always show display.
	DisplayCapped = "capped"
	// DisplayClass leaves every available quantity out; the availability
	// class is what the shop shows. display stays empty.
	DisplayClass = "class"
)

// Rules turn stock figures into availability. The zero value counts every
// warehouse, has no safety stock, no low-stock class and shows exact
// quantities.
//
// Per item: on_hand, reserved and incoming are the sums over the counted
// warehouses; reserved also includes Reserved(admin, item);
// available = on_hand − reserved − safety stock, never below 0. Per
// warehouse available = on_hand − reserved, never below 0 (safety stock and
// pending orders are per item). The class is
//
//	in_stock      available > LowStockThreshold
//	low_stock     0 < available ≤ LowStockThreshold
//	backorder     available = 0 and incoming > 0
//	out_of_stock  available = 0 and nothing incoming
//
// expected_date is the earliest expected date of a counted warehouse with
// incoming stock. on_hand, reserved and incoming are published exactly in
// every display mode; only available and display follow Display.
//
// Hooks may be called concurrently (WriteTo runs one pass per writer),
// and must not keep the strings they are given beyond the call.
type Rules struct {
	// Warehouses lists the warehouse codes that count; empty counts all.
	// Warehouses that do not count are left out of the record.
	Warehouses []string
	// SafetyStock is kept back from every item, unless SafetyStockFor or a
	// safety stock column gives the item its own.
	SafetyStock decimal.Dec
	// SafetyStockFor returns an item's own safety stock (ok false: none);
	// it wins over the file's safety stock column and SafetyStock.
	SafetyStockFor func(admin, item string) (decimal.Dec, bool)
	// LowStockThreshold: an available quantity at or below it (and above 0)
	// is low_stock. Zero disables the class.
	LowStockThreshold decimal.Dec
	// Display is DisplayExact (also for ""), DisplayCapped or DisplayClass.
	Display string
	// Cap is the cap of DisplayCapped (> 0).
	Cap decimal.Dec
	// Reserved returns the quantity of an item in orders already sent to
	// the ERP after the stock was measured (see Result.MeasuredAt), which
	// the export cannot contain yet; nil for none.
	Reserved func(admin, item string) decimal.Dec
}

// Validate checks the rules.
func (ru *Rules) Validate() error {
	switch ru.Display {
	case "", DisplayExact, DisplayClass:
	case DisplayCapped:
		if ru.Cap.Sign() <= 0 {
			return fmt.Errorf("stock rules: display %q needs a cap above 0", ru.Display)
		}
	default:
		return fmt.Errorf("stock rules: display %q is not exact, capped or class", ru.Display)
	}
	if ru.SafetyStock.Sign() < 0 {
		return fmt.Errorf("stock rules: safety stock %s is negative", ru.SafetyStock)
	}
	if ru.LowStockThreshold.Sign() < 0 {
		return fmt.Errorf("stock rules: low-stock threshold %s is negative", ru.LowStockThreshold)
	}
	return nil
}

// hides reports whether the display mode leaves an available quantity out.
func (ru *Rules) hides(avail decimal.Dec) bool {
	return ru.Display == DisplayClass || ru.Display == DisplayCapped && avail.Cmp(ru.Cap) > 0
}

// counted returns, per interned warehouse, whether it counts.
func (r *Result) counted(ru *Rules) []bool {
	c := make([]bool, len(r.whs))
	for i, w := range r.whs {
		c[i] = r.whUsed[i] && (len(ru.Warehouses) == 0 || slices.Contains(ru.Warehouses, w))
	}
	return c
}

// Columns returns the CSV columns of the feed under rules ru: one group per
// counted warehouse found in the file.
func (r *Result) Columns(ru Rules) feed.Columns {
	var c feed.Columns
	for i, ok := range r.counted(&ru) {
		if ok && r.whs[i] != "" {
			c.Warehouses = append(c.Warehouses, r.whs[i])
		}
	}
	slices.Sort(c.Warehouses)
	return c
}

// builder makes feed records; one per goroutine.
type builder struct {
	res     *Result
	ru      *Rules
	counted []bool
	// aliasKey: the record's ItemCode points into the item's bytes, which
	// stay put until the record has been encoded (chunk writers copy it).
	aliasKey bool
	it       itemRec
	rec      feed.Stock
	capText  string // "<cap>+" of DisplayCapped
	avail    decimal.Dec
	whAvail  []decimal.Dec
	dateBuf  []byte
	meas     int64
	measStr  string
}

func (b *builder) fail(err error) error {
	return fmt.Errorf("stock: item %q of administration %q: %w", b.it.key, b.res.admins[b.it.admin], err)
}

func nonNeg(d decimal.Dec) decimal.Dec {
	if d.Sign() < 0 {
		return decimal.Dec{}
	}
	return d
}

// build fills b.rec from an item record. The record and its warehouses are
// reused.
func (b *builder) build(data []byte) error {
	it := &b.it
	it.decode(data)
	ru := b.ru
	rec := &b.rec
	admin := b.res.admins[it.admin]
	var item string
	if b.aliasKey && len(it.key) > 0 {
		item = unsafe.String(&it.key[0], len(it.key))
	} else {
		item = string(it.key)
	}
	// Field by field: the record's encoder scratch space need not be
	// cleared (a new field of feed.Stock must be reset here too).
	rec.Administration, rec.ItemCode = admin, item
	rec.OnHand, rec.Reserved, rec.Incoming = decimal.Dec{}, decimal.Dec{}, decimal.Dec{}
	rec.Available, rec.Availability, rec.Display, rec.ExpectedDate, rec.MeasuredAt = nil, "", "", "", ""
	// The warehouses' slice is kept from record to record.
	rec.Warehouses = rec.Warehouses[:0]
	var expected uint32
	var err error
	for j := range it.whs {
		w := &it.whs[j]
		if !b.counted[w.wh] {
			continue
		}
		if rec.OnHand, err = rec.OnHand.Add(w.onHand); err != nil {
			return b.fail(err)
		}
		if rec.Reserved, err = rec.Reserved.Add(w.reserved); err != nil {
			return b.fail(err)
		}
		if rec.Incoming, err = rec.Incoming.Add(w.incoming); err != nil {
			return b.fail(err)
		}
		if w.expected != 0 && w.incoming.Sign() > 0 && (expected == 0 || w.expected < expected) {
			expected = w.expected
		}
		code := b.res.whs[w.wh]
		if code == "" {
			continue // the file has no warehouse column
		}
		wa, err := w.onHand.Sub(w.reserved)
		if err != nil {
			return b.fail(err)
		}
		k := len(rec.Warehouses)
		if k >= len(b.whAvail) {
			b.whAvail = append(b.whAvail, decimal.Dec{})
		}
		b.whAvail[k] = nonNeg(wa).Normalize()
		ws := feed.WarehouseStock{Code: code, OnHand: w.onHand.Normalize(), Reserved: w.reserved.Normalize(),
			Incoming: w.incoming.Normalize(), Available: &b.whAvail[k]}
		if ru.hides(*ws.Available) {
			ws.Available = nil
		}
		// in code order: an item's warehouses come in the order of its
		// rows, mostly already sorted
		i := k
		for i > 0 && rec.Warehouses[i-1].Code > code {
			i--
		}
		rec.Warehouses = slices.Insert(rec.Warehouses, i, ws)
	}
	if ru.Reserved != nil {
		if rec.Reserved, err = rec.Reserved.Add(ru.Reserved(admin, item)); err != nil {
			return b.fail(err)
		}
	}
	safety := ru.SafetyStock
	if it.hasSafety {
		safety = it.safety
	}
	if ru.SafetyStockFor != nil {
		if s, ok := ru.SafetyStockFor(admin, item); ok {
			safety = s
		}
	}
	avail, err := rec.OnHand.Sub(rec.Reserved)
	if err == nil {
		avail, err = avail.Sub(safety)
	}
	if err != nil {
		return b.fail(err)
	}
	b.avail = nonNeg(avail).Normalize()
	rec.OnHand, rec.Reserved, rec.Incoming = rec.OnHand.Normalize(), rec.Reserved.Normalize(), rec.Incoming.Normalize()
	switch {
	case b.avail.Sign() > 0 && b.avail.Cmp(ru.LowStockThreshold) > 0:
		rec.Availability = feed.InStock
	case b.avail.Sign() > 0:
		rec.Availability = feed.LowStock
	case rec.Incoming.Sign() > 0:
		rec.Availability = feed.Backorder
	default:
		rec.Availability = feed.OutOfStock
	}
	rec.Available = &b.avail
	if ru.hides(b.avail) {
		rec.Available = nil
	}
	if ru.Display == DisplayCapped {
		if b.avail.Cmp(ru.Cap) > 0 {
			if b.capText == "" { // once per builder, not per record
				b.capText = ru.Cap.Normalize().String() + "+"
			}
			rec.Display = b.capText
		} else {
			rec.Display = b.avail.String()
		}
	}
	if expected != 0 {
		b.dateBuf = appendYMD(b.dateBuf[:0], expected)
		rec.ExpectedDate = string(b.dateBuf)
	}
	if it.hasMeasured {
		if it.measured != b.meas || b.measStr == "" {
			b.meas = it.measured
			b.measStr = time.Unix(it.measured, 0).UTC().Format(time.RFC3339)
		}
		rec.MeasuredAt = b.measStr
	}
	return nil
}

func appendYMD(b []byte, v uint32) []byte {
	y, m, d := v/10000, v/100%100, v%100
	b = strconv.AppendInt(b, int64(y), 10)
	b = append(b, '-', byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
	return b
}

// Each calls fn with the record of every item, in the order the items first
// appear in the file. The record (and its slices and pointers) is reused:
// fn must not keep it.
func (r *Result) Each(ru Rules, fn func(rec *feed.Stock) error) error {
	if err := ru.Validate(); err != nil {
		return err
	}
	b := &builder{res: r, ru: &ru, counted: r.counted(&ru)}
	lb := &lineBatch{}
	return r.batches(func() *lineBatch { return lb }, func(lb *lineBatch) error {
		for _, rec := range lb.order() {
			if err := b.build(rec); err != nil {
				return err
			}
			if err := fn(&b.rec); err != nil {
				return err
			}
		}
		return nil
	})
}

// WriteTo writes every record to each writer (for example a JSONL writer
// and a CSV writer built with Columns(ru)). Writers that are
// feed.ChunkWriters share one pass: every record is built once and encoded
// for all of them, chunks of records in parallel on all CPUs, and written
// in order. Any other writer gets a pass of its own, the passes running in
// parallel. It does not close the writers.
func (r *Result) WriteTo(ru Rules, writers ...feed.Writer) error {
	if err := ru.Validate(); err != nil {
		return err
	}
	var chunked []feed.ChunkWriter
	var single []feed.Writer
	for _, w := range writers {
		if cw, ok := w.(feed.ChunkWriter); ok {
			chunked = append(chunked, cw)
		} else {
			single = append(single, w)
		}
	}
	errs := make([]error, len(single)+1)
	var wg sync.WaitGroup
	for i, w := range single {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = r.Each(ru, func(rec *feed.Stock) error { return w.Write(rec) })
		}()
	}
	if len(chunked) > 0 {
		errs[len(single)] = r.writeChunked(&ru, chunked)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// writeChunked builds every record once and encodes it for every writer:
// one goroutine gathers the items of consecutive line ranges (see
// Result.batches), workers on all CPUs order, build and encode the
// batches, and a writer goroutine writes the encoded batches in order, so
// that no worker waits for another's write. The error is that of the first
// record (in order) that failed.
func (r *Result) writeChunked(ru *Rules, writers []feed.ChunkWriter) error {
	workers := max(1, runtime.GOMAXPROCS(0))
	free := make(chan *lineBatch, 2*workers)
	for range 2 * workers {
		free <- &lineBatch{}
	}
	// encoded batches: a set of chunks (one per writer) each
	type encoded struct {
		seq    int
		chunks []feed.Chunk
		err    error
	}
	sets := make(chan []feed.Chunk, 2*workers+1)
	for range 2*workers + 1 {
		cs := make([]feed.Chunk, len(writers))
		for i, cw := range writers {
			cs[i] = cw.NewChunk()
		}
		sets <- cs
	}
	work := make(chan *lineBatch, 2*workers)
	out := make(chan encoded, 2*workers+1)
	var failed atomic.Bool
	counted := r.counted(ru)

	var firstErr error // of the earliest batch that failed
	written := make(chan struct{})
	go func() {
		defer close(written)
		inOrder(out, func(e encoded) int { return e.seq }, func(e encoded) {
			if e.err != nil && firstErr == nil {
				firstErr = e.err
				failed.Store(true)
			}
			if firstErr == nil {
				for i, cw := range writers {
					if err := cw.WriteChunk(e.chunks[i]); err != nil {
						firstErr = err
						failed.Store(true)
						break
					}
				}
			}
			sets <- e.chunks
		})
	}()

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := &builder{res: r, ru: ru, counted: counted, aliasKey: true}
			for {
				// A set first, then a batch: the earliest batch not
				// written is always with a worker that can encode it.
				cs := <-sets
				lb, ok := <-work
				if !ok {
					sets <- cs
					return
				}
				var err error
				if !failed.Load() {
					err = encodeBatch(b, cs, lb)
				}
				out <- encoded{lb.seq, cs, err}
				free <- lb
			}
		}()
	}
	err := r.batches(func() *lineBatch { return <-free }, func(lb *lineBatch) error {
		if failed.Load() {
			return errStopScan
		}
		work <- lb
		return nil
	})
	close(work)
	wg.Wait()
	close(out)
	<-written
	if err != nil && err != errStopScan {
		return err
	}
	return firstErr
}

var errStopScan = errors.New("stopped")

// encodeBatch encodes a batch's records into the chunks. A chunk that
// failed is emptied, as the record's error ends the run.
func encodeBatch(b *builder, chunks []feed.Chunk, lb *lineBatch) error {
	for _, rec := range lb.order() {
		if err := b.build(rec); err != nil {
			return err
		}
		for _, ch := range chunks {
			if err := ch.Add(&b.rec); err != nil {
				return err
			}
		}
	}
	return nil
}
