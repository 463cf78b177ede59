//go:build unix

package policy

import (
	"io/fs"
	"os"
	"path"
	"syscall"

	"golang.org/x/sys/unix"
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

// openInRoot opens the symlink-free path comps inside root one component at a time, each
// with O_NOFOLLOW, so that no symlink is followed anywhere on the way, whatever was swapped in
// since the path was resolved: a symlink met on the way fails with ELOOP or ENOTDIR. Every
// component but the last must be a directory; dir says the last must be one too.
func openInRoot(root *os.Root, comps []string, dir bool) (*os.File, error) {
	top, err := root.Open(".")
	if err != nil {
		return nil, err
	}
	if len(comps) == 0 {
		return top, nil
	}
	fd, err := unix.Dup(int(top.Fd()))
	top.Close()
	if err != nil {
		return nil, err
	}
	for i, c := range comps {
		flags := unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NONBLOCK
		if dir || i < len(comps)-1 {
			flags |= unix.O_DIRECTORY
		}
		next, err := openat(fd, c, flags)
		unix.Close(fd)
		if err != nil {
			return nil, &fs.PathError{Op: "openat", Path: path.Join(comps[:i+1]...), Err: err}
		}
		fd = next
	}
	return os.NewFile(uintptr(fd), path.Join(comps...)), nil
}

// openat retries on EINTR.
func openat(dirfd int, name string, flags int) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// lstatAt describes the entry name of the open directory dir without following a symlink and
// without a path walk: what it reports is the entry that dir holds now.
func lstatAt(dir *os.File, name string) (mode fs.FileMode, size int64, err error) {
	var st unix.Stat_t
	raw, err := dir.SyscallConn()
	if err != nil {
		return 0, 0, err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = unix.Fstatat(int(fd), name, &st, unix.AT_SYMLINK_NOFOLLOW)
	}); err != nil {
		return 0, 0, err
	}
	if serr != nil {
		return 0, 0, serr
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		mode = 0
	case unix.S_IFDIR:
		mode = fs.ModeDir
	case unix.S_IFLNK:
		mode = fs.ModeSymlink
	default:
		mode = fs.ModeIrregular
	}
	return mode, st.Size, nil
}
