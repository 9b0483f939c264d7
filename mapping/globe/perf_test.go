package globe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"globex/internal/decimal"
	"globex/mapping/globe/globetest"
)

// TestFastDecAgreesWithParse checks the allocation-free path against
// decimal.Parse on accepted and refused inputs.
func TestFastDecAgreesWithParse(t *testing.T) {
	for _, s := range []string{"0", "1", "-1", "12.50", ".5", "-.5", "0.000", "007.10", "123456789012345678",
		"-123456789012345678", "1234567890123456789", "1.", ".", "-", "--1", "1..2", "1.2.3", "+1", "1e3", "1,5",
		" 1", "0.123456789012345678", "999999999999999999", "-0", "00000000000000000001"} {
		want, werr := decimal.Parse(s)
		got, ok := fastDec([]byte(s))
		if ok && (werr != nil || got != want || got.Scale() != want.Scale()) {
			t.Errorf("fastDec(%q) = %v, Parse = %v, %v", s, got, want, werr)
		}
		if strings.TrimSpace(s) != s {
			continue // parseDec trims first
		}
		d, valid, err := parseDec([]byte(s))
		if (err == nil) != (werr == nil && s != "") || err == nil && s != "" && (d != want || !valid) {
			t.Errorf("parseDec(%q) = %v, %v, %v; Parse = %v, %v", s, d, valid, err, want, werr)
		}
	}
}

func TestTrimAgreesWithTrimSpace(t *testing.T) {
	for _, s := range []string{"", " ", "a", " a ", "a\t", "\u00a0a\u00a0", "é", "a\u3000", "\x85a", "ab"} {
		if got, want := trim([]byte(s)), bytes.TrimSpace([]byte(s)); !bytes.Equal(got, want) {
			t.Errorf("trim(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestLookupNames(t *testing.T) {
	for id := eExact; int(id) < len(elemNames); id++ {
		if got := lookup([]byte(elemNames[id])); got != id {
			t.Errorf("lookup(%q) = %d, want %d", elemNames[id], got, id)
		}
	}
	for _, s := range []string{"", "X", "item", "Items2", "Descriptio"} {
		if got := lookup([]byte(s)); got != eOther {
			t.Errorf("lookup(%q) = %d, want eOther", s, got)
		}
	}
}

// readAll returns the items as JSON lines, reading with GOMAXPROCS procs
// (1: sequential, 2: pipelined).
func readAll(t *testing.T, data []byte, procs int) (string, error) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	var out strings.Builder
	err := ReadItems(bytes.NewReader(data), Options{}, func(it *Item) error {
		b, err := json.Marshal(it)
		out.Write(b)
		out.WriteByte('\n')
		return err
	})
	return out.String(), err
}

// TestPipelinedEqualsSequential compares both paths on a generated export,
// on truncated copies (errors after some records) and on a value error.
func TestPipelinedEqualsSequential(t *testing.T) {
	var buf bytes.Buffer
	if err := globetest.GenerateItems(&buf, 300, 7); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	bad := bytes.Replace(data, []byte("<Value>"), []byte("<Value>x"), 1)
	inputs := [][]byte{data, data[:len(data)/2], data[:len(data)-3], bad}
	for i, in := range inputs {
		s1, e1 := readAll(t, in, 1)
		s2, e2 := readAll(t, in, 2)
		if s1 != s2 || fmt.Sprint(e1) != fmt.Sprint(e2) {
			t.Errorf("input %d: sequential and pipelined differ:\n%v\n%v", i, e1, e2)
		}
		if i == 0 && (e1 != nil || strings.Count(s1, "\n") != 300) {
			t.Errorf("generated export: %d items, %v", strings.Count(s1, "\n"), e1)
		}
	}
}

// countingReader counts Read calls made after stop is set.
type countingReader struct {
	r     *bytes.Reader
	stop  atomic.Bool
	after atomic.Int32
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.stop.Load() {
		c.after.Add(1)
	}
	if len(p) > 512 {
		p = p[:512] // many small reads
	}
	return c.r.Read(p)
}

// TestPipelineStopsOnCallbackError checks that fn's error is returned as
// is, that no item is delivered after it, and that the reader is no longer
// used once ReadItems has returned.
func TestPipelineStopsOnCallbackError(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var buf bytes.Buffer
	if err := globetest.GenerateItems(&buf, 2000, 3); err != nil {
		t.Fatal(err)
	}
	stopErr := errors.New("stop")
	for _, at := range []int{1, 31, 32, 33, 500} {
		cr := &countingReader{r: bytes.NewReader(buf.Bytes())}
		n := 0
		err := ReadItems(cr, Options{}, func(it *Item) error {
			n++
			if n == at {
				return stopErr
			}
			if n > at {
				t.Fatalf("item %d delivered after the error", n)
			}
			return nil
		})
		cr.stop.Store(true)
		if err != stopErr || n != at {
			t.Fatalf("at %d: n=%d err=%v", at, n, err)
		}
		runtime.Gosched()
		if c := cr.after.Load(); c != 0 {
			t.Fatalf("at %d: %d reads after ReadItems returned", at, c)
		}
	}
}

// TestPipelinePanics checks that a panic of the producer reaches the caller
// and that a panic in fn leaves no goroutine behind.
func TestPipelinePanics(t *testing.T) {
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Errorf("recovered %v, want boom", v)
			}
		}()
		pipeline(func(*int) error { return nil }, nil, func(first *int, deliver func() (*int, error)) error {
			for range 100 {
				if _, err := deliver(); err != nil {
					return err
				}
			}
			panic("boom")
		})
	}()
	before := runtime.NumGoroutine()
	func() {
		defer func() { recover() }()
		pipeline(func(*int) error { panic("fn") }, nil, func(first *int, deliver func() (*int, error)) error {
			for {
				if _, err := deliver(); err != nil {
					return err
				}
			}
		})
	}()
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("%d goroutines before, %d after", before, after)
	}
}
