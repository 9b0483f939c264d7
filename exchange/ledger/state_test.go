package ledger

import (
	"fmt"
	"testing"
)

// States lists one exchange's states with a prefix, in name order, inside a
// write transaction; DeleteState removes them there.
func TestStatesAndDeleteState(t *testing.T) {
	l, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err = l.Update(func(tx *Tx) error {
		for _, s := range []struct{ ex, name string }{
			{"shop", "seen:b"}, {"shop", "seen:a"}, {"shop", "seem"}, {"shop", "other"}, {"shop2", "seen:x"}, {"sho", "p\x00seen:y"},
		} {
			if err := tx.PutState(s.ex, s.name, []byte(s.name)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	list := func() string {
		var got string
		err := l.Update(func(tx *Tx) error {
			got = ""
			return tx.States("shop", "seen:", func(name string, v []byte) error {
				if string(v) != name {
					return fmt.Errorf("value of %s is %q", name, v)
				}
				got += name + ";"
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := list(); got != "seen:a;seen:b;" {
		t.Fatalf("States = %q", got)
	}
	if err := l.Update(func(tx *Tx) error { return tx.DeleteState("shop", "seen:a") }); err != nil {
		t.Fatal(err)
	}
	if got := list(); got != "seen:b;" {
		t.Fatalf("after DeleteState: %q", got)
	}
	if v, err := l.State("shop", "seen:a"); v != nil || err != nil {
		t.Fatalf("State of a deleted name = %q, %v", v, err)
	}
	if v, _ := l.State("shop2", "seen:x"); string(v) != "seen:x" {
		t.Fatalf("another exchange's state was touched: %q", v)
	}
}
