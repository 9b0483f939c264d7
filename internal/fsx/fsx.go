// Package fsx holds the durable file operations every globex output relies
// on: write to a temporary name, fsync, rename, fsync the folder; move with a
// copy fallback across volumes; and names that are safe on Windows.
package fsx

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// TempPrefix starts every temporary name globex writes. Together with the
// TempSuffix it keeps a half-written file invisible to the ERP's *.xml filter
// and to webshop importers that skip dot files.
const (
	TempPrefix = ".globex-"
	TempSuffix = ".tmp"
)

// TempName returns a unique temporary name for final in the same folder.
func TempName(final string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return filepath.Join(filepath.Dir(final), TempPrefix+hex.EncodeToString(b[:])+"-"+filepath.Base(final)+TempSuffix)
}

// IsTemp reports whether name is one of our own temporary names.
func IsTemp(name string) bool {
	base := filepath.Base(name)
	return strings.HasPrefix(base, TempPrefix) && strings.HasSuffix(base, TempSuffix)
}

// WriteTemp creates a temporary file beside final, lets write fill it, then
// fsyncs and closes it. It returns the temporary path; the caller publishes it
// with Publish. On any error the temporary file is removed.
func WriteTemp(final string, perm os.FileMode, write func(io.Writer) error) (_ string, err error) {
	return WriteTempAs(TempName(final), perm, write)
}

// TempNameFor returns the temporary name for final that belongs to key: the
// same key always gives the same name, so a retry after a crash replaces its
// own leftover instead of leaving litter.
func TempNameFor(final, key string) string {
	return filepath.Join(filepath.Dir(final), TempPrefix+key+"-"+filepath.Base(final)+TempSuffix)
}

// WriteTempAs is WriteTemp with a chosen temporary path; a leftover at that
// path (from an interrupted attempt) is replaced.
func WriteTempAs(tmp string, perm os.FileMode, write func(io.Writer) error) (_ string, err error) {
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		return "", err
	}
	if err = f.Sync(); err != nil {
		return "", err
	}
	if err = f.Close(); err != nil {
		return "", err
	}
	return tmp, nil
}

// ErrExists is returned by Publish when replace is false and final exists.
var ErrExists = errors.New("a file with that name already exists")

// Publish renames tmp to final and fsyncs the folder. With replace false an
// existing final is never overwritten (ErrExists).
func Publish(tmp, final string, replace bool) error {
	if !replace {
		if err := renameNoReplace(tmp, final); err != nil {
			return err
		}
	} else if err := os.Rename(tmp, final); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(final))
}

// WriteFile writes data or the output of write to path atomically: readers
// see the old file or the complete new one, never a part.
func WriteFile(path string, perm os.FileMode, replace bool, write func(io.Writer) error) error {
	tmp, err := WriteTemp(path, perm, write)
	if err != nil {
		return err
	}
	if err := Publish(tmp, path, replace); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// Move moves src to dst without overwriting dst: a rename when both are on one
// volume, otherwise a durable copy followed by removing src. dst's folder is
// created and fsynced.
func Move(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	err := renameNoReplace(src, dst)
	if err == nil {
		if err := SyncDir(filepath.Dir(dst)); err != nil {
			return err
		}
		return SyncDir(filepath.Dir(src))
	}
	if errors.Is(err, ErrExists) && sameContent(src, dst) {
		// An interrupted cross-volume move: the copy is complete, only the
		// removal of the source is missing.
		if err := os.Remove(src); err != nil {
			return err
		}
		return SyncDir(filepath.Dir(src))
	}
	if errors.Is(err, ErrExists) || errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if !isCrossDevice(err) {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := WriteFile(dst, 0o644, false, func(w io.Writer) error { _, err := io.Copy(w, in); return err }); err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	in.Close()
	if err := os.Remove(src); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(src))
}

// sameContent reports whether two files hold the same bytes.
func sameContent(a, b string) bool {
	fa, err := os.Open(a)
	if err != nil {
		return false
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return false
	}
	defer fb.Close()
	sa, err1 := fa.Stat()
	sb, err2 := fb.Stat()
	if err1 != nil || err2 != nil || sa.Size() != sb.Size() {
		return false
	}
	ba, bb := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		na, ea := io.ReadFull(fa, ba)
		nb, eb := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false
		}
		if ea != nil || eb != nil {
			return (errors.Is(ea, io.EOF) || errors.Is(ea, io.ErrUnexpectedEOF)) && (errors.Is(eb, io.EOF) || errors.Is(eb, io.ErrUnexpectedEOF))
		}
	}
}

// CopyFile copies src to dst atomically (dst never half-written, never
// overwritten).
func CopyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return WriteFile(dst, 0o644, false, func(w io.Writer) error { _, err := io.Copy(w, in); return err })
}

// Exists reports whether path exists (an error other than not-exist counts as
// existing, so callers never overwrite what they could not inspect).
func Exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}
