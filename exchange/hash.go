package exchange

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"os"
	"sync"
)

// contentHash gives a claimed file's SHA-256 with one read of the file: a
// handler that reads the content through Open to the end computes it on the
// way; otherwise Sum reads the file itself.
type contentHash struct {
	path string
	mu   sync.Mutex
	sum  string
	used bool // a tee is handed out (only the first Open tees)
}

// Open returns the content; reading it to the end records its checksum.
func (c *contentHash) Open() (io.ReadCloser, error) {
	f, err := os.Open(c.path)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.used || c.sum != "" {
		return f, nil
	}
	c.used = true
	return &teeHash{f: f, h: sha256.New(), c: c}, nil
}

// Sum returns the checksum, reading the file if no Open read it whole.
func (c *contentHash) Sum() (string, error) {
	c.mu.Lock()
	if c.sum != "" {
		s := c.sum
		c.mu.Unlock()
		return s, nil
	}
	c.mu.Unlock()
	_, sum, err := hashFile(c.path)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.sum = sum
	c.mu.Unlock()
	return sum, nil
}

type teeHash struct {
	f    *os.File
	h    hash.Hash
	c    *contentHash
	done bool
}

func (t *teeHash) Read(p []byte) (int, error) {
	n, err := t.f.Read(p)
	t.h.Write(p[:n])
	if errors.Is(err, io.EOF) && !t.done {
		t.done = true
		sum := hex.EncodeToString(t.h.Sum(nil))
		t.c.mu.Lock()
		t.c.sum = sum
		t.c.mu.Unlock()
	}
	return n, err
}

// WriteTo is not offered on purpose: every byte must pass through Read.

func (t *teeHash) Close() error { return t.f.Close() }

// Stat describes the file (a stock export without a measuring-time column
// is measured at its modification time).
func (t *teeHash) Stat() (os.FileInfo, error) { return t.f.Stat() }
