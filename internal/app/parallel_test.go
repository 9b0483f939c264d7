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

// Two installations (own state, own ERP folder) on one local drop folder
// share the files: none is taken twice.
func TestTwoProcessesShareOneLocalFolder(t *testing.T) {
	shared := t.TempDir()
	const n = 200
	for i := 0; i < n; i++ {
		os.WriteFile(filepath.Join(shared, fmt.Sprintf("o%03d.json", i)), []byte(orderJSON(fmt.Sprintf("WEB-%d", i), "ART-1", "1")), 0o644)
	}
	var ws []*workspace
	for range 2 {
		w := newWorkspace(t, "")
		os.WriteFile(w.cfg, []byte(strings.Replace(string(must(os.ReadFile(w.cfg))), "dir: drop", "dir: "+shared, 1)), 0o644)
		ws = append(ws, w)
	}
	done := make(chan int, 2)
	for _, w := range ws {
		go func() { done <- w.once() }()
	}
	for range 2 {
		if code := <-done; code != ExitOK {
			t.Fatalf("once = %d", code)
		}
	}
	seen := map[string]int{}
	for _, w := range ws {
		for _, f := range w.files("erp") {
			seen[filepath.Base(f)]++
		}
	}
	if len(seen) != n {
		t.Fatalf("%d distinct orders, want %d", len(seen), n)
	}
	for name, c := range seen {
		if c != 1 {
			t.Errorf("%s sent %d times", name, c)
		}
	}
	t.Logf("A took %d, B took %d", len(ws[0].files("erp")), len(ws[1].files("erp")))
}
