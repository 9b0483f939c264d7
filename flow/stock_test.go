package flow

import (
	"testing"
	"time"

	"globex/exchange/ledger"
)

// Orders are subtracted only from the stock of their own administration.
func TestSoldSincePerAdministration(t *testing.T) {
	l, err := ledger.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	at := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	for ex, qty := range map[string]string{"shop-500": "2", "shop-600": "5"} {
		if err := l.PutOrder(&ledger.Order{Exchange: ex, Number: "W1", State: ledger.OrderSent, CreatedAt: at.Add(time.Hour),
			Lines: []ledger.OrderLine{{Item: "A", Quantity: qty}}}); err != nil {
			t.Fatal(err)
		}
	}
	p := &Stock{Ledger: l, OrderExchanges: []string{"shop-500", "shop-600"},
		OrderAdministrations: map[string]string{"shop-500": "500", "shop-600": "600"}}
	sold, n, err := p.soldSince("500", at)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || sold["A"].String() != "2" {
		t.Errorf("administration 500: %d orders, A %s; want 1 order, A 2", n, sold["A"])
	}
}
