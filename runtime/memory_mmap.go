//go:build linux || darwin

package runtime

import (
	"os"
	"syscall"
	"unsafe"
)

var pageSize = uint64(os.Getpagesize())

// granule is the step in which a region's cold part (past regionWarmBytes) opens its pages,
// and the boundary a region starts on: a transparent huge page on Linux (hugePageBytes), else
// a page. A memory that grows into the cold part, whose pages put gives back after every
// call, is then faulted in one huge page at a time rather than one page at a time
// (docs/RATIONALE.md §80).
var granule = max(pageSize, hugePageBytes)

// reserveRegion reserves size bytes (rounded up to whole pages) of address space with no
// access, starting at a granule boundary, its cold part advised for huge pages: nothing is
// committed, so the reservation costs no memory until openRegion. mem is the region;
// mapping, which holds it, is what releaseRegion unmaps.
func reserveRegion(size uint64) (mem, mapping []byte, err error) {
	size = (size + pageSize - 1) &^ (pageSize - 1)
	if size == 0 || size > 1<<32 {
		return nil, nil, syscall.EINVAL
	}
	mapping, err = syscall.Mmap(-1, 0, int(size+granule-pageSize), syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil, nil, err
	}
	skip := uint64(-uintptr(unsafe.Pointer(&mapping[0]))) & (granule - 1) // to the next boundary
	mem = mapping[skip : skip+size : skip+size]
	if size > regionWarmBytes {
		adviseHuge(mem[regionWarmBytes:])
	}
	return mem, mapping, nil
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

// roundToGranule rounds n up to a whole granule, at most limit.
func roundToGranule(n, limit uint64) uint64 {
	return min((n+granule-1)&^(granule-1), limit)
}

// releaseRegion unmaps the mapping reserveRegion returned.
func releaseRegion(mapping []byte) { _ = syscall.Munmap(mapping) }
