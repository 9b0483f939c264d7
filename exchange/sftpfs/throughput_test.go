package sftpfs_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"globex/exchange/sftpfs/sftptest"
)

// TestThroughputVsOpenSSH downloads a generated file from the OpenSSH
// server with globex and with OpenSSH's own sftp client and compares the
// rates. It runs only when GLOBEX_SFTP_BENCH_MB is set:
//
//	GLOBEX_SFTP_BENCH_MB=300 go test -run TestThroughputVsOpenSSH -v ./exchange/sftpfs/
//
// It fails when globex reaches less than half of OpenSSH's throughput.
func TestThroughputVsOpenSSH(t *testing.T) {
	mb, _ := strconv.Atoi(os.Getenv("GLOBEX_SFTP_BENCH_MB"))
	if mb <= 0 {
		t.Skip("set GLOBEX_SFTP_BENCH_MB=300 to measure download throughput against OpenSSH's sftp")
	}
	sftpBin, err := exec.LookPath("sftp")
	if err != nil {
		t.Skip("OpenSSH sftp client not installed")
	}
	s := sftptest.StartOpenSSH(t)
	remote := filepath.Join(s.Root, "big.bin")
	want := generate(t, remote, int64(mb)<<20)
	local := t.TempDir()
	c := newClient(t, opensshConfig(s))

	rounds := 3
	var best [2]time.Duration
	for r := 0; r < rounds; r++ {
		// OpenSSH sftp -b batch "get".
		out := filepath.Join(local, "openssh.bin")
		batch := filepath.Join(local, "batch")
		writeFile(t, batch, []byte(fmt.Sprintf("get %s %s\n", remote, out)))
		cmd := exec.Command(sftpBin, "-q", "-b", batch, "-i", s.KeyFile, "-P", strconv.Itoa(s.Port),
			"-o", "UserKnownHostsFile="+s.KnownHosts, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
			s.User+"@"+s.Host)
		start := time.Now()
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sftp: %v\n%s", err, b)
		}
		d := time.Since(start)
		if best[0] == 0 || d < best[0] {
			best[0] = d
		}
		os.Remove(out)

		// globex.
		out = filepath.Join(local, "globex.bin")
		f, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		start = time.Now()
		n, sum, err := c.Download(ctxT(t, 5*time.Minute), "big.bin", f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		d = time.Since(start)
		if err != nil || n != int64(mb)<<20 || sum != want {
			t.Fatalf("globex download: n=%d sum=%s want %s err=%v", n, sum, want, err)
		}
		if best[1] == 0 || d < best[1] {
			best[1] = d
		}
		os.Remove(out)
	}
	rate := func(d time.Duration) float64 { return float64(mb) / d.Seconds() }
	t.Logf("%d MiB from OpenSSH sshd on loopback, best of %d:", mb, rounds)
	t.Logf("  OpenSSH sftp -b get : %6.1f MiB/s (%s)", rate(best[0]), best[0].Round(time.Millisecond))
	t.Logf("  globex Download     : %6.1f MiB/s (%s, with SHA-256)", rate(best[1]), best[1].Round(time.Millisecond))
	t.Logf("  ratio globex/OpenSSH: %.2f", best[0].Seconds()/best[1].Seconds())
	if best[1] > 2*best[0] {
		t.Errorf("globex is below half of OpenSSH's throughput")
	}
}

// generate writes n pseudo-random bytes to path in 1 MiB chunks and
// returns their SHA-256.
func generate(t testing.TB, path string, n int64) string {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	chunk := pattern(1 << 20)
	for i := int64(0); i < n; i += int64(len(chunk)) {
		chunk[0], chunk[1] = byte(i>>20), byte(i>>28) // vary the chunks
		m := min(int64(len(chunk)), n-i)
		if _, err := w.Write(chunk[:m]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
