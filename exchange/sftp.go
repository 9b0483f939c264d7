package exchange

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"globex/exchange/ledger"
	"globex/exchange/sftpfs"
	"globex/internal/crashpoint"
	"globex/internal/fsx"
)

// ProcessingDir is the folder on an SFTP drop where globex claims files by
// renaming them, one sub-folder per instance, before it downloads them.
const ProcessingDir = ".globex-processing"

// SFTPSource is an SFTP drop. Readiness comes from our own polls (size and
// time unchanged), never from comparing the server's clock with ours. A file
// is claimed by a rename into ProcessingDir on the server, so two globex
// instances on one drop never take the same file, then streamed to a local
// spool with its checksum. The `after` action runs only after the local
// commit; if it fails, Recover retries it after a reconnect.
type SFTPSource struct {
	Client   *sftpfs.Client
	Filter   Filter
	Instance string
	Exchange string
	Spool    string // local folder for downloads
	After    string // move | delete | keep
	MoveTo   string
	Seen     *SeenStore // for after: keep, which has no claim on the server
	Log      zerolog.Logger

	// PingIdle: Scan pings the server (replacing a dead session before the
	// listing) only when it has not answered for this long; default 30s.
	PingIdle time.Duration
	// SeenPruneEvery is how often Scan sweeps the Seen keys of after: keep
	// against the listing; default 10 minutes.
	SeenPruneEvery time.Duration
	// SeenGrace is how long a kept file must have been missing from the
	// listing before its Seen key is forgotten (so that a drop that looks
	// empty for a moment does not make its files new); default 24 hours.
	SeenGrace time.Duration

	markers   map[string]bool // done-markers of the last listing
	lastPrune time.Time

	dirMu sync.Mutex
	dirs  map[string]uint64 // remote folders known to exist, by connection (ConnInfo.Seq)
}

// Defaults of the SFTPSource tuning fields.
const (
	DefaultPingIdle       = 30 * time.Second
	DefaultSeenPruneEvery = 10 * time.Minute
	DefaultSeenGrace      = 24 * time.Hour
)

// SeenStore remembers files taken from a drop that is left untouched
// (after: keep), by name, size and time.
type SeenStore struct {
	// Get reports whether key was taken. An error fails the Scan: taking
	// a kept file again on a guess is worse than waiting.
	Get func(key string) (bool, error)
	// Put remembers key durably.
	Put func(key string) error
	// Prune (optional) sweeps every key in one transaction: a key for
	// which listed is true stays; any other is noted as missing since now,
	// or forgotten if it was noted as missing before now minus grace. A
	// key that is listed again loses its note. It returns how many keys
	// were forgotten.
	Prune func(listed func(key string) bool, now time.Time, grace time.Duration) (int, error)
}

// seenPrefix starts the ledger state names of a LedgerSeen.
const seenPrefix = "seen:"

// LedgerSeen keeps a SeenStore in the ledger, as states "seen:<key>" of
// exchange: 1 byte for a file in the drop, 8 (the time it went missing,
// Unix nanoseconds, big-endian) for one that has gone.
func LedgerSeen(l *ledger.Ledger, exchange string) *SeenStore {
	return &SeenStore{
		Get: func(k string) (bool, error) {
			v, err := l.State(exchange, seenPrefix+k)
			return v != nil, err
		},
		Put: func(k string) error {
			return l.Update(func(t *ledger.Tx) error { return t.PutState(exchange, seenPrefix+k, []byte{1}) })
		},
		Prune: func(listed func(string) bool, now time.Time, grace time.Duration) (int, error) {
			var n int
			err := l.Update(func(t *ledger.Tx) error {
				n = 0
				var present, gone, forget []string
				err := t.States(exchange, seenPrefix, func(name string, v []byte) error {
					k := strings.TrimPrefix(name, seenPrefix)
					switch {
					case listed(k):
						if len(v) != 1 {
							present = append(present, name)
						}
					case len(v) != 8:
						gone = append(gone, name)
					case now.Sub(time.Unix(0, int64(binary.BigEndian.Uint64(v)))) >= grace:
						forget = append(forget, name)
					}
					return nil
				})
				if err != nil {
					return err
				}
				for _, name := range present {
					if err := t.PutState(exchange, name, []byte{1}); err != nil {
						return err
					}
				}
				since := binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano()))
				for _, name := range gone {
					if err := t.PutState(exchange, name, since); err != nil {
						return err
					}
				}
				for _, name := range forget {
					if err := t.DeleteState(exchange, name); err != nil {
						return err
					}
				}
				n = len(forget)
				return nil
			})
			return n, err
		},
	}
}

func seenKey(name string, size int64, mod time.Time) string {
	return fmt.Sprintf("%s|%d|%d", name, size, mod.UnixNano())
}

func (s *SFTPSource) seenKey(e Entry) string { return seenKey(e.Name, e.Size, e.ModTime) }

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Describe implements Source.
func (s *SFTPSource) Describe() string {
	c := s.Client.Config()
	return fmt.Sprintf("sftp://%s@%s%s", c.User, c.Addr(), "/"+strings.TrimPrefix(c.Dir, "/"))
}

// Wake implements Source: SFTP has no events; polls only.
func (s *SFTPSource) Wake() (<-chan struct{}, <-chan Hint) { return nil, nil }

// Scan implements Source. It pings the server first when the connection
// has been idle for PingIdle (or none is open), so a dead session is replaced
// before the listing; a busy connection is not pinged on every poll.
func (s *SFTPSource) Scan(ctx context.Context) ([]Entry, error) {
	if info, ok := s.Client.Info(); !ok || time.Since(info.LastReply) >= orDefault(s.PingIdle, DefaultPingIdle) {
		if err := s.Client.Ping(ctx); err != nil {
			return nil, err
		}
	}
	list, err := s.Client.List(ctx, ".")
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(list))
	if s.Filter.DoneSuffix != "" {
		s.markers = map[string]bool{}
	}
	for _, e := range list {
		if s.Filter.DoneSuffix != "" && !e.IsDir && strings.HasSuffix(e.Name, s.Filter.DoneSuffix) {
			s.markers[e.Name] = true
		}
		if e.IsDir || sftpfs.IsTemp(e.Name) || !fsx.ValidBaseName(e.Name) || !s.Filter.Match(e.Name) {
			continue
		}
		en := Entry{Name: e.Name, Size: e.Size, ModTime: e.ModTime}
		if s.After == "keep" && s.Seen != nil {
			seen, err := s.Seen.Get(s.seenKey(en))
			if err != nil {
				return nil, &Transient{Err: fmt.Errorf("reading whether %s was taken already: %w", e.Name, err)}
			}
			if seen {
				continue
			}
		}
		out = append(out, en)
	}
	if s.After == "keep" && s.Seen != nil && s.Seen.Prune != nil {
		s.pruneSeen(list)
	}
	return out, nil
}

// pruneSeen forgets the Seen keys of files that have been missing from the
// listing for SeenGrace, at most every SeenPruneEvery. A key whose file is
// listed with that size and time is never forgotten. A failure is logged:
// the next sweep tries again.
func (s *SFTPSource) pruneSeen(list []sftpfs.Entry) {
	now := time.Now()
	if !s.lastPrune.IsZero() && now.Sub(s.lastPrune) < orDefault(s.SeenPruneEvery, DefaultSeenPruneEvery) {
		return
	}
	s.lastPrune = now
	listed := make(map[string]bool, len(list))
	for _, e := range list {
		if !e.IsDir {
			listed[seenKey(e.Name, e.Size, e.ModTime)] = true
		}
	}
	n, err := s.Seen.Prune(func(k string) bool { return listed[k] }, now, orDefault(s.SeenGrace, DefaultSeenGrace))
	if err != nil {
		s.Log.Warn().Err(err).Msg("could not prune the record of kept files taken; will retry")
		return
	}
	if n > 0 {
		s.Log.Debug().Int("keys", n).Msg("forgot kept files that left the drop")
	}
}

// Markers lists the done-markers seen by the last Scan (nil without a done
// suffix): a file is ready when its marker is there, however its size and
// time look.
func (s *SFTPSource) Markers() map[string]bool { return s.markers }

func (s *SFTPSource) claimDir() string { return path.Join(ProcessingDir, s.Instance, s.Exchange) }

// Claim implements Source.
func (s *SFTPSource) Claim(ctx context.Context, e Entry, id string) (*Claimed, error) {
	if !fsx.ValidBaseName(e.Name) {
		return nil, fmt.Errorf("refusing the remote file name %q: it would leave its folder", e.Name)
	}
	remote := e.Name
	if s.After != "keep" {
		remote = path.Join(s.claimDir(), id+"_"+e.Name)
		if err := s.renameInto(ctx, e.Name, s.claimDir(), remote); err != nil {
			var de *dirError
			if errors.As(err, &de) {
				return nil, &Transient{Err: err}
			}
			if errors.Is(err, fs.ErrNotExist) {
				return nil, nil // another instance was first
			}
			return nil, &Transient{Err: err}
		}
		// The marker goes with the claim: the next file of this name waits
		// for a marker of its own.
		s.removeMarker(ctx, e.Name)
	}
	c := &Claimed{ID: id, Name: e.Name, Remote: remote, Path: filepath.Join(s.Spool, id+"_"+fsx.SafeName(e.Name, 150))}
	if s.After != "keep" || s.Seen == nil {
		if err := s.download(ctx, c); err != nil {
			return nil, err
		}
		return c, nil
	}
	// after: keep has no claim on the server; the Seen key is the claim.
	// It is written beside the spool copy first (durably), so that a crash
	// between the download and the Put leaves it for Recover, which puts it
	// before it hands the copy on. A crash before the download completes
	// leaves no copy: Recover drops the sidecar and the file is taken again.
	key := s.seenKey(e)
	side := s.sidecar(id)
	if err := os.MkdirAll(s.Spool, 0o755); err != nil {
		return nil, &Transient{Err: err}
	}
	if err := fsx.WriteFile(side, 0o644, true, func(w io.Writer) error {
		_, err := io.WriteString(w, key)
		return err
	}); err != nil {
		return nil, &Transient{Err: fmt.Errorf("noting %s as taken: %w", e.Name, err)}
	}
	crashpoint.Hit("sftp-keep-noted")
	if err := s.download(ctx, c); err != nil {
		os.Remove(side)
		return nil, err
	}
	crashpoint.Hit("sftp-keep-downloaded")
	if err := s.Seen.Put(key); err != nil {
		// The copy and its sidecar stay: Recover (asked for by a
		// transient claim error, and run before the next Scan) puts the key.
		return nil, &Transient{Err: fmt.Errorf("remembering %s as taken: %w", e.Name, err)}
	}
	crashpoint.Hit("sftp-keep-put")
	if err := os.Remove(side); err != nil {
		s.Log.Warn().Err(err).Str("file", side).Msg("could not remove a sidecar; Recover will")
	}
	return c, nil
}

// sidecarPrefix starts the spool files that hold the Seen key of a kept
// file's spool copy until the key is in the ledger.
const sidecarPrefix = ".seen-"

func (s *SFTPSource) sidecar(id string) string { return filepath.Join(s.Spool, sidecarPrefix+id) }

// renameInto renames from to to, inside dir, creating dir the first time
// on each connection. If the rename finds no such file while dir was
// only assumed to exist, dir is created and the rename tried once more.
func (s *SFTPSource) renameInto(ctx context.Context, from, dir, to string) error {
	known := s.dirKnown(dir)
	if !known {
		if err := s.mkdir(ctx, dir); err != nil {
			return err
		}
	}
	err := s.Client.Rename(ctx, from, to)
	if known && errors.Is(err, fs.ErrNotExist) {
		if err := s.mkdir(ctx, dir); err != nil {
			return err
		}
		err = s.Client.Rename(ctx, from, to)
	}
	return err
}

// dirError is a failure to create the folder of a rename: unlike a rename
// that finds no such file, it never means that the file is gone.
type dirError struct{ err error }

func (d *dirError) Error() string { return d.err.Error() }
func (d *dirError) Unwrap() error { return d.err }

func (s *SFTPSource) dirKnown(dir string) bool {
	info, ok := s.Client.Info()
	if !ok {
		return false
	}
	s.dirMu.Lock()
	defer s.dirMu.Unlock()
	return s.dirs[dir] == info.Seq
}

func (s *SFTPSource) mkdir(ctx context.Context, dir string) error {
	s.dirMu.Lock()
	delete(s.dirs, dir)
	s.dirMu.Unlock()
	if err := s.Client.MkdirAll(ctx, dir); err != nil {
		return &dirError{err}
	}
	if info, ok := s.Client.Info(); ok {
		s.dirMu.Lock()
		if s.dirs == nil {
			s.dirs = map[string]uint64{}
		}
		s.dirs[dir] = info.Seq
		s.dirMu.Unlock()
	}
	return nil
}

func (s *SFTPSource) download(ctx context.Context, c *Claimed) error {
	if err := os.MkdirAll(s.Spool, 0o755); err != nil {
		return &Transient{Err: err}
	}
	err := fsx.WriteFile(c.Path, 0o644, true, func(w io.Writer) error {
		_, _, err := s.Client.Download(ctx, c.Remote, w)
		return err
	})
	if err != nil {
		return &Transient{Err: fmt.Errorf("downloading %s: %w", c.Remote, err)}
	}
	return nil
}

// Recover implements Source: files this instance had claimed on the server
// are downloaded again if their local copy is missing.
//
// A kept file's spool copy whose sidecar is still there (a crash came
// between the download and the Put) gets its Seen key put first; a sidecar
// without a copy (the download did not complete) is dropped, so the file is
// taken again.
func (s *SFTPSource) Recover(ctx context.Context) ([]*Claimed, error) {
	local := map[string]string{}
	sides := map[string]string{}
	ents, _ := os.ReadDir(s.Spool)
	for _, d := range ents {
		if fsx.IsTemp(d.Name()) || !d.Type().IsRegular() {
			continue
		}
		if id, ok := strings.CutPrefix(d.Name(), sidecarPrefix); ok {
			sides[id] = filepath.Join(s.Spool, d.Name())
			continue
		}
		if id, _, ok := strings.Cut(d.Name(), "_"); ok {
			local[id] = d.Name()
		}
	}
	if s.Seen != nil {
		for id, side := range sides {
			if _, ok := local[id]; ok {
				key, err := os.ReadFile(side)
				if err != nil {
					return nil, fmt.Errorf("reading the sidecar of a kept file: %w", err)
				}
				if err := s.Seen.Put(string(key)); err != nil {
					return nil, fmt.Errorf("remembering %s as taken: %w", strings.SplitN(string(key), "|", 2)[0], err)
				}
			}
			if err := os.Remove(side); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
		}
	}
	var out []*Claimed
	if s.After != "keep" {
		list, err := s.Client.List(ctx, s.claimDir())
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		for _, e := range list {
			id, name, ok := strings.Cut(e.Name, "_")
			if !ok || e.IsDir || sftpfs.IsTemp(e.Name) {
				continue
			}
			c := &Claimed{ID: id, Name: name, Remote: path.Join(s.claimDir(), e.Name), Path: filepath.Join(s.Spool, id+"_"+fsx.SafeName(name, 150))}
			if _, ok := local[id]; !ok {
				if err := s.download(ctx, c); err != nil {
					return nil, err
				}
			}
			delete(local, id)
			out = append(out, c)
		}
	}
	for id, file := range local {
		_, name, _ := strings.Cut(file, "_")
		c := &Claimed{ID: id, Name: name, Path: filepath.Join(s.Spool, file)}
		if s.After == "keep" {
			c.Remote = name // kept files stay where they are
		} // else the claimed copy (gone or not) is meant, never a new file of that name in the drop
		out = append(out, c)
	}
	return out, nil
}

// Finish implements Source: the `after` action, done only after the local
// commit, then the done-marker's removal. A file already gone (an earlier
// attempt succeeded) is fine.
func (s *SFTPSource) Finish(ctx context.Context, c *Claimed) error {
	if err := s.after(ctx, c); err != nil {
		return err
	}
	if s.After == "keep" { // a kept file has no claim: its marker goes now
		s.removeMarker(ctx, c.Name)
	}
	return nil
}

// removeMarker removes name's done-marker, if a done suffix is set. A
// marker that cannot be removed is logged: it would make the next file of
// that name look ready too early.
func (s *SFTPSource) removeMarker(ctx context.Context, name string) {
	if s.Filter.DoneSuffix == "" {
		return
	}
	if err := s.Client.Remove(ctx, name+s.Filter.DoneSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.Log.Warn().Err(err).Str("file", name).Msg("could not remove the done-marker")
	}
}

func (s *SFTPSource) after(ctx context.Context, c *Claimed) error {
	if c.Remote == "" {
		c.Remote = path.Join(s.claimDir(), c.ID+"_"+c.Name)
	}
	var err error
	switch s.After {
	case "keep":
		return nil
	case "delete":
		err = s.Client.Remove(ctx, c.Remote)
	default:
		err = s.renameInto(ctx, c.Remote, s.MoveTo, path.Join(s.MoveTo, c.Name))
		var de *dirError
		if errors.As(err, &de) {
			return err
		}
		if errors.Is(err, fs.ErrExist) {
			err = s.Client.Rename(ctx, c.Remote, path.Join(s.MoveTo, c.ID+"_"+c.Name))
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// Close implements Source.
func (s *SFTPSource) Close() error { return s.Client.Close() }

// SFTPTarget writes outputs to an SFTP server. Stage uploads the complete
// content straight to a temporary name consumers ignore (and checks its
// size); Publish renames it to the final name without ever replacing a file:
// one rename per file. So, as for a folder, "the
// temp file is gone" means "published".
type SFTPTarget struct {
	Client *sftpfs.Client
	Spool  string // local folder where content is staged before the upload
}

// Describe implements Target.
func (t *SFTPTarget) Describe() string {
	c := t.Client.Config()
	return fmt.Sprintf("sftp://%s@%s/%s", c.User, c.Addr(), strings.TrimPrefix(c.Dir, "/"))
}

// Stage implements Target: the content is spooled locally first (its size
// must be known for the upload's check), then uploaded by StageFile.
func (t *SFTPTarget) Stage(ctx context.Context, name, key string, write func(io.Writer) error) (string, error) {
	if !fsx.ValidBaseName(name) || !fsx.ValidBaseName(key) {
		return "", fmt.Errorf("refusing output name %q", name)
	}
	if err := os.MkdirAll(t.Spool, 0o755); err != nil {
		return "", &Transient{Err: err}
	}
	f, err := os.CreateTemp(t.Spool, ".upload-*")
	if err != nil {
		return "", &Transient{Err: err}
	}
	defer os.Remove(f.Name())
	err = write(f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = &Transient{Err: cerr}
	}
	if err != nil {
		return "", err
	}
	return t.StageFile(ctx, name, key, f.Name())
}

// StageFile implements Target: the complete local file is uploaded under a
// temporary name straight from where it is (no spool copy). The upload
// writes that name directly (it is temporary already); on failure it is
// removed.
func (t *SFTPTarget) StageFile(ctx context.Context, name, key, path string) (string, error) {
	if !fsx.ValidBaseName(name) || !fsx.ValidBaseName(key) {
		return "", fmt.Errorf("refusing output name %q", name)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", &Transient{Err: err}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", &Transient{Err: err}
	}
	tmp := fsx.TempPrefix + key + "-" + name + fsx.TempSuffix
	if err := t.Client.UploadTemp(ctx, tmp, f, st.Size()); err != nil {
		return "", &Transient{Err: err}
	}
	return tmp, nil
}

// Publish implements Target.
func (t *SFTPTarget) Publish(ctx context.Context, tmp, name string, replace bool) error {
	var err error
	if replace {
		err = t.Client.Replace(ctx, tmp, name)
	} else if err = t.Client.Rename(ctx, tmp, name); errors.Is(err, fs.ErrExist) {
		return fsx.ErrExists
	}
	if err != nil {
		return &Transient{Err: err}
	}
	return nil
}

// Exists implements Target.
func (t *SFTPTarget) Exists(ctx context.Context, name string) (bool, error) {
	_, err := t.Client.Stat(ctx, name)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, &Transient{Err: err}
}

// Discard implements Target.
func (t *SFTPTarget) Discard(ctx context.Context, tmp string) error {
	err := t.Client.Remove(ctx, tmp)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// Close implements Target.
func (t *SFTPTarget) Close() error { return t.Client.Close() }
