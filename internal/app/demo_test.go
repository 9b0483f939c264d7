package app

import (
	"path/filepath"
	"runtime"
	"testing"
)

// The Next steps of the demo name the command so that the line can be
// pasted into a shell: a program in the current folder keeps its "./"
// (a bare name is looked up in PATH, not here).
func TestCommandAsTyped(t *testing.T) {
	sep := string(filepath.Separator)
	cases := map[string]string{
		"globex":                "globex",
		"./globex":              "." + sep + "globex",
		"bin/globex":            filepath.FromSlash("bin/globex"),
		"./bin/globex":          filepath.FromSlash("bin/globex"),
		"../other/globex":       "../other/globex",
		"/usr/local/bin/globex": "/usr/local/bin/globex",
	}
	if runtime.GOOS == "windows" {
		t.Skip("POSIX paths")
	}
	for in, want := range cases {
		if got := commandAsTyped(in); got != want {
			t.Errorf("commandAsTyped(%q) = %q, want %q", in, got, want)
		}
	}
}
