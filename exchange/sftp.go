package exchange

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"

	"globex/exchange/sftpfs"
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

	markers map[string]bool // done-markers of the last listing
}

// SeenStore remembers files taken from a drop that is left untouched
// (after: keep), by name, size and time.
type SeenStore struct {
	Get func(key string) bool
	Put func(key string) error
}

func (s *SFTPSource) seenKey(e Entry) string {
	return fmt.Sprintf("%s|%d|%d", e.Name, e.Size, e.ModTime.UnixNano())
}

// Describe implements Source.
func (s *SFTPSource) Describe() string {
	c := s.Client.Config()
	return fmt.Sprintf("sftp://%s@%s%s", c.User, c.Addr(), "/"+strings.TrimPrefix(c.Dir, "/"))
}

// Wake implements Source: SFTP has no events; polls only.
func (s *SFTPSource) Wake() (<-chan struct{}, <-chan Hint) { return nil, nil }

// Scan implements Source. It pings the server first, so a dead session is
// replaced before the listing.
func (s *SFTPSource) Scan(ctx context.Context) ([]Entry, error) {
	if err := s.Client.Ping(ctx); err != nil {
		return nil, err
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
		if s.After == "keep" && s.Seen != nil && s.Seen.Get(s.seenKey(en)) {
			continue
		}
		out = append(out, en)
	}
	return out, nil
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
		if err := s.Client.MkdirAll(ctx, s.claimDir()); err != nil {
			return nil, &Transient{Err: err}
		}
		remote = path.Join(s.claimDir(), id+"_"+e.Name)
		if err := s.Client.Rename(ctx, e.Name, remote); err != nil {
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
	if err := s.download(ctx, c); err != nil {
		return nil, err
	}
	if s.After == "keep" && s.Seen != nil {
		if err := s.Seen.Put(s.seenKey(e)); err != nil {
			return nil, err
		}
	}
	return c, nil
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
func (s *SFTPSource) Recover(ctx context.Context) ([]*Claimed, error) {
	local := map[string]string{}
	ents, _ := os.ReadDir(s.Spool)
	for _, d := range ents {
		if fsx.IsTemp(d.Name()) || !d.Type().IsRegular() {
			continue
		}
		if id, _, ok := strings.Cut(d.Name(), "_"); ok {
			local[id] = d.Name()
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
		if err = s.Client.MkdirAll(ctx, s.MoveTo); err != nil {
			return err
		}
		dst := path.Join(s.MoveTo, c.Name)
		err = s.Client.Rename(ctx, c.Remote, dst)
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
// content under a temporary name consumers ignore (the client itself uploads
// to its own temp name, checks the size and renames); Publish renames it to
// the final name without ever replacing a file. So, as for a folder, "the
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
// temporary name straight from where it is (no spool copy).
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
	if err := t.Client.Upload(ctx, tmp, f, st.Size()); err != nil {
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
