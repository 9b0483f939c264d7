package feed

import "fmt"

// ChunkWriter is a Writer whose records can be encoded by several goroutines
// at once: each goroutine encodes consecutive records into a Chunk of its
// own, and the chunks are then written in record order. The output is the
// same as that of Write called for every record in order.
type ChunkWriter interface {
	Writer
	// NewChunk returns an empty chunk for this writer. A chunk is used by
	// one goroutine at a time.
	NewChunk() Chunk
	// WriteChunk writes the records encoded in c and empties c for reuse.
	// Chunks must be written one at a time, in record order.
	WriteChunk(c Chunk) error
}

// Chunk holds records encoded for one ChunkWriter.
type Chunk interface {
	// Add encodes rec; rec may be reused once Add returns. After an error
	// the chunk must not be written. Add may keep scratch data in rec for
	// the chunks of other writers that encode it next (see
	// JSONChunkEncoder): a record is added by one goroutine at a time.
	Add(rec Record) error
}

// bytesChunk is the chunk of the JSONL and CSV writers: encoded lines.
type bytesChunk struct {
	b []byte
}

type jsonlChunk struct {
	bytesChunk
	enc JSONChunkEncoder
}

func (c *jsonlChunk) Add(rec Record) error {
	c.b = c.enc.Append(c.b, rec)
	c.b = append(c.b, '\n')
	return nil
}

// NewChunk implements ChunkWriter.
func (j *JSONLWriter) NewChunk() Chunk {
	return &jsonlChunk{bytesChunk: bytesChunk{make([]byte, 0, 64<<10)}}
}

// WriteChunk implements ChunkWriter.
func (j *JSONLWriter) WriteChunk(c Chunk) error {
	ch := c.(*jsonlChunk)
	if j.err == nil {
		_, j.err = j.w.Write(ch.b)
	}
	ch.b = ch.b[:0]
	return j.err
}

type csvChunk struct {
	kind Kind
	cols *Columns
	row  csvRow
}

func (c *csvChunk) Add(rec Record) error {
	if rec.Kind() != c.kind {
		return fmt.Errorf("feed: %s record written to a %s CSV", rec.Kind(), c.kind)
	}
	start := len(c.row.b)
	c.row.n = 0
	if err := cells(rec, c.cols, &c.row); err != nil {
		c.row.b = c.row.b[:start]
		return fmt.Errorf("feed: %s %q: %w", c.kind, rec.Key(), err)
	}
	c.row.b = append(c.row.b, '\n')
	return nil
}

// NewChunk implements ChunkWriter.
func (c *CSVWriter) NewChunk() Chunk {
	return &csvChunk{kind: c.kind, cols: &c.cols, row: csvRow{b: make([]byte, 0, 64<<10)}}
}

// WriteChunk implements ChunkWriter.
func (c *CSVWriter) WriteChunk(ch Chunk) error {
	cc := ch.(*csvChunk)
	defer func() { cc.row.b = cc.row.b[:0] }()
	if c.err != nil {
		return c.err
	}
	if len(cc.row.b) == 0 {
		return nil
	}
	if !c.header {
		if c.writeHeader(); c.err != nil {
			return c.err
		}
	}
	_, c.err = c.w.Write(cc.row.b)
	return c.err
}
