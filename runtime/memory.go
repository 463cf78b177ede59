package runtime

import (
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// cappedMemory backs one instance's linear memory and refuses to grow it past limit. It
// remembers a refusal, so a trap that follows can be reported as a memory-cap hit rather than
// as a crash. wazero calls it as an experimental.MemoryAllocator.
type cappedMemory struct {
	limit uint64 // bytes
	buf   []byte
	sized bool // the initial size has been set
	hit   atomic.Bool
}

// Allocate implements experimental.MemoryAllocator. One cappedMemory backs one instance.
func (c *cappedMemory) Allocate(capacity, _ uint64) experimental.LinearMemory {
	if capacity > c.limit {
		capacity = c.limit
	}
	c.buf = make([]byte, 0, capacity)
	return c
}

// Reallocate implements experimental.LinearMemory. The first call sizes the initial memory,
// which checkMemory has already held to the cap.
func (c *cappedMemory) Reallocate(size uint64) []byte {
	if size > c.limit && c.sized {
		c.hit.Store(true)
		return nil
	}
	c.sized = true
	if size <= uint64(cap(c.buf)) {
		c.buf = c.buf[:size]
		return c.buf
	}
	// Grow geometrically, but never reserve past the cap.
	newCap := max(size, uint64(cap(c.buf))*2)
	if newCap > c.limit && size <= c.limit {
		newCap = c.limit
	}
	nb := make([]byte, size, newCap)
	copy(nb, c.buf)
	c.buf = nb
	return c.buf
}

// Free implements experimental.LinearMemory.
func (c *cappedMemory) Free() { c.buf = nil }
