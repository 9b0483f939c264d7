//go:build !windows

package fsx

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// SyncDir fsyncs a folder so that a rename or create in it survives a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}

func renameNoReplace(src, dst string) error {
	err := unix.Renameat2(unix.AT_FDCWD, src, unix.AT_FDCWD, dst, unix.RENAME_NOREPLACE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EEXIST):
		return &os.LinkError{Op: "rename", Old: src, New: dst, Err: ErrExists}
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOTSUP):
		// File systems without RENAME_NOREPLACE (some network mounts): a hard
		// link is also exclusive; where links are refused too, check then rename.
		if lerr := os.Link(src, dst); lerr == nil {
			return os.Remove(src)
		} else if errors.Is(lerr, os.ErrExist) {
			return &os.LinkError{Op: "rename", Old: src, New: dst, Err: ErrExists}
		}
		if Exists(dst) {
			return &os.LinkError{Op: "rename", Old: src, New: dst, Err: ErrExists}
		}
		return os.Rename(src, dst)
	}
	return &os.LinkError{Op: "rename", Old: src, New: dst, Err: err}
}

func isCrossDevice(err error) bool { return errors.Is(err, syscall.EXDEV) }
