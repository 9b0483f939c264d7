package flow

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
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

func (ix *snapshotIndex) refresh(path, codeField string, blocked func(map[string]any) string) error {
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
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		admin, _ := rec["administration"].(string)
		code, _ := rec[codeField].(string)
		m[admin+"\x00"+code] = blocked(rec)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	ix.path, ix.mod, ix.size, ix.status = path, st.ModTime(), st.Size(), m
	ix.meta = PublishedMeta{}
	if b, err := os.ReadFile(MetaPath(path)); err == nil {
		_ = json.Unmarshal(b, &ix.meta)
	}
	return nil
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
		if err := c.custs.refresh(c.CustSnapshot, "debtor_code", func(r map[string]any) string {
			if b, _ := r["blocked"].(bool); b {
				return "blocked"
			}
			return ""
		}); err != nil {
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
		if err := c.items.refresh(c.ItemsSnapshot, "item_code", func(r map[string]any) string {
			switch s, _ := r["status"].(string); s {
			case "blocked", "inactive":
				return s
			}
			return ""
		}); err != nil {
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
