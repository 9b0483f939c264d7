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

// ContentHash computes a claimed file's SHA-256 the way that costs a large
// export least: in small steps while the handler's reader waits for its parser
// (Step, on an otherwise idle goroutine), or in a goroutine of its own beside
// the handler (Start), or at the end (Sum). The cheapest depends on the
// handler: a pipelined parser keeps one core busy, and a hash competing with
// it slows it down.
type ContentHash struct {
	path string

	mu      sync.Mutex
	f       *os.File
	h       hash.Hash
	sum     string
	err     error
	started bool
	done    chan struct{}
	buf     []byte
}

func newContentHash(path string) *ContentHash { return &ContentHash{path: path} }

// step hashes the next chunk; it reports whether more remains. The caller
// holds c.mu.
func (c *ContentHash) step() bool {
	if c.sum != "" || c.err != nil {
		return false
	}
	if c.f == nil {
		f, err := os.Open(c.path)
		if err != nil {
			c.err = err
			return false
		}
		c.f, c.h, c.buf = f, sha256.New(), make([]byte, 256<<10)
	}
	n, err := c.f.Read(c.buf)
	c.h.Write(c.buf[:n])
	if errors.Is(err, io.EOF) {
		c.sum = hex.EncodeToString(c.h.Sum(nil))
		c.f.Close()
		c.f, c.buf = nil, nil
		return false
	}
	if err != nil {
		c.err = err
		c.f.Close()
		c.f = nil
		return false
	}
	return true
}

// Step hashes the next 256 KB and reports whether more remains. It is meant
// for a goroutine that would otherwise wait.
func (c *ContentHash) Step() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return false
	}
	return c.step()
}

// Start finishes the hash in a goroutine of its own.
func (c *ContentHash) Start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return
	}
	c.started = true
	c.done = make(chan struct{})
	go func() {
		defer close(c.done)
		c.mu.Lock()
		defer c.mu.Unlock()
		for c.step() {
		}
	}()
}

// Sum returns the checksum (hex), finishing what is left.
func (c *ContentHash) Sum() (string, error) {
	c.mu.Lock()
	if c.started {
		done := c.done
		c.mu.Unlock()
		<-done
		c.mu.Lock()
	}
	defer c.mu.Unlock()
	for c.step() {
	}
	return c.sum, c.err
}

// Open returns the content.
func (c *ContentHash) Open() (io.ReadCloser, error) { return os.Open(c.path) }
