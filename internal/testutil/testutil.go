// Package testutil holds what globex's tests share: the repository's own
// folders, golden files, and validation with xmllint against Exact's XSD
// (which lives in ../shared beside the clone and is never copied in).
package testutil

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot is the repository's root folder.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Path joins parts below the repository's root.
func Path(parts ...string) string {
	return filepath.Join(append([]string{RepoRoot()}, parts...)...)
}

// Golden compares got with the golden file at path; with update it rewrites
// the file instead.
func Golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update to accept):\n%s\nwant:\n%s", filepath.Base(path), got, want)
	}
}

// XSD is Exact's eExact schema beside the clone; the test fails when it is
// missing (CI has it).
func XSD(t testing.TB) string {
	t.Helper()
	p := filepath.Join(RepoRoot(), "..", "shared", "globe", "eExact-Schema.xsd")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("Exact's XSD is needed beside the clone at %s: %v", p, err)
	}
	return p
}

// XMLLint validates files against Exact's XSD with xmllint. The test skips
// only when xmllint is not installed (Debian libxml2-utils; CI installs it).
func XMLLint(t testing.TB, files ...string) {
	t.Helper()
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Skip("xmllint is not installed (Debian: libxml2-utils); CI installs it")
	}
	if len(files) == 0 {
		t.Fatal("no files to validate")
	}
	args := append([]string{"--noout", "--nonet", "--schema", XSD(t)}, files...)
	out, err := exec.Command("xmllint", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint: %v\n%s", err, out)
	}
	for _, f := range files {
		if !bytes.Contains(out, []byte(f+" validates")) {
			t.Fatalf("xmllint did not say %s validates:\n%s", f, out)
		}
	}
}
