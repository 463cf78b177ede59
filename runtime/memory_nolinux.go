//go:build !linux

package runtime

// dropPages does nothing here and says so: darwin's madvise does not promise zeros, so the
// caller clears the pages itself.
func dropPages([]byte) bool { return false }

// hugePageBytes is 0 here: regions open in whole pages (granule).
const hugePageBytes = 0

// adviseHuge does nothing here.
func adviseHuge([]byte) {}
