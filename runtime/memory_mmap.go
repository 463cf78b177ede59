//go:build linux || darwin

package runtime

import (
	"os"
	"syscall"
)

var pageSize = uint64(os.Getpagesize())

// reserveRegion reserves size bytes (rounded up to whole pages) of address space with no
// access: nothing is committed, so the reservation costs no memory until openRegion.
func reserveRegion(size uint64) ([]byte, error) {
	size = (size + pageSize - 1) &^ (pageSize - 1)
	if size == 0 || size > 1<<32 {
		return nil, syscall.EINVAL
	}
	return syscall.Mmap(-1, 0, int(size), syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
}

// openRegion makes region's bytes [from, to) readable and writable, whole pages; the pages
// read as zeros until written.
func openRegion(region []byte, from, to uint64) error {
	from &^= pageSize - 1
	to = roundToPage(to, uint64(len(region)))
	return syscall.Mprotect(region[from:to], syscall.PROT_READ|syscall.PROT_WRITE)
}

// roundToPage rounds n up to a whole page, at most limit.
func roundToPage(n, limit uint64) uint64 {
	return min((n+pageSize-1)&^(pageSize-1), limit)
}

// releaseRegion unmaps a region reserveRegion returned.
func releaseRegion(region []byte) { _ = syscall.Munmap(region) }
