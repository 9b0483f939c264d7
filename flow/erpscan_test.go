package flow

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomRecord writes a JSON object with the wanted members (sometimes
// missing, repeated, escaped, non-ASCII, in another case) among others of
// every shape.
func randomRecord(rng *rand.Rand) string {
	strs := []string{`"500"`, `"ART-1"`, `"blocked"`, `"inactive"`, `"a\"b"`, `"é"`, `"x\\"`, `""`, `"a\u0041"`, `"tab\there"`}
	vals := []string{`1`, `-2.5e3`, `true`, `false`, `null`, `{}`, `[]`, `{"a":[1,{"b":"}]"}]}`, `["x","y\"]"]`, `"{,}"`}
	keys := []string{"administration", "item_code", "debtor_code", "status", "blocked", "Status", "ITEM_CODE", "descriptions", "attributes", "x", "a\\u0062"}
	var b strings.Builder
	b.WriteString("{")
	n := rng.IntN(8)
	for i := range n {
		if i > 0 {
			b.WriteString([]string{",", " , ", ",\n"}[rng.IntN(3)])
		}
		k := keys[rng.IntN(len(keys))]
		b.WriteString(`"` + k + `"` + []string{":", " : "}[rng.IntN(2)])
		switch {
		case k == "blocked" && rng.IntN(4) > 0:
			b.WriteString([]string{"true", "false"}[rng.IntN(2)])
		case rng.IntN(3) > 0:
			b.WriteString(strs[rng.IntN(len(strs))])
		default:
			b.WriteString(vals[rng.IntN(len(vals))])
		}
	}
	b.WriteString([]string{"}", " }", "}\r"}[rng.IntN(3)])
	return b.String()
}

func checkERPScan(t *testing.T, line string) {
	t.Helper()
	var want erpRec
	werr := json.Unmarshal([]byte(line), &want)
	var got erpRec
	gerr := scanERPRec([]byte(line), &got)
	if werr != nil {
		return // our snapshots are valid JSON; the skipper does not validate
	}
	if gerr != nil || got != want {
		t.Fatalf("%s\nfast %+v %v\njson %+v", line, got, gerr, want)
	}
}

// The field scanner gives what encoding/json gives on valid records.
func TestERPScanMatchesJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for range 20000 {
		checkERPScan(t, randomRecord(rng))
	}
	// a record as the catalogue writes it
	checkERPScan(t, `{"administration":"500","item_code":"BT-M8X40","description":"Bout \"M8\"","descriptions":{"nl":"Bout","de":"Schraube"},"status":"active","attributes":{"brand":"Acme","webshop":"true"},"updated_at":"2026-11-27T10:00:00Z"}`)
}

func FuzzERPScan(f *testing.F) {
	rng := rand.New(rand.NewPCG(13, 14))
	for range 20 {
		f.Add(randomRecord(rng))
	}
	f.Fuzz(func(t *testing.T, line string) { checkERPScan(t, line) })
}
