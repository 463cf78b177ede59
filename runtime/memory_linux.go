package runtime

import "syscall"

// dropPages gives the whole pages of b, a region's part from a page boundary, back to the
// system, which reads them as zeros the next time they are touched (a private anonymous
// mapping); false if the system refuses (then the caller clears them).
func dropPages(b []byte) bool {
	return len(b) > 0 && syscall.Madvise(b, syscall.MADV_DONTNEED) == nil
}
