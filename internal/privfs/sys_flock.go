//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package privfs

import (
	"io/fs"
	"os"
	"syscall"
)

// openFlags are added to every OpenFile: do not follow a symlink in the last component, do not
// block on a FIFO swapped in for a file (the type is checked on the open file before any read
// or write). os adds O_CLOEXEC itself; it is named here so that the intent is visible.
const openFlags = syscall.O_NOFOLLOW | syscall.O_CLOEXEC | syscall.O_NONBLOCK

// errLoop is what open returns for a symlink in the last component under O_NOFOLLOW.
var errLoop error = syscall.ELOOP

// ownerChecks is true where owner, link count and group/world bits can be checked.
const ownerChecks = true

// statOwner returns the owner and the hard-link count of fi.
func statOwner(fi fs.FileInfo) (uid uint32, nlink uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return st.Uid, uint64(st.Nlink), true
}

func euid() uint32 { return uint32(os.Geteuid()) }

// lockFile takes an exclusive advisory lock on f, waiting for it.
func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			return err
		}
	}
}

// unlockFile releases the lock taken by lockFile.
func unlockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }

// errNotDirErr is what a path walk returns when a component is not a directory.
var errNotDirErr error = syscall.ENOTDIR
