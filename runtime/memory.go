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
	// reserve is the capacity to allocate at once, when larger than wazero asks for: an
	// instance restored from a snapshot grows to the snapshot's size at once, and growing
	// within the capacity copies nothing. Held to limit.
	reserve uint64
	buf     []byte
	sized   bool // the initial size has been set
	hit     atomic.Bool
	// also, when set, is marked with hit (MemoryCap: one flag for several memories).
	also *atomic.Bool
}

// Allocate implements experimental.MemoryAllocator. One cappedMemory backs one instance.
func (c *cappedMemory) Allocate(capacity, _ uint64) experimental.LinearMemory {
	capacity = max(capacity, c.reserve)
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
		if c.also != nil {
			c.also.Store(true)
		}
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

// MemoryCap is an experimental.MemoryAllocator for an instance made of several modules, each
// with its own linear memory (an Extism plugin and its kernel, package runtime/extism): every
// memory it allocates is capped at the limit, and Hit reports whether any refused to grow.
// Pass it in the instantiation context with experimental.WithMemoryAllocator; use one per
// instance.
type MemoryCap struct {
	limit uint64
	hit   atomic.Bool
}

// NewMemoryCap caps each memory at limitBytes.
func NewMemoryCap(limitBytes uint64) *MemoryCap { return &MemoryCap{limit: limitBytes} }

// Allocate implements experimental.MemoryAllocator.
func (m *MemoryCap) Allocate(capacity, maxBytes uint64) experimental.LinearMemory {
	c := &cappedMemory{limit: m.limit, also: &m.hit}
	return c.Allocate(capacity, maxBytes)
}

// Hit reports whether a memory refused to grow past the cap.
func (m *MemoryCap) Hit() bool { return m.hit.Load() }
