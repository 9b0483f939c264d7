package ledger

import (
	"errors"
	"testing"
)

func TestRoundTripAndReopen(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	inst := l.Instance()
	in := &Input{ID: "0001", Exchange: "shop", Name: "a.json", SHA256: "abc", State: StateDone, Outcome: OutcomeProcessed}
	if err := l.PutInput(in); err != nil {
		t.Fatal(err)
	}
	if err := l.PutOrder(&Order{Exchange: "shop", Number: "WEB-1", Hash: "h", State: OrderSent}); err != nil {
		t.Fatal(err)
	}
	// a second process cannot open the same state folder
	if _, err := Open(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
	l.Close()
	l, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Instance() != inst {
		t.Error("instance id changed across reopen")
	}
	got, ok, err := l.Input("shop", "0001")
	if err != nil || !ok || got.Name != "a.json" {
		t.Fatalf("input %+v %v %v", got, ok, err)
	}
	if o, ok, _ := l.Order("shop", "WEB-1"); !ok || o.Hash != "h" {
		t.Fatalf("order %+v", o)
	}
	if _, ok, _ := l.Order("other", "WEB-1"); ok {
		t.Fatal("orders leak between exchanges")
	}
	if p, ok, _ := l.ProcessedWithSHA("shop", "abc"); !ok || p.ID != "0001" {
		t.Fatalf("sha index %+v", p)
	}
	n := 0
	l.Inputs("shop", func(*Input) error { n++; return nil })
	if n != 1 {
		t.Fatalf("inputs %d", n)
	}
}
