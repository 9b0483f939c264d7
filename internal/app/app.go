// Package app builds globex's exchanges from a configuration and runs them:
// the commands of the CLI are thin calls into this package.
package app

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"globex/exchange"
	"globex/exchange/ledger"
	"globex/flow"
	"globex/internal/config"
	"globex/internal/decimal"
	"globex/mapping/catalog"
	"globex/mapping/customers"
	"globex/mapping/feed"
	"globex/mapping/globexml"
	"globex/mapping/pricing"
	"globex/mapping/stock"
)

// App is an opened configuration: the ledger and one runner per exchange.
type App struct {
	Cfg     *config.Config
	Ledger  *ledger.Ledger
	Log     zerolog.Logger
	Runners []*exchange.Runner
	closers []func() error
}

// Open opens the ledger and builds every exchange. watch enables file events.
func Open(cfg *config.Config, log zerolog.Logger, watch bool) (*App, error) {
	l, err := ledger.Open(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	a := &App{Cfg: cfg, Ledger: l, Log: log}
	arch := &exchange.Archive{Root: cfg.ArchiveDir}
	for i := range cfg.Exchanges {
		ex := &cfg.Exchanges[i]
		r, err := a.build(ex, arch, watch)
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("exchange %q: %w", ex.Name, err)
		}
		a.Runners = append(a.Runners, r)
	}
	return a, nil
}

func (a *App) build(ex *config.Exchange, arch *exchange.Archive, watch bool) (*exchange.Runner, error) {
	log := a.Log.With().Str("exchange", ex.Name).Logger()
	filter := exchange.Filter{Include: ex.Source.Include, Exclude: ex.Source.Exclude, DoneSuffix: ex.Source.DoneSuffix}
	r := &exchange.Runner{
		Exchange:     ex.Name,
		Ledger:       a.Ledger,
		Archive:      arch,
		Log:          log,
		MaxSize:      int64(ex.Source.MaxSize),
		ScanInterval: ex.Source.ScanInterval,
		Workers:      ex.Workers,
		Ready:        exchange.Readiness{StableFor: ex.Source.StableFor, Settle: 15 * time.Millisecond, DoneSuffix: ex.Source.DoneSuffix},
	}
	if s := ex.Source.SFTP; s != nil {
		c, err := newSFTPClient(a.Cfg, ex, s, log)
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, c.Close)
		src := &exchange.SFTPSource{Client: c, Filter: filter, Instance: a.Ledger.Instance(), Exchange: ex.Name,
			Spool: filepath.Join(a.Cfg.StateDir, "spool", ex.Name), After: ex.Source.After, MoveTo: ex.Source.MoveTo, Log: log,
			Seen: exchange.LedgerSeen(a.Ledger, ex.Name)}
		r.Source = src
		r.ScanInterval = ex.Source.PollInterval
		if ex.Source.DoneSuffix != "" {
			r.Markers = src.Markers
		}
	} else {
		src, err := exchange.NewLocalSource(ex.Source.Dir, filter, a.Ledger.Instance(), ex.Name, watch, log)
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, src.Close)
		r.Source, r.Stat, r.HintsLost = src, src.Stat, src.HintsLost
		if ex.Source.DoneSuffix != "" {
			r.Markers = src.Markers
		}
	}
	var tgt exchange.Target
	if s := ex.Target.SFTP; s != nil {
		c, err := newSFTPClient(a.Cfg, ex, s, log)
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, c.Close)
		tgt = &exchange.SFTPTarget{Client: c, Spool: filepath.Join(a.Cfg.StateDir, "spool", ex.Name+"-out")}
	} else {
		tgt = &exchange.LocalTarget{Dir: ex.Target.Dir}
	}
	switch ex.Kind {
	case config.KindOrders:
		o := ex.Orders
		r.Handler = &flow.Orders{
			Exchange: ex.Name, Administration: ex.Administration, Target: tgt, TargetDesc: tgt.Describe(),
			Ledger: a.Ledger, Archive: arch, AllOrNothing: o.AllOrNothing,
			XML: globexml.Options{
				OrderNumberField: o.OrderNumberField, ResourceNumber: o.ResourceNumber,
				NoteDocumentType: o.NoteDocumentType, NoteSubject: o.NoteSubject,
				DefaultWarehouse: o.DefaultWarehouse, DefaultCurrency: o.DefaultCurrency,
				DeliveryMethods: o.DeliveryMethods, PaymentConditions: o.PaymentConditions, Units: o.Units,
				OmitPrices: o.OmitPrices,
			},
		}
		if o.CheckItems != "" || o.CheckCustomers != "" {
			c := &flow.ERPCheck{Administration: ex.Administration, ItemsExchange: o.CheckItems, CustExchange: o.CheckCustomers}
			if o.CheckItems != "" {
				c.ItemsSnapshot = flow.SnapshotPath(a.feedState(o.CheckItems))
			}
			if o.CheckCustomers != "" {
				c.CustSnapshot = flow.SnapshotPath(a.feedState(o.CheckCustomers))
			}
			r.Handler.(*flow.Orders).Check = c
		}
	case config.KindStock:
		prod, err := a.stockProducer(ex)
		if err != nil {
			return nil, err
		}
		r.Handler = a.feedHandler(ex, feed.KindStock, tgt, arch, prod)
	case config.KindItems:
		f := ex.Feed
		opt := catalog.Options{Administration: ex.Administration, Languages: f.Languages, MainLanguage: f.MainLanguage,
			DefaultLanguage: f.DefaultLanguage, Statuses: f.Statuses, ItemTypes: f.ItemTypes, SalesOnly: f.SalesOnly, Currency: f.Currency}
		for _, at := range f.Attributes {
			opt.Attributes = append(opt.Attributes, catalog.AttributeRule{Kind: at.Field, Number: at.Number, Label: at.Label, Name: at.Name})
		}
		if err := opt.Validate(); err != nil {
			return nil, fmt.Errorf("feed options: %w", err)
		}
		r.Handler = a.feedHandler(ex, feed.KindCatalogue, tgt, arch, &flow.Items{Options: opt, Encoding: f.Encoding, StateDir: a.feedState(ex.Name)})
	case config.KindPrices:
		p := &flow.Prices{Options: pricing.Options{Administration: ex.Administration, Currency: ex.Feed.Currency}, Encoding: ex.Feed.Encoding}
		if ex.Feed.ItemsExchange != "" {
			p.ItemsState = a.feedState(ex.Feed.ItemsExchange)
		}
		if err := p.Options.Validate(); err != nil {
			return nil, fmt.Errorf("feed options: %w", err)
		}
		r.Handler = a.feedHandler(ex, feed.KindPrices, tgt, arch, p)
	case config.KindCustomers:
		f := ex.Feed
		opt := customers.Options{Administration: ex.Administration, Statuses: f.Statuses, Types: f.AccountTypes, AddressTypes: f.AddressTypes, Currency: f.Currency}
		if err := opt.Validate(); err != nil {
			return nil, fmt.Errorf("feed options: %w", err)
		}
		r.Handler = a.feedHandler(ex, feed.KindCustomers, tgt, arch, &flow.Customers{Options: opt, Encoding: f.Encoding})
	default:
		return nil, fmt.Errorf("kind %q is not available in this build yet", ex.Kind)
	}
	return r, nil
}

func (a *App) feedHandler(ex *config.Exchange, kind feed.Kind, tgt exchange.Target, arch *exchange.Archive, prod flow.Producer) *flow.Feed {
	return &flow.Feed{
		Exchange: ex.Name, Kind: kind, Administration: ex.Administration, Administrations: ex.Feed.Administrations,
		Formats: ex.Formats, StateDir: a.feedState(ex.Name),
		Target: tgt, Archive: arch, Ledger: a.Ledger, Producer: prod,
	}
}

// feedState is the state folder of a feed exchange.
func (a *App) feedState(exchange string) string {
	return filepath.Join(a.Cfg.StateDir, "feeds", exchange)
}

func (a *App) stockProducer(ex *config.Exchange) (*flow.Stock, error) {
	f := ex.Feed
	opt := stock.Options{Encoding: f.Encoding, Columns: f.Columns, Sheet: f.Sheet, SkipBadRows: f.SkipBadRows}
	switch f.Delimiter {
	case "":
	case ";", ",":
		opt.Delimiter = f.Delimiter[0]
	case "tab", "\t", `\t`:
		opt.Delimiter = '\t'
	default:
		return nil, fmt.Errorf("feed.delimiter %q is not one of ';', ',', tab", f.Delimiter)
	}
	switch f.DecimalSeparator {
	case "":
	case ",", ".":
		opt.Decimal = f.DecimalSeparator[0]
	default:
		return nil, fmt.Errorf("feed.decimal_separator %q is not ',' or '.'", f.DecimalSeparator)
	}
	rules := stock.Rules{Warehouses: f.Warehouses, Display: f.Display}
	for _, d := range []struct {
		key, val string
		dst      *decimal.Dec
	}{{"safety_stock", f.SafetyStock, &rules.SafetyStock}, {"low_stock_threshold", f.LowStockThreshold, &rules.LowStockThreshold}, {"cap", f.Cap, &rules.Cap}} {
		if d.val == "" {
			continue
		}
		v, err := decimal.Parse(d.val)
		if err != nil {
			return nil, fmt.Errorf("feed.%s %q is not a number with a decimal point", d.key, d.val)
		}
		*d.dst = v
	}
	if err := rules.Validate(); err != nil {
		return nil, err
	}
	log := a.Log.With().Str("exchange", ex.Name).Logger()
	admins := map[string]string{}
	for _, n := range f.SubtractOrdersFrom {
		if o, ok := a.Cfg.Exchange(n); ok {
			admins[n] = o.Administration
		}
	}
	return &flow.Stock{Options: opt, Rules: rules, Ledger: a.Ledger, OrderExchanges: f.SubtractOrdersFrom,
		OrderAdministrations: admins, Log: func(s string) { log.Debug().Msg(s) }}, nil
}

// Close releases the ledger and the sources.
func (a *App) Close() error {
	for _, c := range a.closers {
		c()
	}
	return a.Ledger.Close()
}

// Run runs every exchange until ctx is cancelled.
func (a *App) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, r := range a.Runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Log.Info().Str("source", r.Source.Describe()).Msg("watching")
			_ = r.Run(ctx)
		}()
	}
	wg.Wait()
	a.Log.Info().Msg("stopped cleanly")
	return nil
}

// Exit statuses of `globex once` (CONTRACT §1).
const (
	ExitOK          = 0
	ExitQuarantined = 1
	ExitUsage       = 2
	ExitRuntime     = 3
)

// Once processes everything pending in every exchange and returns the exit
// status.
func (a *App) Once(ctx context.Context) int {
	var mu sync.Mutex
	quarantined, runtime := false, false
	// Items, customers and stock first, then prices (they use the items
	// export), then orders (they may be checked against the exports).
	phase := func(kind string) int {
		switch kind {
		case config.KindPrices:
			return 1
		case config.KindOrders:
			return 2
		}
		return 0
	}
	for p := range 3 {
		var wg sync.WaitGroup
		for i, r := range a.Runners {
			if phase(a.Cfg.Exchanges[i].Kind) != p {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				patience := 3*r.Ready.StableFor + time.Second
				st, err := r.Once(ctx, patience)
				mu.Lock()
				defer mu.Unlock()
				if st.Failed > 0 {
					quarantined = true
				}
				if err != nil {
					runtime = true
					r.Log.Error().Err(err).Msg("exchange could not finish")
				}
				r.Log.Info().Int("processed", st.Processed).Int("failed", st.Failed).Int("duplicates", st.Duplicates).Msg("done")
			}()
		}
		wg.Wait()
	}
	switch {
	case runtime:
		return ExitRuntime
	case quarantined:
		return ExitQuarantined
	}
	return ExitOK
}
