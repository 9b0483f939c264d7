package stock

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// errBareQuote and errQuote mirror encoding/csv's ErrBareQuote / ErrQuote.
var (
	errBareQuote = errors.New(`bare " in a field that is not quoted`)
	errQuote     = errors.New(`extraneous or missing " in a quoted field`)
)

// LineTooLongError refuses a file with a line (or a quoted record) longer
// than Options.MaxLineBytes; nothing beyond the limit is buffered.
type LineTooLongError struct {
	Line  int // 1-based line where the over-long record starts
	Limit int
}

func (e *LineTooLongError) Error() string {
	return fmt.Sprintf("line %d is longer than %d bytes: this does not look like a stock export (file refused)", e.Line, e.Limit)
}

// splitter is an RFC 4180 record reader with the semantics of encoding/csv
// (LazyQuotes off, no comment character, FieldsPerRecord -1): CRLF becomes
// LF, empty lines are skipped, quoted fields may span lines and use "" for a
// quote. Unlike encoding/csv it bounds every record to max bytes and returns
// fields that are only valid until the next call (no allocation per record).
type splitter struct {
	r     *bufio.Reader
	delim byte
	max   int

	numLine int    // physical lines consumed
	long    []byte // accumulation buffer for lines longer than the bufio buffer
	rec     []byte // unescaped field data of the current record
	ends    []int
	fields  [][]byte
	start   int // line where the current record starts

	// Block mode (newBlockSplitter): records come from data, which is
	// never modified, instead of r.
	block bool
	data  []byte
	pos   int
	crlf  []byte // a "\r\n" line, normalized
	raw   bool   // readBlockLine leaves a "\r\n" line as it is (see next)
}

// newBlockSplitter reads the records of data, which holds whole records
// (see recordsEnd); firstLine is the number of lines before data.
func newBlockSplitter(data []byte, delim byte, max, firstLine int) *splitter {
	return &splitter{block: true, data: data, delim: delim, max: max, numLine: firstLine}
}

// readBlockLine is readLine in block mode. data is left as it is (a block
// may be parsed twice), so a "\r\n" line is normalized in a copy.
func (s *splitter) readBlockLine() ([]byte, error) {
	rest := s.data[s.pos:]
	if len(rest) == 0 {
		s.numLine++ // as readLine counts the end of the input
		return nil, io.EOF
	}
	line := rest
	if i := bytes.IndexByte(rest, '\n'); i >= 0 {
		line = rest[:i+1]
	}
	if len(line) > s.max {
		return nil, &LineTooLongError{Line: s.numLine + 1, Limit: s.max}
	}
	s.pos += len(line)
	s.numLine++
	n := len(line)
	switch {
	case line[n-1] != '\n':
		if line[n-1] == '\r' {
			line = line[:n-1]
		}
	case n >= 2 && line[n-2] == '\r' && !s.raw:
		line = s.normalize(line)
	}
	return line, nil
}

// normalize returns a "\r\n" line with "\n" instead, in a copy.
func (s *splitter) normalize(line []byte) []byte {
	s.crlf = append(append(s.crlf[:0], line[:len(line)-2]...), '\n')
	return s.crlf
}

func newSplitter(r *bufio.Reader, delim byte, max int) *splitter {
	return &splitter{r: r, delim: delim, max: max}
}

// readLine returns the next physical line including its "\n" (normalized
// from "\r\n"), or without one at the end of input. err is io.EOF only
// when no bytes were left.
func (s *splitter) readLine() ([]byte, error) {
	if s.block {
		return s.readBlockLine()
	}
	line, err := s.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		s.long = append(s.long[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(s.long) > s.max {
				return nil, &LineTooLongError{Line: s.numLine + 1, Limit: s.max}
			}
			line, err = s.r.ReadSlice('\n')
			s.long = append(s.long, line...)
		}
		line = s.long
	}
	if len(line) > s.max {
		return nil, &LineTooLongError{Line: s.numLine + 1, Limit: s.max}
	}
	n := len(line)
	if n > 0 && err == io.EOF {
		err = nil
		if line[n-1] == '\r' {
			line = line[:n-1]
		}
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	s.numLine++
	if n := len(line); n >= 2 && line[n-2] == '\r' && line[n-1] == '\n' {
		line[n-2] = '\n'
		line = line[:n-1]
	}
	return line, err
}

func lengthNL(b []byte) int {
	if len(b) > 0 && b[len(b)-1] == '\n' {
		return 1
	}
	return 0
}

const (
	swarOnes  = 0x0101010101010101
	swarLow7  = 0x7f7f7f7f7f7f7f7f
	swarQuote = '"' * swarOnes
)

// zeroBytes returns the high bit of every byte of x that is zero (exactly:
// no carries between bytes).
func zeroBytes(x uint64) uint64 {
	return ^(((x & swarLow7) + swarLow7) | x | swarLow7)
}

// splitPlain is the fast path of next: when line (without its line end)
// holds no quote, it sets s.fields to slices of line and returns true.
// One pass finds the delimiters eight bytes at a time.
func (s *splitter) splitPlain(line []byte) bool {
	s.fields = s.fields[:0]
	delim := s.delim
	d := uint64(delim) * swarOnes
	start, i := 0, 0
	for ; i+8 <= len(line); i += 8 {
		w := binary.LittleEndian.Uint64(line[i:])
		m := zeroBytes(w^d) | zeroBytes(w^swarQuote)
		for m != 0 {
			j := i + bits.TrailingZeros64(m)>>3
			if line[j] == '"' {
				return false
			}
			s.fields = append(s.fields, line[start:j])
			start = j + 1
			m &= m - 1
		}
	}
	for ; i < len(line); i++ {
		switch line[i] {
		case delim:
			s.fields = append(s.fields, line[start:i])
			start = i + 1
		case '"':
			return false
		}
	}
	s.fields = append(s.fields, line[start:])
	return true
}

// csvSyntaxError is a quoting error at a line and 1-based byte column.
type csvSyntaxError struct {
	StartLine    int // where the record starts
	Line, Column int // where the error is
	Err          error
}

func (e *csvSyntaxError) Error() string {
	return fmt.Sprintf("line %d, byte %d: %v", e.Line, e.Column, e.Err)
}

// next returns the fields of the next record, or io.EOF. A *csvSyntaxError
// concerns this record only (the reader continues after it); any other
// error ends the input.
func (s *splitter) next() ([][]byte, error) {
	var line []byte
	var errRead error
	s.raw = true // the fast path needs no copy of a "\r\n" line
	for errRead == nil {
		line, errRead = s.readLine()
		if errRead == nil && (len(line) == lengthNL(line) || len(line) == 2 && line[0] == '\r' && line[1] == '\n' && s.block) {
			continue // empty line
		}
		break
	}
	s.raw = false
	if errRead != nil {
		return nil, errRead
	}
	s.start = s.numLine
	content := line[:len(line)-lengthNL(line)]
	crlf := s.block && len(content) > 0 && content[len(content)-1] == '\r' && lengthNL(line) == 1
	if crlf {
		content = content[:len(content)-1]
	}
	if s.splitPlain(content) {
		return s.fields, nil
	}
	if crlf {
		line = s.normalize(line)
	}
	s.rec = s.rec[:0]
	s.ends = s.ends[:0]
	col := 1
	var err error
parseField:
	for {
		if len(line) == 0 || line[0] != '"' {
			i := bytes.IndexByte(line, s.delim)
			field := line
			if i >= 0 {
				field = field[:i]
			} else {
				field = field[:len(field)-lengthNL(field)]
			}
			if j := bytes.IndexByte(field, '"'); j >= 0 {
				err = &csvSyntaxError{StartLine: s.start, Line: s.numLine, Column: col + j, Err: errBareQuote}
				break parseField
			}
			s.rec = append(s.rec, field...)
			s.ends = append(s.ends, len(s.rec))
			if i >= 0 {
				line = line[i+1:]
				col += i + 1
				continue parseField
			}
			break parseField
		}
		// Quoted field.
		line = line[1:]
		col++
		for {
			i := bytes.IndexByte(line, '"')
			switch {
			case i >= 0:
				s.rec = append(s.rec, line[:i]...)
				line = line[i+1:]
				col += i + 1
				switch {
				case len(line) > 0 && line[0] == '"':
					s.rec = append(s.rec, '"')
					line = line[1:]
					col++
				case len(line) > 0 && line[0] == s.delim:
					line = line[1:]
					col++
					s.ends = append(s.ends, len(s.rec))
					continue parseField
				case lengthNL(line) == len(line):
					s.ends = append(s.ends, len(s.rec))
					break parseField
				default:
					err = &csvSyntaxError{StartLine: s.start, Line: s.numLine, Column: col - 1, Err: errQuote}
					break parseField
				}
			case len(line) > 0:
				s.rec = append(s.rec, line...)
				if len(s.rec) > s.max {
					return nil, &LineTooLongError{Line: s.start, Limit: s.max}
				}
				line, errRead = s.readLine()
				col = 1
				if errRead == io.EOF {
					errRead = nil
				}
				if errRead != nil {
					return nil, errRead
				}
			default:
				err = &csvSyntaxError{StartLine: s.start, Line: s.numLine, Column: col, Err: errQuote}
				break parseField
			}
		}
	}
	if err != nil {
		// The record's lines are consumed; the next call starts after them,
		// as with encoding/csv.
		return nil, err
	}
	s.fields = s.fields[:0]
	prev := 0
	for _, e := range s.ends {
		s.fields = append(s.fields, s.rec[prev:e])
		prev = e
	}
	return s.fields, nil
}

// detectDelimiter picks ';', ',' or tab: the one that occurs most often
// outside quotes in the header line (ties prefer ';', then tab). It returns
// 0 when none occurs.
func detectDelimiter(header []byte) byte {
	var n [3]int
	inQ := false
	for _, c := range header {
		switch {
		case c == '"':
			inQ = !inQ
		case inQ:
		case c == ';':
			n[0]++
		case c == '\t':
			n[1]++
		case c == ',':
			n[2]++
		}
	}
	best, bi := 0, -1
	for i, v := range n {
		if v > best {
			best, bi = v, i
		}
	}
	if bi < 0 {
		return 0
	}
	return ";\t,"[bi]
}
