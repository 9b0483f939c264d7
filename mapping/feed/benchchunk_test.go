package feed

// benchIndexedChunk is flow's indexedChunk (the JSONL chunk of a feed run,
// with its index entries), which package feed cannot import.
type benchIndexedChunk struct {
	b    []byte
	keys []byte
	ents []benchIndexedEntry
	enc  JSONChunkEncoder
}

type benchIndexedEntry struct {
	kh, ch   uint64
	off, len int
}

func newBenchIndexedChunk() *benchIndexedChunk {
	return &benchIndexedChunk{b: make([]byte, 0, 64<<10)}
}

func (c *benchIndexedChunk) Add(rec Record) error {
	start := len(c.b)
	c.b = c.enc.Append(c.b, rec)
	off := len(c.keys)
	var kh, ch uint64
	c.keys, kh, ch = RecordHashes(rec, c.b[start:], c.keys)
	c.ents = append(c.ents, benchIndexedEntry{kh: kh, ch: ch, off: off, len: len(c.keys) - off})
	c.b = append(c.b, '\n')
	return nil
}

func (c *benchIndexedChunk) reset() { c.b, c.keys, c.ents = c.b[:0], c.keys[:0], c.ents[:0] }
