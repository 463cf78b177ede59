package runtime

import (
	"fmt"
	"io/fs"
	"syscall"
)

// fileStamp identifies one version of a file: device, inode, size, mtime and ctime. ctime
// cannot be set by a user, so a rewrite in place changes the stamp.
func fileStamp(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%d:%d:%d:%d:%d.%d", st.Dev, st.Ino, st.Size, fi.ModTime().UnixNano(), st.Ctimespec.Sec, st.Ctimespec.Nsec)
}
