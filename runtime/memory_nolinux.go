//go:build !linux

package runtime

// dropPages does nothing here and says so: darwin's madvise does not promise zeros, so the
// caller clears the pages itself.
func dropPages([]byte) bool { return false }
