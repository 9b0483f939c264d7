// Command orderbench measures the order path of a globex binary on real
// folders: pick-up latency of `globex run` (an order renamed into the drop
// folder until its XML is visible in the ERP folder), throughput of queued
// order files with full durability, and resident memory idle and under load.
//
//	orderbench -globex bin/globex -latency 200 -files 10000
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

func main() {
	bin := flag.String("globex", "bin/globex", "globex binary")
	nLat := flag.Int("latency", 200, "orders for the latency run")
	nFiles := flag.Int("files", 10000, "queued order files for the throughput run")
	flag.Parse()
	if err := latency(*bin, *nLat); err != nil {
		fmt.Fprintln(os.Stderr, "latency:", err)
		os.Exit(1)
	}
	if err := throughput(*bin, *nFiles); err != nil {
		fmt.Fprintln(os.Stderr, "throughput:", err)
		os.Exit(1)
	}
}

func workspace(scan string) (dir, drop, erp, cfg string) {
	dir, _ = os.MkdirTemp("", "orderbench")
	drop, erp = filepath.Join(dir, "drop"), filepath.Join(dir, "erp")
	os.MkdirAll(drop, 0o755)
	os.MkdirAll(erp, 0o755)
	cfg = filepath.Join(dir, "globex.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`exchanges:
  - name: shop
    kind: orders
    administration: "500"
    source: {dir: drop, scan_interval: %s}
    target: {dir: erp}
`, scan)), 0o644)
	return
}

func orderJSON(n int) []byte {
	return []byte(fmt.Sprintf(`{"order_number":"WEB-%07d","customer":{"debtor_code":"10001","contact":"P. Jansen"},"your_reference":"PO %d",
"ordered_at":"2026-11-27T10:15:00+01:00","delivery":{"date":"2026-12-01","method":"DPD","warehouse":"1",
"address":{"name":"Jansen Techniek","line1":"Industrieweg 12","postcode":"4462 GC","city":"Goes","country":"NL"}},
"note":"Bellen voor levering & <achterom>","lines":[
{"item_code":"ART-001","quantity":"12","unit":"stk","price":"4.95","discount_percent":"5"},
{"item_code":"ART-002","quantity":"2.5","unit":"m","price":"19.90"},
{"item_code":"ART-003","quantity":"1","unit":"stk","price":"129.00","delivery_date":"2026-12-03"}]}`, n, n))
}

func rss(pid int, field string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, field+":") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb
		}
	}
	return -1
}

func latency(bin string, n int) error {
	dir, drop, erp, cfg := workspace("2s")
	defer os.RemoveAll(dir)
	cmd := exec.Command(bin, "run", "-c", cfg)
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	time.Sleep(500 * time.Millisecond)
	idle := rss(cmd.Process.Pid, "VmRSS")
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	w.Add(erp)
	stage := filepath.Join(dir, "stage")
	os.MkdirAll(stage, 0o755)
	var lats []time.Duration
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("o%05d.json", i)
		want := fmt.Sprintf("500_WEB-%07d.xml", i)
		tmp := filepath.Join(stage, name)
		os.WriteFile(tmp, orderJSON(i), 0o644)
		t0 := time.Now()
		if err := os.Rename(tmp, filepath.Join(drop, name)); err != nil {
			return err
		}
		timeout := time.After(5 * time.Second)
	wait:
		for {
			select {
			case ev := <-w.Events:
				if filepath.Base(ev.Name) == want && ev.Op&(fsnotify.Create|fsnotify.Rename) != 0 {
					break wait
				}
			case <-timeout:
				return fmt.Errorf("order %d did not arrive within 5 s", i)
			}
		}
		lats = append(lats, time.Since(t0))
		time.Sleep(5 * time.Millisecond)
	}
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	pct := func(p float64) time.Duration { return lats[int(p*float64(len(lats)-1))] }
	fmt.Printf("latency: %d orders renamed into the drop folder one at a time\n", n)
	fmt.Printf("  p50 %v  p90 %v  p99 %v  max %v\n", pct(0.50).Round(10*time.Microsecond), pct(0.90).Round(10*time.Microsecond),
		pct(0.99).Round(10*time.Microsecond), lats[len(lats)-1].Round(10*time.Microsecond))
	fmt.Printf("  daemon RSS idle %d KB, peak %d KB\n", idle, rss(cmd.Process.Pid, "VmHWM"))
	return nil
}

func throughput(bin string, n int) error {
	dir, drop, erp, cfg := workspace("1s")
	defer os.RemoveAll(dir)
	for i := 0; i < n; i++ {
		os.WriteFile(filepath.Join(drop, fmt.Sprintf("o%06d.json", i)), orderJSON(i), 0o644)
	}
	// Let the files age past stable_for, as a queue that built up while the
	// daemon was down would have.
	time.Sleep(1100 * time.Millisecond)
	cmd := exec.Command(bin, "run", "-c", cfg)
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	var peak int64
	for {
		if v := rss(cmd.Process.Pid, "VmHWM"); v > peak {
			peak = v
		}
		ents, _ := os.ReadDir(erp)
		if len(ents) >= n {
			break
		}
		if time.Since(t0) > 5*time.Minute {
			return fmt.Errorf("only %d of %d orders after 5 minutes", len(ents), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	el := time.Since(t0)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	fmt.Printf("throughput: %d queued order files (3 lines each) to Globe XML, fsync of every file and folder, archive and sent copies\n", n)
	fmt.Printf("  %v total, %.0f files/s, daemon peak RSS %d KB\n", el.Round(time.Millisecond), float64(n)/el.Seconds(), peak)
	return nil
}
