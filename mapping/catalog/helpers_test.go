package catalog

import (
	"testing"

	"globex/internal/decimal"
)

func mustDec(t testing.TB, s string) decimal.Dec {
	t.Helper()
	d, err := decimal.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
