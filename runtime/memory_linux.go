package runtime

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// hugePageBytes is a transparent huge page (2 MiB on x86-64 and on arm64 with 4 KiB pages):
// the granule a region is aligned to and opens its cold part in.
const hugePageBytes = 2 << 20

// adviseHuge asks that the pages of b be transparent huge pages where the system allows it
// (MADV_HUGEPAGE; transparent_hugepage "madvise" or "always"): a page fault then maps and
// zeroes 2 MiB at once. A refusal leaves ordinary pages, which work the same, only slower.
func adviseHuge(b []byte) { _ = unix.Madvise(b, unix.MADV_HUGEPAGE) }

// dropPages gives the whole pages of b, a region's part from a page boundary, back to the
// system, which reads them as zeros the next time they are touched (a private anonymous
// mapping); false if the system refuses (then the caller clears them).
func dropPages(b []byte) bool {
	return len(b) > 0 && syscall.Madvise(b, syscall.MADV_DONTNEED) == nil
}
