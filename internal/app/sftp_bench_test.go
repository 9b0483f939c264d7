package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"globex/exchange/sftpfs/sftptest"
)

// TestSFTPOrdersThroughput measures order files from an OpenSSH drop on
// loopback to Globe XML. It runs only when asked:
//
//	GLOBEX_SFTP_BENCH_FILES=1000 go test -run TestSFTPOrdersThroughput -v ./internal/app/
func TestSFTPOrdersThroughput(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("GLOBEX_SFTP_BENCH_FILES"))
	if n <= 0 {
		t.Skip("set GLOBEX_SFTP_BENCH_FILES to run this measurement")
	}
	srv := sftptest.StartOpenSSH(t)
	remote := filepath.Join(srv.Root, "export")
	os.MkdirAll(remote, 0o755)
	for i := 1; i <= n; i++ {
		os.WriteFile(filepath.Join(remote, fmt.Sprintf("o%05d.json", i)), []byte(orderJSON(fmt.Sprintf("WEB-%d", i), "ART-1", "2")), 0o644)
	}
	w := sftpWorkspace(t, srv, remote, srv.KnownHosts)
	t0 := time.Now()
	if code := w.once(); code != ExitOK {
		t.Fatalf("once = %d", code)
	}
	el := time.Since(t0)
	if got := len(w.files("erp")); got != n {
		t.Fatalf("%d of %d orders", got, n)
	}
	t.Logf("%d order files from SFTP (OpenSSH, loopback) to Globe XML: %v, %.0f files/s (includes the 50ms stable_for wait and 100ms polls)",
		n, el.Round(time.Millisecond), float64(n)/el.Seconds())
}
