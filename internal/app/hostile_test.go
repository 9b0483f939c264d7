package app

import (
	"context"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"globex/internal/config"
)

func TestNamesWindowsForbidsAreArchivedSafely(t *testing.T) {
	w := newWorkspace(t, "")
	name := `order:1*"x"?.json`
	w.drop1(name, orderJSON("WEB-77", "ART-1", "1"))
	if code := w.once(); code != ExitOK {
		t.Fatalf("once = %d", code)
	}
	got := w.archived("processed")
	if len(got) != 1 {
		t.Fatalf("archive: %v", got)
	}
	base := filepath.Base(got[0])
	if strings.ContainsAny(base, `:*"?<>|`) || !strings.Contains(base, "order_1") {
		t.Fatalf("archive name %q is not safe on Windows or lost the original name", base)
	}
}

func TestGarbage100MB(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100 MB")
	}
	w := newWorkspace(t, "")
	// default limit: refused as too large without reading it
	f, _ := os.Create(filepath.Join(w.drop, "garbage.json"))
	io.CopyN(f, rand.Reader, 100<<20)
	f.Close()
	if code := w.once(); code != ExitQuarantined {
		t.Fatalf("once = %d", code)
	}
	if txt := w.errorTexts("failed"); !strings.Contains(txt, "more than the limit") {
		t.Fatalf("reason: %s", txt)
	}
}

// A file written in place for two seconds is not taken before it is
// complete: readiness waits until its size and time hold still.
func TestGrowingFileIsTakenOnlyWhenComplete(t *testing.T) {
	w := newWorkspace(t, "")
	os.WriteFile(w.cfg, []byte(strings.Replace(string(must(os.ReadFile(w.cfg))), "stable_for: 50ms", "stable_for: 500ms, scan_interval: 100ms", 1)), 0o644)
	cfg, err := config.Load(w.cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Open(cfg, zerolog.Nop(), true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	content := "[" + orderJSON("WEB-1", "ART-1", "1") + "," + orderJSON("WEB-2", "ART-2", "2") + "]"
	f, err := os.Create(filepath.Join(w.drop, "slow.json"))
	if err != nil {
		t.Fatal(err)
	}
	chunks := 20
	step := len(content)/chunks + 1
	for i := 0; i < len(content); i += step {
		f.WriteString(content[i:min(i+step, len(content))])
		time.Sleep(100 * time.Millisecond) // two seconds in all
	}
	f.Close()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && len(w.files("erp")) < 2 {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	a.Close()
	if got := w.files("erp"); len(got) != 2 {
		t.Fatalf("ERP: %v", got)
	}
	if failed := w.files("archive/shop/failed"); len(failed) != 0 {
		t.Fatalf("the growing file was taken before it was complete: %v\n%s", failed, w.errorTexts("failed"))
	}
}

func TestBackslashNameDoesNotBlockTheExchange(t *testing.T) {
	if filepath.Separator == '\\' {
		t.Skip("a Windows name cannot hold a backslash")
	}
	w := newWorkspace(t, "")
	w.drop1(`a\b.json`, orderJSON("WEB-1", "ART-1", "1"))
	w.drop1("c.json", orderJSON("WEB-2", "ART-1", "1"))
	if code := w.once(); code != ExitOK {
		t.Fatalf("once = %d", code)
	}
	if got := w.files("erp"); len(got) != 1 || !strings.HasSuffix(got[0], "500_WEB-2.xml") {
		t.Fatalf("ERP: %v", got)
	}
}
