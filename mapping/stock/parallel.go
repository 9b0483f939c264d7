package stock

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"globex/internal/textenc"
)

// A CSV export is cut into blocks of whole records, parsed on all CPUs,
// and committed in file order. Everything that depends on earlier rows is
// decided at the commit: the decimal separator (a block whose values do not
// agree with the file so far is parsed again, in order, with the file's
// tracker; see sepSummary) and the bad-row list. A record too long to find
// the end of in a few blocks hands the rest of the file to the in-order
// reader, which has the exact limits and messages.

// recordsEnd returns the length of the longest prefix of data made of
// whole records (ending in a line end), as the splitter reads them: a line
// end ends a record unless it is inside a quoted field. It is 0 when data
// holds no whole record.
func recordsEnd(data []byte, delim byte) int {
	if bytes.IndexByte(data, '"') < 0 {
		return bytes.LastIndexByte(data, '\n') + 1
	}
	const (
		fieldStart = iota
		unquoted
		quoted
		quoteInQuoted // a quote in a quoted field: its end, or the first of ""
		crAfterQuote
		skipLine // a quoting error: the record ends with the line
	)
	end, st := 0, fieldStart
	for i, c := range data {
		switch st {
		case fieldStart:
			switch c {
			case '"':
				st = quoted
			case '\n':
				end = i + 1
			case delim:
			default:
				st = unquoted
			}
		case unquoted:
			switch c {
			case delim:
				st = fieldStart
			case '\n':
				end, st = i+1, fieldStart
			case '"':
				st = skipLine
			}
		case quoted:
			if c == '"' {
				st = quoteInQuoted
			}
		case quoteInQuoted:
			switch c {
			case '"':
				st = quoted
			case delim:
				st = fieldStart
			case '\n':
				end, st = i+1, fieldStart
			case '\r':
				st = crAfterQuote
			default:
				st = skipLine
			}
		case crAfterQuote:
			if c == '\n' {
				end, st = i+1, fieldStart
			} else {
				st = skipLine
			}
		case skipLine:
			if c == '\n' {
				end, st = i+1, fieldStart
			}
		}
	}
	return end
}

// inOrderOnly makes readBlocks leave every record to the in-order reader
// (tests compare the two).
var inOrderOnly = false

// inOrder calls fn with the values from in in the order of their sequence
// numbers (0, 1, 2, …), holding back those that arrive early.
func inOrder[T any](in <-chan T, seq func(T) int, fn func(T)) {
	pending := map[int]T{}
	next := 0
	for v := range in {
		pending[seq(v)] = v
		for {
			v, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			fn(v)
		}
	}
}

// block is a run of whole records on its way through the workers.
type block struct {
	seq  int
	data []byte
	line int // lines before data
	out  blockOut
	err  error // a parse error that ends the file, or a read error
}

// parseBlock parses the records of data; the error is one that ends the
// file (a line too long).
func (p *parser) parseBlock(data []byte, line int) error {
	sp := newBlockSplitter(data, p.rd.delim, p.rd.opts.MaxLineBytes, line)
	if !p.fast.init {
		p.fast.setup(p.rd)
	}
	p.fast.quote = -1 // a new block
	for {
		if p.fast.on {
			// Ordinary lines; the splitter takes the first other record.
			if p.fastLines(sp); p.out.fatal != nil {
				return p.out.fatal
			}
		}
		fields, err := sp.next()
		if err == nil {
			if p.row(sp.start, fields); p.out.fatal != nil {
				return p.out.fatal
			}
			continue
		}
		if err == io.EOF {
			return nil
		}
		if !p.syntaxBad(err) {
			return err
		}
	}
}

// syntaxBad reports a quoting error of one record as a bad row; it is false
// for any other error.
func (p *parser) syntaxBad(err error) bool {
	var se *csvSyntaxError
	if !errors.As(err, &se) {
		return false
	}
	msg := fmt.Sprintf("byte %d: %v", se.Column, se.Err)
	if se.Line != se.StartLine {
		msg = fmt.Sprintf("the quoted field starting here goes wrong at line %d, byte %d: %v", se.Line, se.Column, se.Err)
	}
	p.bad(se.StartLine, "", "", msg)
	return true
}

// readBlocks reads the records after the header from src (line lines in)
// on all CPUs. When it meets a record it cannot find the end of, it returns
// the rest of the input and the lines before it, for the in-order reader.
func (rd *reader) readBlocks(src io.Reader, line int) (rest io.Reader, restLine int, err error) {
	if inOrderOnly {
		return src, line, nil
	}
	// Blocks in flight take memory per worker: a big server need not use
	// all its CPUs for one file.
	workers := min(max(2, runtime.GOMAXPROCS(0)), 8)
	inflight := 2*workers + 2
	free := make(chan *block, inflight)
	for range inflight {
		free <- &block{data: make([]byte, 0, blockBytes+blockBytes/4)}
	}
	work := make(chan *block, inflight)
	done := make(chan *block, inflight)
	var failed atomic.Bool

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &sepTracker{fixed: rd.opts.Decimal}
			p := rd.newParser(tr)
			for b := range work {
				if !failed.Load() {
					b.out.reset()
					tr.rec = &b.out.sep
					p.out = &b.out
					b.err = p.parseBlock(b.data, b.line)
				}
				done <- b
			}
		}()
	}

	// The sequencer commits blocks in order.
	var seqErr error
	seqDone := make(chan struct{})
	go func() {
		defer close(seqDone)
		inOrder(done, func(b *block) int { return b.seq }, func(b *block) {
			if seqErr == nil {
				if seqErr = rd.commitBlock(b); seqErr != nil {
					failed.Store(true)
				}
			}
			b.data = b.data[:0]
			free <- b
		})
	}()

	rest, restLine, err = rd.cut(src, line, free, work, done, &failed)
	close(work)
	wg.Wait()
	close(done)
	<-seqDone
	if seqErr != nil {
		return nil, 0, seqErr
	}
	return rest, restLine, err
}

// commitBlock commits a parsed block, parsing it again in order when its
// decimal separators do not agree with the file so far.
func (rd *reader) commitBlock(b *block) error {
	if b.err != nil {
		return b.err
	}
	if !rd.sep.apply(&b.out.sep) {
		p := rd.seq
		saved := p.out
		b.out.reset()
		p.out = &b.out
		err := p.parseBlock(b.data, b.line)
		p.out = saved
		if err != nil {
			return err
		}
	}
	return rd.commit(&b.out)
}

// cut reads src into blocks of whole records and hands them to the
// workers. A read error goes to the sequencer as a block of its own, so
// that it is reported after the blocks before it.
func (rd *reader) cut(src io.Reader, line int, free, work, done chan *block, failed *atomic.Bool) (io.Reader, int, error) {
	limit := 2*rd.opts.MaxLineBytes + blockBytes
	var carry []byte // the start of a record, copied to the next block
	seq := 0
	for !failed.Load() {
		b := <-free
		b.data = append(b.data[:0], carry...)
		b.err = nil
		var rerr error
		end := 0
		for rerr == nil {
			if len(b.data) >= blockBytes {
				if end = recordsEnd(b.data, rd.delim); end > 0 {
					break
				}
				if len(b.data) > limit {
					// The rest goes to the in-order reader.
					free <- b
					return io.MultiReader(bytes.NewReader(bytes.Clone(b.data)), src), line, nil
				}
			}
			// Up to a block, then a little more at a time until a record
			// ends.
			want := max(blockBytes-len(b.data), min(blockBytes, 64<<10), 1)
			b.data = slices.Grow(b.data, want)
			n, err := src.Read(b.data[len(b.data) : len(b.data)+want])
			b.data = b.data[:len(b.data)+n]
			rerr = err
		}
		if rerr != nil {
			end = len(b.data)
		}
		carry = append(carry[:0], b.data[end:]...)
		b.data = b.data[:end]
		if rerr != nil && rerr != io.EOF {
			// The records before the error are parsed; the error follows.
			lines := line + bytes.Count(b.data, []byte{'\n'})
			var de *textenc.DecodeError
			if errors.As(rerr, &de) {
				rerr = fmt.Errorf("stock: line %d: %w", lines+1, rerr)
			} else {
				rerr = fmt.Errorf("stock: after line %d: %w", lines, rerr)
			}
		}
		if len(b.data) > 0 {
			b.seq, b.line = seq, line
			seq++
			line += bytes.Count(b.data, []byte{'\n'})
			work <- b
		} else {
			free <- b
		}
		if rerr == io.EOF {
			return nil, line, nil
		}
		if rerr != nil {
			eb := <-free
			eb.seq, eb.err, eb.data = seq, rerr, eb.data[:0]
			done <- eb
			return nil, line, nil
		}
	}
	return nil, line, nil
}
