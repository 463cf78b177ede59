//go:build !unix

package policy

import (
	"errors"
	"io/fs"
	"os"
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
