//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package privfs

import (
	"errors"
	"io/fs"
	"os"
)

// openFlags: no O_NOFOLLOW here; OpenFile checks the path with Lstat before opening.
const openFlags = 0

var errLoop = errors.New("too many levels of symbolic links")

// ownerChecks is false: this system has no Unix owner and mode bits, so only the symlink and
// file-type checks apply.
const ownerChecks = false

func statOwner(fs.FileInfo) (uid uint32, nlink uint64, ok bool) { return 0, 1, false }

func euid() uint32 { return 0 }

// lockFile is a no-op where flock is not available.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) error { return nil }

var errNotDirErr = errors.New("not a directory")
