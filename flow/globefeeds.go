package flow

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"globex/internal/decimal"
	"globex/internal/fsx"
	"globex/mapping/catalog"
	"globex/mapping/customers"
	"globex/mapping/feed"
	"globex/mapping/globe"
	"globex/mapping/pricing"
)

// badExport turns a reader error into bad input (with line and column) or
// leaves it as an environment error.
func badExport(err error, what string) error {
	var se *globe.SyntaxError
	var ve *globe.ValueError
	var fe *globe.FormatError
	var bi *BadInput
	switch {
	case errors.As(err, &bi):
		return err
	case errors.As(err, &se), errors.As(err, &ve), errors.As(err, &fe):
		return &BadInput{Problems: []string{err.Error()},
			Advice: fmt.Sprintf("The published %s feed is unchanged. Export again from Globe (a truncated or damaged file is refused whole) and put the new file in the drop folder.", what)}
	}
	return err
}

func countReasons(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
	}
	return "left out: " + strings.Join(parts, ", ")
}

// LookupPath is where an items exchange keeps, per administration, what a
// prices exchange needs from the items export: cost and sales prices per
// item, and the code of every item group number.
func LookupPath(stateDir, admin string) string {
	return filepath.Join(stateDir, "lookup-"+fsx.SafeName(admin, 60)+".tsv")
}

// Items produces the catalogue from Globe Items exports.
type Items struct {
	Options  catalog.Options
	Encoding string
	StateDir string // where the lookup for prices is kept
}

// UsesIdle implements IdleUser: the items reader is pipelined, and the
// checksum is computed while the mapping waits for it.
func (p *Items) UsesIdle() bool { return true }

// Produce implements Producer.
func (p *Items) Produce(ctx context.Context, f io.Reader, name, admin string, sink Sink) (string, error) {
	opt := p.Options
	opt.Administration = admin
	// With the languages (and attribute names) configured, the CSV columns
	// are known up front and every output is written in one pass; only the
	// configured languages are published then.
	var cols *feed.Columns
	langs := map[string]bool{}
	if len(opt.Languages) > 0 {
		cols = &feed.Columns{}
		for _, l := range opt.Languages {
			langs[l] = true
		}
		if opt.MainLanguage != "" {
			langs[opt.MainLanguage] = true
		}
		for l := range langs {
			cols.Languages = append(cols.Languages, l)
		}
		sort.Strings(cols.Languages)
		for _, a := range opt.Attributes {
			if a.Name == "" {
				cols = nil
				break
			}
			cols.Attributes = append(cols.Attributes, a.Name)
		}
		if cols != nil {
			sort.Strings(cols.Attributes)
		}
	}
	if err := sink.Begin(cols); err != nil {
		return "", err
	}
	// the lookup for prices, streamed beside the feed into the work folder;
	// the feed handler publishes it together with the feed
	work := filepath.Join(p.StateDir, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return "", err
	}
	lk, err := os.CreateTemp(work, ".lookup-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(lk.Name())
	defer lk.Close()
	lw := bufio.NewWriterSize(lk, 256<<10)
	groups := map[string]string{}
	left := map[string]int{}
	err = globe.ReadItems(f, globe.Options{Encoding: p.Encoding, Idle: sink.Idle}, func(it *globe.Item) error {
		if it.HasCostPrice || it.HasSalesPrice {
			fmt.Fprintf(lw, "i\t%s\t%s\t%s\n", it.Code, optDec(it.HasCostPrice, it.CostPrice), optDec(it.HasSalesPrice, it.SalesPrice))
		}
		if it.GroupNumber != "" && it.GroupCode != "" {
			groups[it.GroupNumber] = it.GroupCode
		}
		rec, keep, reason := catalog.Map(it, &opt)
		if !keep {
			left[reason]++
			return nil
		}
		if len(langs) > 0 {
			for l := range rec.Descriptions {
				if !langs[l] {
					delete(rec.Descriptions, l)
				}
			}
		}
		return sink.Emit(rec)
	})
	if err != nil {
		return "", badExport(err, "catalogue")
	}
	for n, c := range groups {
		fmt.Fprintf(lw, "g\t%s\t%s\n", n, c)
	}
	if err := lw.Flush(); err != nil {
		return "", err
	}
	if err := lk.Sync(); err != nil {
		return "", err
	}
	lk.Close()
	if err := fsx.Publish(lk.Name(), filepath.Join(work, "lookup.tsv"), true); err != nil {
		return "", err
	}
	return countReasons(left), nil
}

func optDec(ok bool, d decimal.Dec) string {
	if !ok {
		return ""
	}
	return d.String()
}

// Prices produces the price feed from Globe ItemPrices exports.
type Prices struct {
	Options  pricing.Options
	Encoding string
	// ItemsState is the state folder of the items exchange (optional): its
	// lookup gives costs for markups, sales prices for lines without a
	// value, and item group codes, per administration.
	ItemsState string
}

func (p *Prices) loadLookup(admin string) (cost, sales map[string]decimal.Dec, groups map[string]string, err error) {
	cost, sales, groups = map[string]decimal.Dec{}, map[string]decimal.Dec{}, map[string]string{}
	if p.ItemsState == "" {
		return
	}
	f, err := os.Open(LookupPath(p.ItemsState, admin))
	if errors.Is(err, os.ErrNotExist) {
		return cost, sales, groups, nil
	}
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), "\t")
		switch {
		case parts[0] == "i" && len(parts) == 4:
			if d, e := decimal.Parse(parts[2]); e == nil {
				cost[parts[1]] = d
			}
			if d, e := decimal.Parse(parts[3]); e == nil {
				sales[parts[1]] = d
			}
		case parts[0] == "g" && len(parts) == 3:
			groups[parts[1]] = parts[2]
		}
	}
	return cost, sales, groups, sc.Err()
}

// Produce implements Producer.
func (p *Prices) Produce(ctx context.Context, f io.Reader, name, admin string, sink Sink) (string, error) {
	cost, sales, groups, err := p.loadLookup(admin)
	if err != nil {
		return "", fmt.Errorf("reading the items lookup of administration %s: %w", admin, err)
	}
	opt := p.Options
	opt.Administration = admin
	get := func(m map[string]decimal.Dec) func(string) (decimal.Dec, bool) {
		return func(k string) (decimal.Dec, bool) { d, ok := m[k]; return d, ok }
	}
	if p.ItemsState != "" {
		opt.Cost, opt.BasePrice = get(cost), get(sales)
		opt.GroupCode = func(n string) (string, bool) { g, ok := groups[n]; return g, ok }
	}
	if err := sink.Begin(nil); err != nil {
		return "", err
	}
	warnings := 0
	var firstWarn []string
	var problems []string
	err = globe.ReadItemPrices(f, globe.Options{Encoding: p.Encoding}, func(ip *globe.ItemPrice) error {
		rec, warns, err := pricing.Map(ip, &opt)
		warnings += len(warns)
		if len(firstWarn) < 5 {
			firstWarn = append(firstWarn, warns...)
		}
		if err != nil {
			if len(problems) < 50 {
				problems = append(problems, err.Error())
			}
			return nil
		}
		if rec == nil {
			return nil
		}
		return sink.Emit(rec)
	})
	if err != nil {
		return "", badExport(err, "price")
	}
	if len(problems) > 0 {
		return "", &BadInput{Problems: problems, Advice: "The published price feed is unchanged. Correct the price lists in Globe (or report the export if it looks right there) and export again."}
	}
	s := ""
	if warnings > 0 {
		s = fmt.Sprintf("%d warning(s), e.g. %s", warnings, strings.Join(firstWarn[:min(len(firstWarn), 2)], "; "))
	}
	return s, nil
}

// Customers produces the customer feed from Globe Accounts exports.
type Customers struct {
	Options  customers.Options
	Encoding string
}

// Produce implements Producer.
func (p *Customers) Produce(ctx context.Context, f io.Reader, name, admin string, sink Sink) (string, error) {
	opt := p.Options
	opt.Administration = admin
	if err := sink.Begin(nil); err != nil {
		return "", err
	}
	left := map[string]int{}
	err := globe.ReadAccounts(f, globe.Options{Encoding: p.Encoding}, func(a *globe.Account) error {
		rec, keep, reason := customers.Map(a, &opt)
		if !keep {
			left[reason]++
			return nil
		}
		return sink.Emit(rec)
	})
	if err != nil {
		return "", badExport(err, "customer")
	}
	return countReasons(left), nil
}
