package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// With several workers, an order number still belongs to the file that
// arrived first, and every order is sent exactly once.
func TestParallelWorkersKeepArrivalOrderForOrderNumbers(t *testing.T) {
	w := newWorkspace(t, "    workers: 8\n")
	base := time.Now().Add(-time.Minute)
	for i := 0; i < 60; i++ {
		qty := "1"
		if i%2 == 1 {
			qty = "2" // odd files carry a changed version of the previous file's order
		}
		name := fmt.Sprintf("f%02d.json", i)
		w.drop1(name, orderJSON(fmt.Sprintf("WEB-%d", i/2), "ART-1", qty))
		os.Chtimes(filepath.Join(w.drop, name), base.Add(time.Duration(i)*time.Second), base.Add(time.Duration(i)*time.Second))
	}
	if code := w.once(); code != ExitQuarantined {
		t.Fatalf("once = %d", code)
	}
	if got := w.files("erp"); len(got) != 30 {
		t.Fatalf("ERP has %d files, want 30", len(got))
	}
	failed := w.archived("failed")
	if len(failed) != 30 {
		t.Fatalf("failed: %d", len(failed))
	}
	for _, f := range failed {
		var n int
		fmt.Sscanf(filepath.Base(f)[strings.Index(filepath.Base(f), "_f")+2:], "%d", &n)
		if n%2 != 1 {
			t.Errorf("the earlier file %s lost its order number to a later one", f)
		}
	}
	for i := 0; i < 30; i++ {
		data, err := os.ReadFile(filepath.Join(w.erp, fmt.Sprintf("500_WEB-%d.xml", i)))
		if err != nil || !strings.Contains(string(data), "<Quantity>1</Quantity>") {
			t.Fatalf("WEB-%d: %v %s", i, err, data)
		}
	}
}
