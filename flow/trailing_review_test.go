package flow

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"globex/exchange"
	"globex/exchange/ledger"
	"globex/internal/decimal"
	"globex/mapping/feed"
)

// recordsProducer emits recs (learned columns: Begin(nil)), failing after
// failAfter records when failAfter > 0.
type recordsProducer struct {
	recs      []feed.Record
	failAfter int
	spooled   bool // a TrailingCSV spool was in the work folder after Begin
}

var errProducer = errors.New("the export's volume went away")

func (p *recordsProducer) Produce(ctx context.Context, in io.Reader, name, admin string, sink Sink) (string, error) {
	if err := sink.Begin(nil); err != nil {
		return "", err
	}
	if td, ok := sink.(interface{ TempDir() string }); ok {
		m, _ := filepath.Glob(filepath.Join(td.TempDir(), ".csv-rows-*"))
		p.spooled = len(m) > 0
	}
	for i, r := range p.recs {
		if p.failAfter > 0 && i == p.failAfter {
			return "", errProducer
		}
		if err := sink.Emit(r); err != nil {
			return "", err
		}
	}
	return "", nil
}

func trailingRecords(kind feed.Kind) []feed.Record {
	var recs []feed.Record
	for i, g := range []int{0, 2, 1, 5, 0, 5, 3} {
		code := string(rune('A' + i))
		if kind == feed.KindPrices {
			p := &feed.Price{Administration: "500", PriceList: "VK", ItemCode: code, Customer: `a;"b"`, BasePrice: decimal.FromInt(int64(i))}
			for j := range g {
				p.Breaks = append(p.Breaks, feed.Break{MinQuantity: decimal.FromInt(int64(j + 1)), DiscountType: feed.DiscountAmount, Value: decimal.MustParse("0.5")})
			}
			recs = append(recs, p)
		} else {
			c := &feed.Customer{Administration: "500", DebtorCode: code, Name: " Jansen\n"}
			for range g {
				c.Addresses = append(c.Addresses, feed.Address{Type: "visit", Line1: "x;y", City: "Zwolle ", Country: "NL"})
			}
			recs = append(recs, c)
		}
	}
	return recs
}

// runFeed runs one input through a Feed of kind with formats; admins set
// Administrations (several administrations).
func runFeed(t *testing.T, dir string, kind feed.Kind, formats []string, admins map[string]string, p Producer) (exchange.Outcome, error) {
	t.Helper()
	target := filepath.Join(dir, "feed")
	os.MkdirAll(target, 0o755)
	in := filepath.Join(dir, "export.xml")
	os.WriteFile(in, []byte("<export/>"), 0o644)
	h := &Feed{Exchange: string(kind), Kind: kind, Administration: "500", Administrations: admins, Formats: formats,
		StateDir: filepath.Join(dir, "state"), Target: &exchange.LocalTarget{Dir: target},
		Archive: &exchange.Archive{Root: filepath.Join(dir, "archive")}, Producer: p}
	job := &exchange.Job{Exchange: string(kind), Input: &ledger.Input{ID: "ID1", Name: "export-500.xml"}, Path: in, Log: zerolog.Nop(),
		Open:   func() (io.ReadCloser, error) { return os.Open(in) },
		SHA256: func() (string, error) { return "0123", nil }}
	return h.Handle(context.Background(), job)
}

// The CSV of prices and customers (learned columns) is the CSVWriter's for
// every set of formats and with several administrations, and every file
// published was synced to the disk first.
func TestFeedTrailingCSVFormats(t *testing.T) {
	var mu sync.Mutex
	synced := map[string]bool{}
	defer func(f func(*os.File) error) { syncFile = f }(syncFile)
	syncFile = func(f *os.File) error {
		mu.Lock()
		synced[filepath.Base(f.Name())] = true
		mu.Unlock()
		return f.Sync()
	}
	for _, kind := range []feed.Kind{feed.KindPrices, feed.KindCustomers} {
		recs := trailingRecords(kind)
		var cols feed.Columns
		for _, r := range recs {
			cols.Learn(r)
		}
		var want bytes.Buffer
		cw := feed.NewCSVWriter(&want, kind, cols)
		for _, r := range recs {
			cw.Write(r)
		}
		cw.Close()
		for _, formats := range [][]string{{"jsonl"}, {"csv"}, {"jsonl", "csv"}, {"jsonl", "xlsx"}, {"jsonl", "csv", "xlsx"}} {
			for _, multi := range []bool{false, true} {
				name := string(kind) + " " + strings.Join(formats, ",")
				var admins map[string]string
				if multi {
					admins, name = map[string]string{"export-500*": "500"}, name+" several administrations"
				}
				t.Run(name, func(t *testing.T) {
					clear(synced)
					dir := t.TempDir()
					p := &recordsProducer{recs: recs}
					out, err := runFeed(t, dir, kind, formats, admins, p)
					if err != nil || out.Disposition != ledger.OutcomeProcessed {
						t.Fatalf("%+v %v", out, err)
					}
					if want := !multi && strings.Contains(strings.Join(formats, ","), "csv"); p.spooled != want {
						t.Errorf("CSV written in the one pass: %v, want %v", p.spooled, want)
					}
					for _, o := range out.Outputs {
						if !synced[o] && !(o == string(kind)+".jsonl" && synced["part.jsonl"]) {
							t.Errorf("%s published without a sync (synced: %v)", o, synced)
						}
					}
					csv, err := os.ReadFile(filepath.Join(dir, "feed", string(kind)+".csv"))
					if hasCSV := strings.Contains(strings.Join(formats, ","), "csv"); hasCSV != (err == nil) {
						t.Fatalf("CSV published: %v, asked: %v", err == nil, hasCSV)
					} else if hasCSV && !bytes.Equal(csv, want.Bytes()) {
						t.Errorf("CSV:\n got %q\nwant %q", csv, want.Bytes())
					}
					if ents, _ := os.ReadDir(filepath.Join(dir, "state", "work")); len(ents) != 0 {
						t.Errorf("left in the work folder: %v", ents)
					}
				})
			}
		}
	}
}

// A producer failing midway publishes nothing and leaves no spool behind.
func TestFeedTrailingCSVProducerFails(t *testing.T) {
	for _, kind := range []feed.Kind{feed.KindPrices, feed.KindCustomers} {
		dir := t.TempDir()
		_, err := runFeed(t, dir, kind, []string{"jsonl", "csv"}, nil, &recordsProducer{recs: trailingRecords(kind), failAfter: 4})
		if !errors.Is(err, errProducer) {
			t.Fatalf("%s: %v", kind, err)
		}
		if ents, _ := os.ReadDir(filepath.Join(dir, "feed")); len(ents) != 0 {
			t.Errorf("%s: published %v", kind, ents)
		}
		if ents, _ := os.ReadDir(filepath.Join(dir, "state", "work")); len(ents) != 0 {
			t.Errorf("%s: left in the work folder: %v", kind, ents)
		}
	}
}
