package flow

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"globex/mapping/order"
)

// The ERP check reads status from the published snapshots: unknown,
// blocked and inactive codes are problems, per administration, and a
// changed snapshot is read again.
func TestERPCheckReadsSnapshots(t *testing.T) {
	dir := t.TempDir()
	items := filepath.Join(dir, "items.jsonl")
	custs := filepath.Join(dir, "custs.jsonl")
	write := func(path, body string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(items, `{"administration":"500","item_code":"A","description":"x","descriptions":{"nl":"y"},"status":"active","attributes":{"k":"v"}}
{"administration":"500","item_code":"B","status":"blocked"}
{"administration":"500","item_code":"C","status":"inactive"}
{"administration":"600","item_code":"D","status":"active"}
`)
	write(custs, `{"administration":"500","debtor_code":"K1","name":"n","blocked":false,"addresses":[{"type":"visit","city":"Z"}]}
{"administration":"500","debtor_code":"K2","blocked":true}
`)
	c := &ERPCheck{Administration: "500", ItemsExchange: "catalogue", ItemsSnapshot: items, CustExchange: "customers", CustSnapshot: custs}
	o := &order.Order{Number: "W1", DebtorCode: "K1", Lines: []order.Line{{No: 1, ItemCode: "A"}, {No: 2, ItemCode: "B"}, {No: 3, ItemCode: "C"}, {No: 4, ItemCode: "D"}}}
	problems, err := c.Check(o)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(problems, "\n")
	for _, w := range []string{"line 2: item B is blocked", "line 3: item C is inactive", "line 4: item D is not in"} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
	if len(problems) != 3 {
		t.Errorf("%d problems:\n%s", len(problems), got)
	}
	o2 := &order.Order{Number: "W2", DebtorCode: "K2", Lines: []order.Line{{No: 1, ItemCode: "A"}}}
	if problems, _ := c.Check(o2); len(problems) != 1 || !strings.Contains(problems[0], "debtor K2 is blocked") {
		t.Errorf("blocked debtor: %v", problems)
	}
	// A new snapshot is read again.
	time.Sleep(10 * time.Millisecond)
	write(items, `{"administration":"500","item_code":"B","status":"active"}`+"\n")
	os.Chtimes(items, time.Now(), time.Now().Add(time.Second))
	if problems, _ := c.Check(&order.Order{Number: "W3", DebtorCode: "K1", Lines: []order.Line{{No: 1, ItemCode: "B"}, {No: 2, ItemCode: "A"}}}); len(problems) != 1 || !strings.Contains(problems[0], "item A is not in") {
		t.Errorf("after a new snapshot: %v", problems)
	}
}

// BenchmarkERPCheckLoad reads a published catalogue snapshot as the first
// order after a new export does. GLOBEX_CATALOGUE names one (a 300,000-item
// snapshot from bench/items); without it a generated one is used.
//
//	go test -run '^$' -bench ERPCheckLoad ./flow/
func BenchmarkERPCheckLoad(b *testing.B) {
	path := os.Getenv("GLOBEX_CATALOGUE")
	if path == "" {
		path = filepath.Join(b.TempDir(), "c.jsonl")
		var sb strings.Builder
		for i := range 50000 {
			sb.WriteString(`{"administration":"500","item_code":"ART-` + strings.Repeat("0", 3) + string(rune('0'+i%10)) + `-` + itoa(i) + `","description":"Bout M8x40 verzinkt","descriptions":{"nl":"Bout M8x40 verzinkt","de":"Schraube M8x40 verzinkt","fr":"Boulon M8x40 zingué","en":"Bolt M8x40 zinc plated"},"long_description":"` + strings.Repeat("Lange omschrijving. ", 10) + `","group_code":"100","unit":"stk","sales_price":"4.95","currency":"EUR","status":"active","attributes":{"brand":"Acme"}}` + "\n")
		}
		if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for range b.N {
		var ix snapshotIndex
		if err := ix.refresh(path, itemStatus); err != nil {
			b.Fatal(err)
		}
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var d []byte
	for ; i > 0; i /= 10 {
		d = append([]byte{byte('0' + i%10)}, d...)
	}
	return string(d)
}
