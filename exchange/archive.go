package exchange

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"globex/internal/fsx"
)

// Archive is the folder operators open (CONTRACT §3):
//
//	<root>/<exchange>/processed|failed|duplicates/YYYY-MM-DD/<HHMMSS>_<original name>
//	<root>/<exchange>/sent/YYYY-MM-DD/<output file name>
//
// Dates and times are the operator's local time. Nothing is ever overwritten:
// a name clash gets a numbered suffix.
type Archive struct{ Root string }

// Place returns a free path for an input that ends with outcome at time t.
func (a *Archive) Place(exchange, outcome, name string, t time.Time) string {
	t = t.Local()
	dir := filepath.Join(a.Root, exchange, outcome, t.Format("2006-01-02"))
	base := t.Format("150405") + "_" + fsx.SafeName(name, 180)
	return free(filepath.Join(dir, base), true)
}

// SentPath returns a free path for the copy of an output file.
func (a *Archive) SentPath(exchange, file string, t time.Time) string {
	dir := filepath.Join(a.Root, exchange, "sent", t.Local().Format("2006-01-02"))
	return free(filepath.Join(dir, fsx.SafeName(file, 180)), false)
}

func free(p string, withErrorText bool) string {
	taken := func(p string) bool {
		return fsx.Exists(p) || (withErrorText && fsx.Exists(p+".error.txt"))
	}
	if !taken(p) {
		return p
	}
	ext := filepath.Ext(p)
	stem := strings.TrimSuffix(p, ext)
	for i := 2; ; i++ {
		q := fmt.Sprintf("%s.%d%s", stem, i, ext)
		if !taken(q) {
			return q
		}
	}
}

// WriteErrorText writes the person-readable explanation beside an archived
// input, atomically.
func (a *Archive) WriteErrorText(archived, text string) error {
	if err := os.MkdirAll(filepath.Dir(archived), 0o755); err != nil {
		return err
	}
	return fsx.WriteFile(archived+".error.txt", 0o644, true, func(w io.Writer) error {
		_, err := io.WriteString(w, text)
		return err
	})
}

// SaveSentBytes stores a copy of a small output under sent/; when the same
// content is already there under that name (a retry after a crash), it is
// not stored twice.
func (a *Archive) SaveSentBytes(exchange, file string, t time.Time, data []byte) (string, error) {
	dir := filepath.Join(a.Root, exchange, "sent", t.Local().Format("2006-01-02"))
	if old, err := os.ReadFile(filepath.Join(dir, fsx.SafeName(file, 180))); err == nil && bytes.Equal(old, data) {
		return filepath.Join(dir, fsx.SafeName(file, 180)), nil
	}
	return a.SaveSent(exchange, file, t, func(w io.Writer) error { _, err := w.Write(data); return err })
}

// SaveSent stores a copy of an output under sent/ and returns its path.
func (a *Archive) SaveSent(exchange, file string, t time.Time, write func(io.Writer) error) (string, error) {
	p := a.SentPath(exchange, file, t)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	return p, fsx.WriteFile(p, 0o644, false, write)
}
