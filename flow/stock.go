package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"globex/exchange/ledger"
	"globex/internal/decimal"
	"globex/mapping/feed"
	"globex/mapping/stock"
)

// Stock produces the stock feed from a stock export (CSV or XLSX).
type Stock struct {
	Options stock.Options
	Rules   stock.Rules
	// Ledger and OrderExchanges: quantities of orders written to the ERP
	// after the export's measuring time are subtracted (the export cannot
	// know them yet), so a full stock sync never re-opens stock just sold.
	Ledger         *ledger.Ledger
	OrderExchanges []string
	// OrderAdministrations gives the administration of an orders exchange:
	// its orders are subtracted only from that administration's stock
	// (an exchange not listed counts for every administration).
	OrderAdministrations map[string]string
	// Log, when set, receives progress lines (debug level).
	Log func(string)
}

// Produce implements Producer.
func (p *Stock) Produce(ctx context.Context, f io.Reader, name, admin string, sink Sink) (string, error) {
	opts := p.Options
	opts.Administration = admin
	if st, ok := f.(interface{ Stat() (os.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil {
			if opts.MeasuredAt.IsZero() {
				opts.MeasuredAt = fi.ModTime()
			}
		}
	}
	if opts.TempDir == "" {
		if td, ok := sink.(interface{ TempDir() string }); ok {
			opts.TempDir = td.TempDir()
		}
	}
	res, err := stock.Read(f, opts)
	if err == nil {
		defer res.Close()
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return "", err
		}
		return "", &BadInput{Problems: []string{err.Error()},
			Advice: "The published stock feed is unchanged. Correct the export (or the exchange's feed: options for delimiter, decimal separator, encoding and columns) and put it back."}
	}
	rules := p.Rules
	if p.Log != nil {
		p.Log(fmt.Sprintf("%d rows read, %d items", res.Rows(), res.Items()))
	}
	subtracted := 0
	if len(p.OrderExchanges) > 0 && p.Ledger != nil {
		sold, n, err := p.soldSince(admin, res.MeasuredAt())
		if err != nil {
			return "", err
		}
		subtracted = n
		if len(sold) > 0 {
			rules.Reserved = func(a, item string) decimal.Dec { return sold[item] }
		}
	}
	cols := res.Columns(rules)
	if err := sink.Begin(&cols); err != nil {
		return "", err
	}
	if ps, ok := sink.(ParallelSink); ok && ps.Writers() != nil {
		// one pass per writer, in parallel (JSONL with its index, CSV, …)
		err = res.WriteTo(rules, ps.Writers()...)
	} else {
		err = res.Each(rules, func(rec *feed.Stock) error { return sink.Emit(rec) })
	}
	if err != nil {
		return "", err
	}
	summary := fmt.Sprintf("%d rows, %d items", res.Rows(), res.Items())
	if subtracted > 0 {
		summary += fmt.Sprintf(", %d order(s) sent after the measuring time subtracted", subtracted)
	}
	if res.BadRowCount() > 0 {
		summary += fmt.Sprintf(", %d bad row(s) skipped", res.BadRowCount())
	}
	return summary, nil
}

// soldSince sums, per item, the quantities of orders written for the ERP after
// measured (all orders when the export carries no measuring time: then
// nothing can be known, and nothing is subtracted).
func (p *Stock) soldSince(admin string, measured time.Time) (map[string]decimal.Dec, int, error) {
	if measured.IsZero() {
		return nil, 0, nil
	}
	sold := map[string]decimal.Dec{}
	n := 0
	counts := map[string]bool{}
	for _, w := range p.Rules.Warehouses {
		counts[w] = true
	}
	for _, ex := range p.OrderExchanges {
		if a, ok := p.OrderAdministrations[ex]; ok && a != "" && admin != "" && a != admin {
			continue // another company's orders
		}
		// Only the orders since the measuring time are read (an index by
		// creation time), not every order ever sent.
		err := p.Ledger.OrdersSince(ex, measured, func(o *ledger.Order) error {
			// Staged orders count too (their file may be in the ERP folder
			// already); CreatedAt, not SentAt, so a restart cannot move an
			// order past the measuring time.
			if !o.CreatedAt.After(measured) {
				return nil
			}
			n++
			for _, l := range o.Lines {
				if len(counts) > 0 && l.Warehouse != "" && !counts[l.Warehouse] {
					continue
				}
				q, err := decimal.Parse(l.Quantity)
				if err != nil {
					continue
				}
				if s, err := sold[l.Item].Add(q); err == nil {
					sold[l.Item] = s
				}
			}
			return nil
		})
		if err != nil {
			return nil, 0, err
		}
	}
	return sold, n, nil
}
