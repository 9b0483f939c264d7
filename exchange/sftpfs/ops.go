package sftpfs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/pkg/sftp"
)

// Entry is one remote file or folder.
type Entry struct {
	Name    string // base name for List; the name asked for with Stat
	Size    int64
	ModTime time.Time // UTC, as reported by the server (second precision)
	IsDir   bool
}

// ErrChanged is returned by Download when the file changed (size or
// modification time) while it was read: it is still being written.
var ErrChanged = errors.New("file changed while it was downloaded")

// ErrSizeMismatch is returned by Upload when the uploaded size differs from
// what was expected; the temporary file is removed and the target untouched.
var ErrSizeMismatch = errors.New("uploaded size does not match")

// TempSuffix ends the temporary names of uploads in progress.
const TempSuffix = ".globex-tmp"

// TempName returns the temporary name Upload writes before renaming to
// name: ".name.globex-tmp" in the same folder. Consumers must ignore it.
func TempName(name string) string {
	dir, base := path.Split(name)
	return dir + "." + base + TempSuffix
}

// oldSuffix ends the name an existing file is moved aside to while the
// "rename" strategy replaces it.
const oldSuffix = ".globex-old"

// IsTemp reports whether name (a base name) is a file globex's Upload
// creates transiently: an upload in progress or a file being replaced.
// Listings should skip such names.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && (strings.HasSuffix(name, TempSuffix) || strings.HasSuffix(name, oldSuffix))
}

// remote maps a name relative to Config.Dir to the remote path, refusing
// names that would leave Dir.
func (c *Client) remote(name string, allowBase bool) (string, error) {
	if strings.HasPrefix(name, "/") {
		return "", permanent(fmt.Errorf("name %q must be relative to the exchange folder", name))
	}
	clean := path.Clean("/" + name)[1:] // "" for the base folder
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", permanent(fmt.Errorf("name %q must not contain \"..\"", name))
		}
	}
	if clean == "" && !allowBase {
		return "", permanent(fmt.Errorf("empty file name"))
	}
	switch {
	case clean == "" && c.cfg.Dir == "":
		return ".", nil
	case clean == "":
		return c.cfg.Dir, nil
	case c.cfg.Dir == "":
		return clean, nil
	}
	return path.Join(c.cfg.Dir, clean), nil
}

func always() bool { return true }

func entryOf(name string, fi os.FileInfo) Entry {
	return Entry{Name: name, Size: fi.Size(), ModTime: fi.ModTime().UTC(), IsDir: fi.IsDir()}
}

// Ping checks that the connection works and Config.Dir exists, with one
// cheap SFTP request (connecting first if needed). Call it before a poll
// when the connection has been idle (see ConnInfo.LastReply).
func (c *Client) Ping(ctx context.Context) error {
	p, _ := c.remote("", true)
	return c.do(ctx, "ping", p, always, func(s *sftp.Client, _ *conn, _ func()) error {
		fi, err := s.Stat(p)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return permanent(fmt.Errorf("%s is not a folder", p))
		}
		return nil
	})
}

// List returns the entries of dir (relative to Config.Dir; "" for Dir
// itself), sorted by the server's order, without "." and "..".
func (c *Client) List(ctx context.Context, dir string) ([]Entry, error) {
	p, err := c.remote(dir, true)
	if err != nil {
		return nil, c.errorf("list", dir, err)
	}
	var out []Entry
	err = c.do(ctx, "list", p, always, func(s *sftp.Client, _ *conn, touch func()) error {
		fis, err := s.ReadDirContext(ctx, p)
		if err != nil {
			return err
		}
		out = out[:0]
		for _, fi := range fis {
			if n := fi.Name(); n != "." && n != ".." {
				out = append(out, entryOf(n, fi))
			}
		}
		return nil
	})
	return out, err
}

// Stat returns the entry for name (following symbolic links).
func (c *Client) Stat(ctx context.Context, name string) (Entry, error) {
	p, err := c.remote(name, true)
	if err != nil {
		return Entry{}, c.errorf("stat", name, err)
	}
	var e Entry
	err = c.do(ctx, "stat", p, always, func(s *sftp.Client, _ *conn, _ func()) error {
		fi, err := s.Stat(p)
		if err != nil {
			return err
		}
		e = entryOf(name, fi)
		return nil
	})
	return e, err
}

// Download streams name into w and returns the byte count and the SHA-256
// of the content (hex). Memory use does not depend on the file size. The
// call fails with ErrChanged if the file grew or changed during the copy.
// A transport failure before the first byte reached w is retried.
func (c *Client) Download(ctx context.Context, name string, w io.Writer) (int64, string, error) {
	p, err := c.remote(name, false)
	if err != nil {
		return 0, "", c.errorf("download", name, err)
	}
	var n int64
	var sum string
	err = c.do(ctx, "download", p, func() bool { return n == 0 }, func(s *sftp.Client, _ *conn, touch func()) error {
		f, err := s.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		before, err := f.Stat()
		if err != nil {
			return err
		}
		if before.IsDir() {
			return permanent(fmt.Errorf("%s is a folder", p))
		}
		h := sha256.New()
		if _, err := f.WriteTo(&progressWriter{w: w, h: h, touch: touch, n: &n}); err != nil {
			return err
		}
		after, err := s.Stat(p)
		if err != nil {
			return err
		}
		if before.Size() != n || after.Size() != n || !after.ModTime().Equal(before.ModTime()) {
			return permanent(fmt.Errorf("%w: size %d at open, %d read, %d after; modified %s then %s",
				ErrChanged, before.Size(), n, after.Size(), before.ModTime().UTC().Format(time.RFC3339), after.ModTime().UTC().Format(time.RFC3339)))
		}
		sum = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	return n, sum, err
}

// Upload writes r to name so that a consumer never sees a partial file: the
// data goes to TempName(name), its size is checked with a Stat (against
// size when size >= 0, and against the bytes read), and only then is it
// renamed to name per Config.RenameStrategy, replacing an existing file.
// On failure the temporary file is removed (or, if the connection is lost,
// on the next successful call) and name is left as it was.
func (c *Client) Upload(ctx context.Context, name string, r io.Reader, size int64) error {
	return c.upload(ctx, name, r, size, false)
}

// UploadTemp writes r straight to name, with no temporary file and no
// rename, for a name that is itself temporary (one that consumers ignore,
// renamed later by the caller): an existing file of that name is
// truncated. The size is checked as by Upload; on failure name is removed
// (or, if the connection is lost, on the next successful call).
func (c *Client) UploadTemp(ctx context.Context, name string, r io.Reader, size int64) error {
	return c.upload(ctx, name, r, size, true)
}

func (c *Client) upload(ctx context.Context, name string, r io.Reader, size int64, asTemp bool) error {
	p, err := c.remote(name, false)
	if err != nil {
		return c.errorf("upload", name, err)
	}
	tmp := TempName(p)
	if asTemp {
		tmp = p
	}
	return c.do(ctx, "upload", p, nil, func(s *sftp.Client, k *conn, touch func()) (err error) {
		strategy := c.cfg.RenameStrategy
		if asTemp {
			strategy = StrategyDirect
		}
		if strategy == StrategyAuto {
			strategy = StrategyRename
			if k.posix {
				strategy = StrategyPosixRename
			}
		}
		if strategy == StrategyPosixRename && !k.posix {
			return permanent(errors.New("the server does not offer posix-rename@openssh.com; set rename_strategy: rename"))
		}
		target := tmp
		if strategy == StrategyDirect {
			target = p
		}
		defer func() {
			if err != nil && target == tmp {
				if rerr := s.Remove(tmp); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
					c.mu.Lock()
					c.stale[tmp] = true
					c.mu.Unlock()
				}
			}
		}()
		f, err := s.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
		if err != nil {
			return err
		}
		pr := &progressReader{r: r, touch: touch}
		_, werr := f.ReadFromWithConcurrency(pr, 64)
		cerr := f.Close()
		if werr != nil {
			return werr
		}
		if cerr != nil {
			return cerr
		}
		fi, err := s.Stat(target)
		if err != nil {
			return err
		}
		if fi.Size() != pr.n || (size >= 0 && fi.Size() != size) {
			return permanent(fmt.Errorf("%w: expected %d bytes, read %d, the server has %d", ErrSizeMismatch, size, pr.n, fi.Size()))
		}
		switch strategy {
		case StrategyPosixRename:
			return s.PosixRename(tmp, p)
		case StrategyRename:
			return c.replace(s, tmp, p)
		}
		return nil
	})
}

// replace renames the complete tmp to p with plain SSH_FXP_RENAME. An
// existing p is first moved aside, and removed once tmp is in place (or put
// back if that fails).
func (c *Client) replace(s *sftp.Client, tmp, p string) error {
	if _, err := s.Lstat(p); errors.Is(err, os.ErrNotExist) {
		return s.Rename(tmp, p)
	} else if err != nil {
		return err
	}
	dir, base := path.Split(p)
	old := dir + "." + base + fmt.Sprintf(".%d%s", time.Now().UnixNano(), oldSuffix)
	if err := s.Rename(p, old); err != nil {
		return fmt.Errorf("moving the old %s aside: %w", p, err)
	}
	if err := s.Rename(tmp, p); err != nil {
		if rerr := s.Rename(old, p); rerr != nil {
			return fmt.Errorf("renaming the upload into place: %w (and restoring the old file from %s failed: %v)", err, old, rerr)
		}
		return err
	}
	if err := s.Remove(old); err != nil {
		c.log.Warn().Err(err).Str("file", old).Msg("could not remove the replaced file")
	}
	return nil
}

// Replace renames the complete file from to to, replacing an existing to:
// atomically with posix-rename@openssh.com when the server offers it (and the
// strategy allows), otherwise by moving the old file aside first and removing
// it once from is in place. Not retried.
func (c *Client) Replace(ctx context.Context, from, to string) error {
	pf, err := c.remote(from, false)
	if err != nil {
		return c.errorf("replace", from, err)
	}
	pt, err := c.remote(to, false)
	if err != nil {
		return c.errorf("replace", to, err)
	}
	return c.do(ctx, "replace", pf+" -> "+pt, nil, func(s *sftp.Client, k *conn, _ func()) error {
		if k.posix && c.cfg.RenameStrategy != StrategyRename {
			return s.PosixRename(pf, pt)
		}
		return c.replace(s, pf, pt)
	})
}

// Rename moves from to to (both relative to Config.Dir), for claiming a file
// into a processing folder. It never replaces: if to exists the call fails
// with an error matching fs.ErrExist. (Servers whose plain rename replaces
// leave a small window between the check and the rename.) Not retried.
func (c *Client) Rename(ctx context.Context, from, to string) error {
	pf, err := c.remote(from, false)
	if err != nil {
		return c.errorf("rename", from, err)
	}
	pt, err := c.remote(to, false)
	if err != nil {
		return c.errorf("rename", to, err)
	}
	return c.do(ctx, "rename", pf+" -> "+pt, nil, func(s *sftp.Client, _ *conn, _ func()) error {
		if _, err := s.Lstat(pt); err == nil {
			return permanent(fmt.Errorf("%s already exists: %w", pt, fs.ErrExist))
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		err := s.Rename(pf, pt)
		var se *sftp.StatusError
		if errors.As(err, &se) && se.Code == 4 { // SSH_FX_FAILURE: does the target exist now?
			if _, serr := s.Lstat(pt); serr == nil {
				return permanent(fmt.Errorf("%s already exists: %w", pt, fs.ErrExist))
			}
		}
		return err
	})
}

// Remove deletes the file name. A retry after a lost connection treats an
// already missing file as removed.
func (c *Client) Remove(ctx context.Context, name string) error {
	p, err := c.remote(name, false)
	if err != nil {
		return c.errorf("remove", name, err)
	}
	attempts := 0
	return c.do(ctx, "remove", p, always, func(s *sftp.Client, _ *conn, _ func()) error {
		attempts++
		err := s.Remove(p)
		if attempts > 1 && errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	})
}

// MkdirAll creates dir (relative to Config.Dir) and its parents.
func (c *Client) MkdirAll(ctx context.Context, dir string) error {
	p, err := c.remote(dir, true)
	if err != nil {
		return c.errorf("mkdir", dir, err)
	}
	return c.do(ctx, "mkdir", p, always, func(s *sftp.Client, _ *conn, _ func()) error {
		return s.MkdirAll(p)
	})
}
