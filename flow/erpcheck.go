package flow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"globex/mapping/order"
)

// ERPCheck refuses orders for items or debtors that the ERP's own exports do
// not know or mark as blocked, before Globe ever sees them. It reads the last
// published catalogue and customer snapshots of the named exchanges and
// reloads them when they change.
type ERPCheck struct {
	Administration string
	ItemsExchange  string
	ItemsSnapshot  string // "" = items are not checked
	CustExchange   string
	CustSnapshot   string // "" = debtors are not checked

	mu    sync.Mutex
	items snapshotIndex
	custs snapshotIndex
}

type snapshotIndex struct {
	path    string
	mod     time.Time
	size    int64
	status  map[string]string // code → status ("blocked" etc.); "" = fine
	meta    PublishedMeta
	loadErr error
}

// PublishedMeta says which input a published snapshot came from.
type PublishedMeta struct {
	Input string    `json:"input"`
	At    time.Time `json:"at"`
}

// MetaPath is the file beside a snapshot that names its input.
func MetaPath(snapshot string) string { return snapshot + ".meta.json" }

// erpRec is what the check reads of a published catalogue or customer
// record; the rest of the record is skipped.
type erpRec struct {
	Administration string `json:"administration"`
	ItemCode       string `json:"item_code"`
	DebtorCode     string `json:"debtor_code"`
	Status         string `json:"status"`
	Blocked        bool   `json:"blocked"`
}

// itemStatus and custStatus say why an item or a debtor cannot be ordered
// for ("" when it can).
func itemStatus(r *erpRec) (code, status string) {
	switch r.Status {
	case "blocked", "inactive":
		return r.ItemCode, r.Status
	}
	return r.ItemCode, ""
}

func custStatus(r *erpRec) (code, status string) {
	if r.Blocked {
		return r.DebtorCode, "blocked"
	}
	return r.DebtorCode, ""
}

func (ix *snapshotIndex) refresh(path string, status func(*erpRec) (code, status string)) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("no export has been published yet (%s is missing)", path)
	}
	if ix.status != nil && ix.path == path && st.ModTime().Equal(ix.mod) && st.Size() == ix.size {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	m, err := readStatus(f, status)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	ix.path, ix.mod, ix.size, ix.status = path, st.ModTime(), st.Size(), m
	ix.meta = PublishedMeta{}
	if b, err := os.ReadFile(MetaPath(path)); err == nil {
		_ = json.Unmarshal(b, &ix.meta)
	}
	return nil
}

// readStatus reads every record's administration, code and status, the
// lines decoded on all CPUs (a catalogue of 300,000 items is 140 MB).
func readStatus(r io.Reader, status func(*erpRec) (code, status string)) (map[string]string, error) {
	type chunk struct {
		data  []byte // whole lines
		keys  []string
		stats []string
		err   error
		done  chan struct{}
	}
	workers := max(1, runtime.GOMAXPROCS(0))
	work := make(chan *chunk, workers)
	order := make(chan *chunk, 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				for rest := c.data; len(rest) > 0; {
					l := rest
					if i := bytes.IndexByte(rest, '\n'); i >= 0 {
						l, rest = rest[:i], rest[i+1:]
					} else {
						rest = nil
					}
					if len(bytes.TrimSpace(l)) == 0 {
						continue
					}
					var rec erpRec
					if err := scanERPRec(l, &rec); err != nil {
						c.err = err
						break
					}
					code, st := status(&rec)
					c.keys = append(c.keys, rec.Administration+"\x00"+code)
					c.stats = append(c.stats, st)
				}
				close(c.done)
			}
		}()
	}
	m := map[string]string{}
	var mergeErr error
	merged := make(chan struct{})
	go func() { // in file order: a later record of a code wins, as before
		defer close(merged)
		for c := range order {
			<-c.done
			if c.err != nil && mergeErr == nil {
				mergeErr = c.err
			}
			for i, k := range c.keys {
				m[k] = c.stats[i]
			}
		}
	}()
	// Blocks of whole lines (a JSON line holds no raw line end).
	const blockSize = 1 << 20
	var carry []byte
	var rerr error
	for rerr == nil {
		buf := make([]byte, len(carry), len(carry)+blockSize)
		copy(buf, carry)
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			rerr = io.EOF
		} else if err != nil {
			rerr = err
			break
		}
		end := len(buf)
		if rerr == nil {
			end = bytes.LastIndexByte(buf, '\n') + 1
			if end == 0 && len(buf) > 16<<20 {
				rerr = errors.New("a line longer than 16 MB")
				break
			}
		}
		carry = append(carry[:0], buf[end:]...)
		if end > 0 {
			c := &chunk{data: buf[:end], done: make(chan struct{})}
			order <- c
			work <- c
		}
	}
	close(work)
	close(order)
	wg.Wait()
	<-merged
	if rerr != io.EOF {
		return nil, rerr
	}
	return m, mergeErr
}

func (ix *snapshotIndex) lookup(admin, code string) (string, bool) {
	s, ok := ix.status[admin+"\x00"+code]
	return s, ok
}

func (ix *snapshotIndex) source(exchange string) string {
	if ix.meta.Input != "" {
		return fmt.Sprintf("the export %s of exchange %q (published %s)", ix.meta.Input, exchange, ix.meta.At.Local().Format("2006-01-02 15:04"))
	}
	return fmt.Sprintf("the last export of exchange %q", exchange)
}

// Check returns one problem per unknown or blocked item or debtor of o. An
// error means the check could not be made (no export published yet).
func (c *ERPCheck) Check(o *order.Order) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var problems []string
	if c.CustSnapshot != "" {
		if err := c.custs.refresh(c.CustSnapshot, custStatus); err != nil {
			return nil, fmt.Errorf("debtors cannot be checked against exchange %q: %w", c.CustExchange, err)
		}
		for _, d := range []string{o.DebtorCode, o.InvoiceDebtorCode} {
			if d == "" {
				continue
			}
			switch st, ok := c.custs.lookup(c.Administration, d); {
			case !ok:
				problems = append(problems, fmt.Sprintf("Order %s: debtor %s is not in %s; Globe would refuse or misfile the order. Check the debtor code in the webshop.", o.Number, d, c.custs.source(c.CustExchange)))
			case st != "":
				problems = append(problems, fmt.Sprintf("Order %s: debtor %s is %s in %s; unblock the debtor in Globe or contact the customer.", o.Number, d, st, c.custs.source(c.CustExchange)))
			}
		}
	}
	if c.ItemsSnapshot != "" {
		if err := c.items.refresh(c.ItemsSnapshot, itemStatus); err != nil {
			return nil, fmt.Errorf("items cannot be checked against exchange %q: %w", c.ItemsExchange, err)
		}
		for _, l := range o.Lines {
			switch st, ok := c.items.lookup(c.Administration, l.ItemCode); {
			case !ok:
				problems = append(problems, fmt.Sprintf("Order %s line %d: item %s is not in %s; correct the item code in the webshop.", o.Number, l.No, l.ItemCode, c.items.source(c.ItemsExchange)))
			case st != "":
				problems = append(problems, fmt.Sprintf("Order %s line %d: item %s is %s in %s; it cannot be ordered.", o.Number, l.No, l.ItemCode, st, c.items.source(c.ItemsExchange)))
			}
		}
	}
	return problems, nil
}
