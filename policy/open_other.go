//go:build !unix

package policy

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// openReadFlags: see open_unix.go.
const openReadFlags = os.O_RDONLY

// Placeholders: these platforms report the conditions through fs.ErrNotExist.
var (
	errNotDir  = errors.New("not a directory")
	errLoop    = errors.New("too many levels of symbolic links")
	errTooLong = errors.New("file name too long")
)

// keyFileModeMatters: Windows permissions are ACLs, not mode bits; the check is skipped.
const keyFileModeMatters = false

// linkCount: hard links are not counted here.
func linkCount(fs.FileInfo) uint64 { return 1 }

// openInRoot opens comps inside root. Without openat and O_NOFOLLOW here, the os.Root keeps
// the open inside the root and the caller's same-file check catches a swap.
func openInRoot(root *os.Root, comps []string, dir bool) (*os.File, error) {
	return root.Open(relName(comps))
}

// lstatAt describes the entry name of dir, through its path.
func lstatAt(dir *os.File, name string) (fs.FileMode, int64, error) {
	fi, err := os.Lstat(filepath.Join(dir.Name(), name))
	if err != nil {
		return 0, 0, err
	}
	return fi.Mode().Type(), fi.Size(), nil
}
