package globe

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// splitReader returns its parts one Read at a time.
type splitReader struct{ parts []string }

func (r *splitReader) Read(p []byte) (int, error) {
	if len(r.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.parts[0])
	if r.parts[0] = r.parts[0][n:]; r.parts[0] == "" {
		r.parts = r.parts[1:]
	}
	return n, nil
}

// TestCDATAPositionAfterRead: a CDATA section whose content starts a new
// read, in a field longer than MaxText, is reported at the start of its
// content (this used to panic: the token's start had left the buffer).
func TestCDATAPositionAfterRead(t *testing.T) {
	head := `<?xml version="1.0"?><eExact><Items>` + strings.Repeat(" ", 1100) + `<Item code="1"><Description><![CDATA[`
	tail := strings.Repeat("x", 100) + `]]></Description></Item></Items></eExact>`
	err := ReadItems(&splitReader{[]string{head, tail}}, Options{MaxText: 10}, func(*Item) error { return nil })
	var se *SyntaxError
	if !errors.As(err, &se) || se.Kind != KindLimit || se.Line != 1 || se.Col != len(head)+1 {
		t.Fatalf("got %v, want a limit error at line 1, column %d", err, len(head)+1)
	}
}
