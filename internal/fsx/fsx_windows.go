//go:build windows

package fsx

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/windows"
)

// SyncDir is a no-op on Windows: NTFS journals the rename itself and folders
// cannot be opened for FlushFileBuffers by ordinary users.
func SyncDir(dir string) error { return nil }

// renameNoReplace uses MoveFileEx without MOVEFILE_REPLACE_EXISTING, which
// fails when dst exists and is atomic on one volume (also on SMB shares).
func renameNoReplace(src, dst string) error {
	from, err := syscall.UTF16PtrFromString(longPath(src))
	if err != nil {
		return err
	}
	to, err := syscall.UTF16PtrFromString(longPath(dst))
	if err != nil {
		return err
	}
	err = windows.MoveFileEx(from, to, windows.MOVEFILE_WRITE_THROUGH)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, windows.ERROR_ALREADY_EXISTS), errors.Is(err, windows.ERROR_FILE_EXISTS):
		return &os.LinkError{Op: "rename", Old: src, New: dst, Err: ErrExists}
	case errors.Is(err, windows.ERROR_NOT_SAME_DEVICE):
		return &os.LinkError{Op: "rename", Old: src, New: dst, Err: errCrossDevice}
	}
	return &os.LinkError{Op: "rename", Old: src, New: dst, Err: err}
}

var errCrossDevice = errors.New("not the same device")

func isCrossDevice(err error) bool { return errors.Is(err, errCrossDevice) }

// longPath lets paths longer than MAX_PATH work, including UNC paths.
func longPath(p string) string {
	if len(p) < 248 || len(p) >= 4 && p[:4] == `\\?\` {
		return p
	}
	if len(p) >= 2 && p[:2] == `\\` {
		return `\\?\UNC\` + p[2:]
	}
	return `\\?\` + p
}
