package fsx

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFileAtomicNoReplace(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.xml")
	if err := WriteFile(p, 0o644, false, func(w io.Writer) error { _, err := io.WriteString(w, "one"); return err }); err != nil {
		t.Fatal(err)
	}
	err := WriteFile(p, 0o644, false, func(w io.Writer) error { _, err := io.WriteString(w, "two"); return err })
	if !errors.Is(err, ErrExists) {
		t.Fatalf("second write: %v", err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != "one" {
		t.Fatalf("overwritten: %q", b)
	}
	if err := WriteFile(p, 0o644, true, func(w io.Writer) error { _, err := io.WriteString(w, "three"); return err }); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temp files left: %v", ents)
	}
}

func TestWriteFileFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	err := WriteFile(filepath.Join(dir, "x"), 0o644, false, func(w io.Writer) error {
		io.WriteString(w, "half")
		return errors.New("boom")
	})
	if err == nil {
		t.Fatal("no error")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("left %v", ents)
	}
}

func TestMove(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "s")
	os.WriteFile(src, []byte("x"), 0o644)
	dst := filepath.Join(dir, "sub", "d")
	if err := Move(src, dst); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(src, []byte("y"), 0o644)
	if err := Move(src, dst); !errors.Is(err, ErrExists) {
		t.Fatalf("move over existing: %v", err)
	}
}

func TestSafeName(t *testing.T) {
	for in, check := range map[string]func(string) bool{
		"WEB-100234.xml":                  func(s string) bool { return s == "WEB-100234.xml" },
		"../../etc/passwd":                func(s string) bool { return !strings.ContainsAny(s, `/\`) && s != ".." },
		"a<b>c:d.json":                    func(s string) bool { return !strings.ContainsAny(s, `<>:`) && strings.HasSuffix(s, ".json") },
		"CON.json":                        func(s string) bool { return s != "CON.json" },
		"trail. ":                         func(s string) bool { return !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, " ") },
		"bad\xffutf8":                     func(s string) bool { return strings.Contains(s, "~") },
		strings.Repeat("x", 400) + ".xml": func(s string) bool { return len(s) <= 150 && strings.HasSuffix(s, ".xml") },
	} {
		if got := SafeName(in, 150); !check(got) {
			t.Errorf("SafeName(%q) = %q", in, got)
		}
	}
	if SafeName("a:b", 0) == SafeName("a?b", 0) {
		t.Error("different names collide")
	}
}

func TestMoveCompletesAnInterruptedCopy(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "s"), filepath.Join(dir, "d")
	os.WriteFile(src, []byte("same"), 0o644)
	os.WriteFile(dst, []byte("same"), 0o644) // the copy finished, the removal did not
	if err := Move(src, dst); err != nil {
		t.Fatalf("move onto an identical copy: %v", err)
	}
	if Exists(src) {
		t.Fatal("source left behind")
	}
	os.WriteFile(src, []byte("other"), 0o644)
	if err := Move(src, dst); !errors.Is(err, ErrExists) {
		t.Fatalf("move onto a different file: %v", err)
	}
}
