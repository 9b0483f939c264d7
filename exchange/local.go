package exchange

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/rs/zerolog"

	"globex/internal/fsx"
)

// ClaimDir is the hidden folder inside a drop folder where claimed inputs
// wait while they are processed, one sub-folder per globex instance.
const ClaimDir = ".globex"

// LocalSource is a local or mounted folder. fsnotify events only wake the
// runner early; the periodic listing is the truth (network shares deliver no
// events, event queues overflow, the daemon may have been down).
type LocalSource struct {
	Dir      string
	Filter   Filter
	Instance string
	Exchange string // several exchanges may share a folder: claims are kept apart
	Log      zerolog.Logger

	watcher *fsnotify.Watcher
	wake    chan struct{}
	hints   chan Hint
	done    chan struct{}
	lost    atomic.Bool
	warned  map[string]bool
	markers map[string]bool // done-markers of the last Scan
}

// HintsLost reports whether events were dropped since the last call.
func (s *LocalSource) HintsLost() bool { return s.lost.Swap(false) }

// NewLocalSource prepares a folder source; watch starts fsnotify.
func NewLocalSource(dir string, f Filter, instance, exchange string, watch bool, log zerolog.Logger) (*LocalSource, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("the source folder %s cannot be opened: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("the source %s is not a folder", dir)
	}
	s := &LocalSource{Dir: dir, Filter: f, Instance: instance, Exchange: exchange, Log: log}
	if watch {
		w, err := fsnotify.NewWatcher()
		if err == nil {
			err = w.Add(dir)
		}
		if err != nil {
			log.Warn().Err(err).Str("dir", dir).Msg("file events unavailable; relying on periodic scans")
			if w != nil {
				w.Close()
			}
		} else {
			s.watcher = w
			s.wake = make(chan struct{}, 1)
			s.hints = make(chan Hint, 4096)
			s.done = make(chan struct{})
			go s.watch()
		}
	}
	return s, nil
}

func (s *LocalSource) watch() {
	defer close(s.done)
	for {
		select {
		case ev, ok := <-s.watcher.Events:
			if !ok {
				return
			}
			name := filepath.Base(ev.Name)
			if filepath.Dir(ev.Name) != filepath.Clean(s.Dir) || !s.Filter.Match(name) {
				if s.Filter.DoneSuffix != "" && strings.HasSuffix(name, s.Filter.DoneSuffix) {
					s.signal()
				}
				continue
			}
			if ev.Op&(fsnotify.Create|fsnotify.Write) != 0 {
				h := Hint{Name: name, Create: ev.Op.Has(fsnotify.Create), Write: ev.Op.Has(fsnotify.Write), At: time.Now()}
				select {
				case s.hints <- h:
				default: // hints are an optimisation; the scan still finds the file
					s.lost.Store(true)
				}
			}
			s.signal()
		case err, ok := <-s.watcher.Errors:
			if !ok {
				return
			}
			// An overflow or any watcher error: a scan finds what was missed.
			s.Log.Warn().Err(err).Str("dir", s.Dir).Msg("file event queue trouble; rescanning")
			s.lost.Store(true)
			s.signal()
		}
	}
}

func (s *LocalSource) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Describe implements Source.
func (s *LocalSource) Describe() string { return "folder " + s.Dir }

// Wake implements Source.
func (s *LocalSource) Wake() (<-chan struct{}, <-chan Hint) { return s.wake, s.hints }

// Stat returns size and modification time of a file in the folder.
func (s *LocalSource) Stat(name string) (int64, time.Time, bool) {
	st, err := os.Stat(filepath.Join(s.Dir, name))
	if err != nil || !st.Mode().IsRegular() {
		return 0, time.Time{}, false
	}
	return st.Size(), st.ModTime(), true
}

// Scan implements Source. Done-markers are reported by Markers.
func (s *LocalSource) Scan(ctx context.Context) ([]Entry, error) {
	ents, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, fmt.Errorf("cannot list the source folder %s: %w", s.Dir, err)
	}
	out := make([]Entry, 0, len(ents))
	if s.Filter.DoneSuffix != "" {
		s.markers = map[string]bool{}
	}
	for _, d := range ents {
		if s.Filter.DoneSuffix != "" && strings.HasSuffix(d.Name(), s.Filter.DoneSuffix) {
			s.markers[d.Name()] = true
		}
		if !d.Type().IsRegular() || !s.Filter.Match(d.Name()) {
			continue
		}
		if !fsx.ValidBaseName(d.Name()) {
			if s.warned == nil {
				s.warned = map[string]bool{}
			}
			if !s.warned[d.Name()] {
				s.warned[d.Name()] = true
				s.Log.Warn().Str("file", d.Name()).Str("dir", s.Dir).Msg("ignored: the name holds a path separator; rename the file")
			}
			continue
		}
		info, err := d.Info()
		if err != nil {
			continue // vanished between the listing and the stat
		}
		out = append(out, Entry{Name: d.Name(), Size: info.Size(), ModTime: info.ModTime()})
	}
	return out, nil
}

// Markers lists the done-markers of the last Scan's listing (nil without a
// done suffix): the folder is read once per scan.
func (s *LocalSource) Markers() map[string]bool { return s.markers }

func (s *LocalSource) claimDir() string {
	return filepath.Join(s.Dir, ClaimDir, s.Instance, s.Exchange)
}

// Claim implements Source: an atomic rename into this instance's claim
// folder. Only one process can win that rename; on Windows it also fails while
// another program holds the file open, and the file is simply tried again.
func (s *LocalSource) Claim(ctx context.Context, e Entry, id string) (*Claimed, error) {
	if !fsx.ValidBaseName(e.Name) {
		return nil, fmt.Errorf("refusing the file name %q: it would leave its folder", e.Name)
	}
	if err := os.MkdirAll(s.claimDir(), 0o755); err != nil {
		return nil, &Transient{Err: fmt.Errorf("cannot create the claim folder in %s: %w", s.Dir, err)}
	}
	dst := filepath.Join(s.claimDir(), id+"_"+e.Name)
	src := filepath.Join(s.Dir, e.Name)
	if err := fsx.Move(src, dst); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, &Transient{Err: fmt.Errorf("cannot claim %s (is it still open in another program?): %w", src, err)}
	}
	// The done-marker goes with the claim: the next file of this name
	// waits for a marker of its own.
	if s.Filter.DoneSuffix != "" {
		if err := os.Remove(src + s.Filter.DoneSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.Log.Warn().Err(err).Str("file", e.Name).Msg("could not remove the done-marker")
		}
	}
	return &Claimed{ID: id, Name: e.Name, Path: dst}, nil
}

// Recover implements Source.
func (s *LocalSource) Recover(ctx context.Context) ([]*Claimed, error) {
	ents, err := os.ReadDir(s.claimDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Claimed
	for _, d := range ents {
		id, name, ok := strings.Cut(d.Name(), "_")
		if !ok || !d.Type().IsRegular() || fsx.IsTemp(d.Name()) {
			continue
		}
		out = append(out, &Claimed{ID: id, Name: name, Path: filepath.Join(s.claimDir(), d.Name())})
	}
	return out, nil
}

// Finish implements Source: nothing is left to do (the done-marker went
// with the claim).
func (s *LocalSource) Finish(ctx context.Context, c *Claimed) error { return nil }

// Close implements Source.
func (s *LocalSource) Close() error {
	if s.watcher != nil {
		err := s.watcher.Close()
		<-s.done
		return err
	}
	return nil
}

// LocalTarget is a local or mounted folder receiving outputs.
type LocalTarget struct{ Dir string }

// Describe implements Target.
func (t *LocalTarget) Describe() string { return "folder " + t.Dir }

// Stage implements Target.
func (t *LocalTarget) Stage(ctx context.Context, name, key string, write func(w io.Writer) error) (string, error) {
	if !fsx.ValidBaseName(name) || !fsx.ValidBaseName(key) {
		return "", fmt.Errorf("refusing output name %q", name)
	}
	tmp, err := fsx.WriteTempAs(fsx.TempNameFor(filepath.Join(t.Dir, name), key), 0o644, write)
	if err != nil {
		return "", &Transient{Err: fmt.Errorf("cannot write to the target folder %s: %w", t.Dir, err)}
	}
	return filepath.Base(tmp), nil
}

// StageFile stages the complete, fsynced local file path under a temporary
// name for name: a hard link when both are on one volume (no copy of a large
// feed; the file is never changed in place afterwards), else a copy.
func (t *LocalTarget) StageFile(ctx context.Context, name, key, path string) (string, error) {
	if !fsx.ValidBaseName(name) || !fsx.ValidBaseName(key) {
		return "", fmt.Errorf("refusing output name %q", name)
	}
	tmp := fsx.TempNameFor(filepath.Join(t.Dir, name), key)
	_ = os.Remove(tmp)
	if err := os.Link(path, tmp); err == nil {
		return filepath.Base(tmp), nil
	}
	return t.Stage(ctx, name, key, func(w io.Writer) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	})
}

// Publish implements Target.
func (t *LocalTarget) Publish(ctx context.Context, tmp, name string, replace bool) error {
	err := fsx.Publish(filepath.Join(t.Dir, tmp), filepath.Join(t.Dir, name), replace)
	if err != nil && !errors.Is(err, fsx.ErrExists) {
		return &Transient{Err: fmt.Errorf("cannot publish %s in %s: %w", name, t.Dir, err)}
	}
	return err
}

// Exists implements Target.
func (t *LocalTarget) Exists(ctx context.Context, name string) (bool, error) {
	_, err := os.Lstat(filepath.Join(t.Dir, name))
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, &Transient{Err: err}
}

// Discard implements Target.
func (t *LocalTarget) Discard(ctx context.Context, tmp string) error {
	err := os.Remove(filepath.Join(t.Dir, tmp))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// Close implements Target.
func (t *LocalTarget) Close() error { return nil }
