package customers

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"globex/mapping/globe"
)

// FuzzMapExport reads fuzzed Accounts exports and maps every account:
// nothing panics, and a kept record has a non-empty trimmed debtor code.
func FuzzMapExport(f *testing.F) {
	for _, p := range []string{
		filepath.Join(repoRoot(), "testdata", "mapping", "accounts-cases.xml"),
		filepath.Join(repoRoot(), "samples", "exports", "accounts-500.xml"),
	} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = globe.ReadAccounts(bytes.NewReader(data), globe.Options{}, func(a *globe.Account) error {
			rec, keep, _ := Map(a, nil)
			if keep && (rec.DebtorCode == "" || rec.DebtorCode != trimmed(rec.DebtorCode)) {
				t.Fatalf("bad debtor code %q", rec.DebtorCode)
			}
			return nil
		})
	})
}
