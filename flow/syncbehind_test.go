package flow

import (
	"os"
	"path/filepath"
	"testing"
)

func createFile(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A background sync that fails is not lost: wait reports it, and so does
// syncAll before anything is published.
func TestSyncBehindReportsFailure(t *testing.T) {
	dir := t.TempDir()
	f := createFile(t, filepath.Join(dir, "x"))
	s := newSyncBehind(f)
	f.Close() // the background sync will fail
	s.wrote(syncEvery)
	if err := s.wait(); err == nil {
		t.Fatal("a failed background sync was not reported")
	}

	outs := &outputs{dir: dir}
	g, err := outs.create(filepath.Join(dir, "y.csv"))
	if err != nil {
		t.Fatal(err)
	}
	w := outs.syncBehind(g)
	if _, err := w.Write(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	g.Close()
	outs.behind[0].wrote(syncEvery)
	if err := outs.syncAll(); err == nil {
		t.Error("syncAll succeeded although a background sync of the CSV failed")
	}
}

// Writing and closing while background syncs run is race-free (run with
// -race), and every sync goroutine ends.
func TestSyncBehindWhileWriting(t *testing.T) {
	dir := t.TempDir()
	f := createFile(t, filepath.Join(dir, "y"))
	s := newSyncBehind(f)
	w := syncingFile{f, s}
	buf := make([]byte, 1<<20)
	for range 100 {
		if _, err := w.Write(buf); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.wait(); err != nil {
		t.Fatal(err)
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != 100<<20 {
		t.Fatalf("size %v, %v", fi, err)
	}
	f.Close()
}
