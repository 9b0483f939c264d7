package customers

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"globex/internal/decimal"
	"globex/internal/testutil"
	"globex/mapping/feed"
	"globex/mapping/globe"
)

var update = flag.Bool("update", false, "rewrite the golden feed files in testdata/mapping/golden")

func repoRoot() string { return testutil.RepoRoot() }

func readAccounts(t testing.TB, path string) []*globe.Account {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*globe.Account
	if err := globe.ReadAccounts(f, globe.Options{}, func(a *globe.Account) error {
		out = append(out, a.Clone())
		return nil
	}); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

func cases(t testing.TB) map[string]*globe.Account {
	m := map[string]*globe.Account{}
	for _, a := range readAccounts(t, filepath.Join(repoRoot(), "testdata", "mapping", "accounts-cases.xml")) {
		m[a.Code] = a
	}
	return m
}

func TestFullRecord(t *testing.T) {
	a := cases(t)["FULL"]
	rec, keep, reason := Map(a, &Options{Administration: "500", AddressTypes: map[string]string{"wh2": "delivery"}})
	if !keep {
		t.Fatalf("left out: %s", reason)
	}
	disc := decimal.MustParse("2.5")
	want := &feed.Customer{
		Administration: "500", DebtorCode: "10001", DebtorNumber: "10001", Name: "Jansen Techniek B.V.",
		Status: "active", PriceList: "WHS", PaymentCondition: "30", DeliveryMethod: "DPD",
		DiscountPercent: &disc, Currency: "USD",
		Addresses: []feed.Address{
			{Type: "invoice", Line1: "Postbus 100", Postcode: "3500 AC", City: "Utrecht", Country: "NL"},
			{Type: "delivery", Line1: "Industrieweg 12", Line2: "Hal 3, Dock 4", Postcode: "3542 AD", City: "Utrecht", Country: "NL"},
			{Type: "visit", Line1: "Industrieweg 10", City: "Utrecht"},
			{Type: "postal", Line2: "Only line 3"},
			{Type: "delivery", Line1: "Loods 2"},
			{Type: "visit", Line1: "No type"},
		},
	}
	if !reflect.DeepEqual(rec, want) {
		t.Errorf("got  %s\nwant %s", rec.AppendJSON(nil), want.AppendJSON(nil))
	}
	// Without the override, an unknown type is passed on lower-cased.
	rec, _, _ = Map(a, nil)
	if rec.Addresses[4].Type != "wh2" {
		t.Errorf("unknown address type %q, want wh2", rec.Addresses[4].Type)
	}
}

func TestStatusesAndFilters(t *testing.T) {
	accts := cases(t)
	tests := []struct {
		code    string
		opt     *Options
		keep    bool
		status  string
		blocked bool
		reason  string
	}{
		{code: "FULL", keep: true, status: "active"},
		{code: "BLOCKED", keep: true, status: "blocked", blocked: true},
		{code: "BLOCKEDEL", keep: true, status: "active", blocked: true},
		{code: "EXIT", keep: true, status: "exit", blocked: true},
		{code: "PASSIVE", keep: true, status: "passive"},
		{code: "PILOT", keep: true, status: "pilot"},
		{code: "NOSTATUS", keep: true, status: "active"},
		{code: "ODD", keep: true, status: "z"},
		{code: "RESELLER", keep: true, status: "active"},
		{code: "BOTH", keep: true, status: "active"},
		{code: "SUPPLIER", reason: "not a debtor"},
		{code: "PROSPECT", reason: "not a debtor"},
		{code: "EMPTYDEB", reason: "not a debtor"},
		{code: "EXIT", opt: &Options{Statuses: []string{"active", "blocked"}}, reason: "status exit not in the feed"},
		{code: "BLOCKED", opt: &Options{Statuses: []string{"Active", " BLOCKED"}}, keep: true, status: "blocked", blocked: true},
		{code: "RESELLER", opt: &Options{Types: []string{"C"}}, reason: "account type R not in the feed"},
		{code: "RESELLER", opt: &Options{Types: []string{"c", "r"}}, keep: true, status: "active"},
	}
	for _, tt := range tests {
		a, ok := accts[tt.code]
		if !ok {
			t.Fatalf("no account %s in the fixture", tt.code)
		}
		rec, keep, reason := Map(a, tt.opt)
		if keep != tt.keep || reason != tt.reason {
			t.Errorf("%s: keep=%v reason=%q, want %v %q", tt.code, keep, reason, tt.keep, tt.reason)
			continue
		}
		if keep && (rec.Status != tt.status || rec.Blocked != tt.blocked) {
			t.Errorf("%s: status %q blocked %v, want %q %v", tt.code, rec.Status, rec.Blocked, tt.status, tt.blocked)
		}
	}
	rec, _, _ := Map(accts["PILOT"], &Options{Currency: "EUR"})
	if rec.Currency != "EUR" || rec.DiscountPercent != nil || rec.Addresses != nil {
		t.Errorf("PILOT: %s", rec.AppendJSON(nil))
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		opt  Options
		want string
	}{
		{Options{}, ""},
		{Options{Statuses: AllStatuses, Types: []string{"c", "R"}, AddressTypes: map[string]string{"WH": "delivery"}}, ""},
		{Options{Statuses: []string{"active", "deleted"}}, `statuses[1]: unknown customer status "deleted"`},
		{Options{Types: []string{"X"}}, `types[0]: unknown Globe account type "X"`},
		{Options{AddressTypes: map[string]string{"WH": " "}}, "address_types: empty code or name"},
	}
	for _, tt := range tests {
		err := tt.opt.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: %v", tt.opt, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%+v: error %v, want %q", tt.opt, err, tt.want)
		}
	}
}

// TestSampleAccounts maps samples/exports/accounts-500.xml: five debtors,
// the creditor left out.
func TestSampleAccounts(t *testing.T) {
	accts := readAccounts(t, filepath.Join(repoRoot(), "samples", "exports", "accounts-500.xml"))
	if len(accts) != 6 {
		t.Fatalf("%d accounts, want 6", len(accts))
	}
	var out []byte
	var left []string
	blocked := 0
	for _, a := range accts {
		rec, keep, reason := Map(a, &Options{Administration: "500"})
		if !keep {
			left = append(left, a.Code+": "+reason)
			continue
		}
		if rec.Blocked {
			blocked++
		}
		out = rec.AppendJSON(out)
		out = append(out, '\n')
	}
	if !reflect.DeepEqual(left, []string{"20001: not a debtor"}) || blocked != 1 {
		t.Errorf("left out %q, %d blocked; want the creditor 20001 out and one blocked", left, blocked)
	}
	if !bytes.Contains(out, []byte(`"debtor_code":"10004"`)) {
		t.Error("padded debtor code not trimmed")
	}
	path := filepath.Join(repoRoot(), "testdata", "mapping", "golden", "customers.jsonl")
	if *update {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("customers.jsonl differs from the golden file (go test -update to accept):\n%s", out)
	}
}

func trimmed(s string) string { return strings.TrimSpace(s) }

func TestValidateCurrency(t *testing.T) {
	if err := (&Options{Currency: "eur"}).Validate(); err == nil {
		t.Error("lower-case currency accepted")
	}
}
