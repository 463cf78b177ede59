//go:build unix

package policy

import (
	"io/fs"
	"os"
	"syscall"
)

// openReadFlags opens without blocking, so that a FIFO swapped in after the check cannot hang
// the call; the type is checked on the open file before anything is read.
const openReadFlags = os.O_RDONLY | syscall.O_NONBLOCK

// The os errors that mean "a component is not a directory" and "too many symlinks".
var (
	errNotDir  error = syscall.ENOTDIR
	errLoop    error = syscall.ELOOP
	errTooLong error = syscall.ENAMETOOLONG
)

// keyFileModeMatters: on Unix a key file readable by group or others is refused.
const keyFileModeMatters = true

// linkCount returns the number of hard links of the file fi describes; 1 when unknown.
func linkCount(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}
