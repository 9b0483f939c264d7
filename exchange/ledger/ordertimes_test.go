package ledger

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// rawUpdate changes the closed ledger in dir behind the Ledger's back (as a
// crash or an older globex would leave it).
func rawUpdate(t *testing.T, dir string, fn func(*bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, "ledger.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

// since lists the numbers OrdersSince gives, and the numbers a filter over
// every order gives.
func since(t *testing.T, l *Ledger, ex string, at time.Time) (got, want []string) {
	t.Helper()
	if err := l.OrdersSince(ex, at, func(o *Order) error { got = append(got, o.Number); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := l.Orders(ex, func(o *Order) error {
		if o.CreatedAt.After(at) {
			want = append(want, o.Number)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	slices.Sort(want)
	return got, want
}

// OrdersSince gives exactly the orders created after a time, through
// puts, re-puts with another time, deletes, other exchanges and reopening.
func TestOrdersSince(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	base := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	for i := range 400 {
		ex := []string{"shop", "app", "shop2"}[rng.IntN(3)]
		o := &Order{Exchange: ex, Number: fmt.Sprintf("N%d", rng.IntN(150)), State: OrderSent,
			CreatedAt: base.Add(time.Duration(rng.IntN(3600)) * time.Second)}
		if i%37 == 0 {
			o.CreatedAt = time.Time{} // no time: never "since" anything
		}
		if rng.IntN(10) == 0 {
			if err := l.Update(func(tx *Tx) error { return tx.DeleteOrder(o.Exchange, o.Number) }); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := l.PutOrder(o); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string) {
		for _, ex := range []string{"shop", "app", "shop2", "none"} {
			for _, at := range []time.Time{{}, base, base.Add(30 * time.Minute), base.Add(59*time.Minute + 59*time.Second), base.Add(2 * time.Hour)} {
				got, want := since(t, l, ex, at)
				if !slices.Equal(got, want) {
					t.Fatalf("%s: %s since %v: got %v, want %v", when, ex, at, got, want)
				}
			}
		}
	}
	check("open")
	l.Close()
	if l, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	check("reopened")
	l.Close()
}

// A ledger written before the time index existed gets one when opened.
func TestOrderTimesBuiltForOlderLedger(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	for i := range 20 {
		if err := l.PutOrder(&Order{Exchange: "shop", Number: fmt.Sprint(i), CreatedAt: base.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	rawUpdate(t, dir, func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketOrderTimes) })
	if l, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got, want := since(t, l, "shop", base.Add(9*time.Minute+30*time.Second))
	if len(got) != 10 || !slices.Equal(got, want) {
		t.Errorf("got %v, want the 10 orders from minute 10: %v", got, want)
	}
}

// BenchmarkSoldSince compares what the stock feed reads with a year of
// orders in the ledger: every order (as before the time index), or the
// last hour's.
//
//	go test -run '^$' -bench SoldSince ./exchange/ledger/
func BenchmarkSoldSince(b *testing.B) {
	l, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	const orders = 100_000 // a year of a busy shop
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	step := 365 * 24 * time.Hour / orders
	for k := 0; k < orders; k += 10_000 {
		if err := l.Update(func(tx *Tx) error {
			for i := k; i < k+10_000; i++ {
				o := &Order{Exchange: "shop", Number: fmt.Sprintf("WEB-%06d", i), State: OrderSent, CreatedAt: start.Add(time.Duration(i) * step),
					Lines: []OrderLine{{Item: "ART-1", Quantity: "2"}, {Item: "ART-2", Quantity: "1"}, {Item: "ART-3", Quantity: "5"}}}
				if err := tx.PutOrder(o); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	lastHour := start.Add(orders*step - time.Hour)
	b.Run("all", func(b *testing.B) {
		for range b.N {
			n := 0
			l.Orders("shop", func(o *Order) error {
				if o.CreatedAt.After(lastHour) {
					n++
				}
				return nil
			})
		}
	})
	b.Run("since", func(b *testing.B) {
		for range b.N {
			n := 0
			l.OrdersSince("shop", lastHour, func(o *Order) error { n++; return nil })
		}
	})
}

// ArchivingInputs gives exactly the inputs in StateArchiving, through state
// changes, lazy records and a reopen; a ledger without the list gets one.
func TestArchivingInputs(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	states := []string{StateReceived, StateArchiving, StateDone}
	for range 300 {
		in := &Input{Exchange: []string{"shop", "stock"}[rng.IntN(2)], ID: fmt.Sprint("id", rng.IntN(60)), State: states[rng.IntN(3)]}
		if rng.IntN(4) == 0 {
			l.Lazy(in)
			continue
		}
		if err := l.PutInput(in); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	total := 0
	check := func(when string) {
		for _, ex := range []string{"shop", "stock", "none"} {
			var got, want []string
			defer func() { total += len(got) }()
			l.ArchivingInputs(ex, func(in *Input) error { got = append(got, in.ID); return nil })
			l.Inputs(ex, func(in *Input) error {
				if in.State == StateArchiving {
					want = append(want, in.ID)
				}
				return nil
			})
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: %s: got %v, want %v", when, ex, got, want)
			}
		}
	}
	check("open")
	if total == 0 {
		t.Fatal("no input is archiving: the test checks nothing")
	}
	l.Close()
	rawUpdate(t, dir, func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketArchiving) })
	if l, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	check("rebuilt")
	l.Close()
}

// Records written by an earlier version (after a rollback) have no index
// entries: the next open of this version builds the indexes again.
func TestIndexesRebuiltAfterAnOlderWriter(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	if err := l.PutOrder(&Order{Exchange: "shop", Number: "W0", CreatedAt: base}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	// What an older globex writes: records only.
	rawUpdate(t, dir, func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketOrders).Put(key("shop", "W1"), []byte(`{"exchange":"shop","number":"W1","created_at":"2026-11-27T09:00:00Z"}`)); err != nil {
			return err
		}
		return tx.Bucket(bucketInputs).Put(key("shop", "in1"), []byte(`{"id":"in1","exchange":"shop","state":"archiving"}`))
	})
	if l, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got, want := since(t, l, "shop", base)
	if !slices.Equal(got, []string{"W1"}) || !slices.Equal(got, want) {
		t.Errorf("orders since 08:00: got %v, want [W1] (%v)", got, want)
	}
	n := 0
	l.ArchivingInputs("shop", func(*Input) error { n++; return nil })
	if n != 1 {
		t.Errorf("%d archiving inputs, want the older version's one", n)
	}
}

// Times outside 1970-2262 share the first or last slot of the index; the
// orders after them are still all found.
func TestOrdersSinceFarTimes(t *testing.T) {
	l, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i, at := range []time.Time{time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, 100), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if err := l.PutOrder(&Order{Exchange: "shop", Number: fmt.Sprint(i), CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	for _, at := range []time.Time{time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1965, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, 50), time.Date(2290, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if got, want := since(t, l, "shop", at); !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("since %v: got %v, want %v", at, got, want)
		}
	}
}
