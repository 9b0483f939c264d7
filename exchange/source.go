// Package exchange is globex's runtime: sources (local folder, SFTP), readiness,
// claims, the archive, atomic targets and the runner that drives one exchange
// through them with the ledger as its memory. It knows files, not Globe: what
// a file means is a Handler's business (package flow).
package exchange

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"time"
)

// Entry is a candidate input file as a source lists it.
type Entry struct {
	Name    string
	Size    int64
	ModTime time.Time
}

// Claimed is an input this process owns: nobody else will take it, and it
// survives a crash of this process (Recover finds it again).
type Claimed struct {
	ID   string // unique and sortable by claim time
	Name string // the original file name
	Path string // a local file with the content
	// Remote is set for inputs from a remote drop: where the claimed file lives there.
	Remote string
}

// Source lists and claims input files for one exchange.
type Source interface {
	// Describe names the source for people ("folder D:\drop", "sftp://user@host/dir").
	Describe() string
	// Scan lists candidate files (include/exclude and temp names applied).
	Scan(ctx context.Context) ([]Entry, error)
	// Claim takes e so that no other process can: id is the claim's ID.
	// A nil Claimed with a nil error means the file is gone (another process
	// took it first, or it was removed).
	Claim(ctx context.Context, e Entry, id string) (*Claimed, error)
	// Recover returns the claims a previous run of this instance left behind.
	Recover(ctx context.Context) ([]*Claimed, error)
	// Finish is called once the input is archived locally: a remote source
	// applies its `after` action, a local one removes a done-marker.
	Finish(ctx context.Context, c *Claimed) error
	// Wake returns a channel that signals that a scan may find something new,
	// and a channel of readiness hints (nil when the source has none).
	Wake() (<-chan struct{}, <-chan Hint)
	Close() error
}

// Hint is what a file system event tells about one file.
type Hint struct {
	Name   string
	Create bool // the file appeared (created, or renamed into the folder)
	Write  bool // the file was written to
	At     time.Time
}

// Target receives output files atomically.
type Target interface {
	Describe() string
	// Stage writes a complete, durable temporary file that consumers ignore
	// and returns its name. The temporary name is derived from key, so that a
	// retry with the same key replaces an interrupted attempt's leftover.
	Stage(ctx context.Context, name, key string, write func(io.Writer) error) (tmp string, err error)
	// StageFile is Stage for content that is already a complete local file:
	// it is linked or uploaded from where it is instead of copied first.
	StageFile(ctx context.Context, name, key, path string) (tmp string, err error)
	// Publish makes tmp visible as name. With replace false an existing name
	// is never overwritten (fsx.ErrExists).
	Publish(ctx context.Context, tmp, name string, replace bool) error
	// Exists reports whether a staged or published name is there.
	Exists(ctx context.Context, name string) (bool, error)
	// Discard removes a staged temporary file.
	Discard(ctx context.Context, tmp string) error
	Close() error
}

// Transient marks an error as a condition of the environment (a target that
// is full, read-only or unreachable): the input is kept and retried with
// backoff, never quarantined as bad input.
type Transient struct{ Err error }

func (t *Transient) Error() string { return t.Err.Error() }
func (t *Transient) Unwrap() error { return t.Err }

// ignoredName reports names that are never inputs: temp and lock files of
// editors, browsers and transfer tools, dot files, and our own temp names.
func ignoredName(name string) bool {
	lower := strings.ToLower(name)
	switch {
	case strings.HasPrefix(name, "."), strings.HasPrefix(name, "~$"), strings.HasPrefix(name, "~"):
		return true
	}
	for _, suf := range []string{".tmp", ".part", ".partial", ".filepart", ".crdownload", ".download", ".lock", ".swp"} {
		if strings.HasSuffix(lower, suf) {
			return true
		}
	}
	return false
}

// Filter decides which names are candidates.
type Filter struct {
	Include, Exclude []string
	DoneSuffix       string
}

// Match reports whether name is a candidate input.
func (f Filter) Match(name string) bool {
	if ignoredName(name) {
		return false
	}
	if f.DoneSuffix != "" && strings.HasSuffix(name, f.DoneSuffix) {
		return false
	}
	lower := strings.ToLower(name)
	for _, g := range f.Exclude {
		if ok, _ := filepath.Match(strings.ToLower(g), lower); ok {
			return false
		}
	}
	for _, g := range f.Include {
		if ok, _ := filepath.Match(strings.ToLower(g), lower); ok {
			return true
		}
	}
	return false
}
