package feed

import (
	"bufio"
	"io"
)

// Writer writes feed records one at a time. Close flushes buffered output;
// it does not close the underlying io.Writer.
type Writer interface {
	Write(rec Record) error
	Close() error
}

// JSONLWriter writes one JSON object per line ("\n" terminated), the form
// of the *.jsonl full snapshots.
type JSONLWriter struct {
	w   *bufio.Writer
	buf []byte
	err error
}

// NewJSONLWriter returns a JSONL writer on w.
func NewJSONLWriter(w io.Writer) *JSONLWriter {
	return &JSONLWriter{w: bufio.NewWriterSize(w, 256<<10), buf: make([]byte, 0, 1024)}
}

// Write appends rec as one line.
func (j *JSONLWriter) Write(rec Record) error {
	if j.err != nil {
		return j.err
	}
	j.buf = rec.AppendJSON(j.buf[:0])
	j.buf = append(j.buf, '\n')
	_, j.err = j.w.Write(j.buf)
	return j.err
}

// Close flushes the output.
func (j *JSONLWriter) Close() error {
	if j.err != nil {
		return j.err
	}
	j.err = j.w.Flush()
	return j.err
}
