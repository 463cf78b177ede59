package runtime

import (
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// cappedMemory backs one instance's linear memory and refuses to grow it past limit. It
// remembers a refusal, so a trap that follows can be reported as a memory-cap hit rather than
// as a crash. wazero calls it as an experimental.MemoryAllocator.
//
// With regions set, the memory lives outside the Go heap, in a region: limit bytes of address
// space reserved with no access, whose pages growth opens, so the memory never moves and
// growing copies nothing. release hands the region back to regions for a later instance
// (cleared before that instance sees it) or unmaps it. A region is released only by the
// instance's owner once no guest code or host function can touch it any more
// (instance.close); Free, which wazero calls when the module closes, possibly from another
// goroutine while the guest still runs (a guarded runtime's close-on-done), does nothing.
// Without regions, or where no address space can be reserved, the memory is a Go slice that
// grows by copying.
type cappedMemory struct {
	limit uint64 // bytes
	// reserve is the capacity to allocate at once, when larger than wazero asks for: an
	// instance restored from a snapshot grows to the snapshot's size at once, and growing
	// within the capacity copies nothing. Held to limit. Unused with a region.
	reserve uint64
	// overwritten is how many bytes from 0 the instance's maker writes in full before any guest
	// code runs (a snapshot restore writes or zeroes the snapshot's whole size), which a
	// recycled region therefore need not clear. 0 when nothing is.
	overwritten uint64
	regions     *regionPool // nil: a Go slice
	buf         []byte
	region      *region // nil when the memory is a Go slice
	sized       bool    // the initial size has been set
	hit         atomic.Bool
	// also, when set, is marked with hit (MemoryCap: one flag for several memories).
	also *atomic.Bool
}

// Allocate implements experimental.MemoryAllocator. One cappedMemory backs one instance.
func (c *cappedMemory) Allocate(capacity, maxBytes uint64) experimental.LinearMemory {
	if c.regions != nil && c.region == nil {
		if r := c.regions.get(min(c.limit, maxBytes), c.overwritten); r != nil {
			c.region = r
			return c
		}
		// No address space to spare: a Go slice serves as well, only slower.
	}
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
		return c.refuse()
	}
	c.sized = true
	if r := c.region; r != nil {
		if !r.openTo(size) {
			return c.refuse()
		}
		c.buf = r.mem[:size:size]
		r.dirty = max(r.dirty, size)
		return c.buf
	}
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

// refuse records a refused growth and returns nil, which wazero reports to the guest as a
// failed memory.grow.
func (c *cappedMemory) refuse() []byte {
	c.hit.Store(true)
	if c.also != nil {
		c.also.Store(true)
	}
	return nil
}

// Free implements experimental.LinearMemory. It does nothing: a Go slice goes with the
// instance, and a region stays until release (see the type's doc). wazero may call it from
// another goroutine while the guest runs, so it touches no field.
func (c *cappedMemory) Free() {}

// release gives a region back. The caller guarantees that nothing reads or writes the memory
// any more: the module is closed and no call of the instance is running. Safe to call twice.
func (c *cappedMemory) release() {
	if c.region != nil {
		c.regions.put(c.region)
		c.region, c.buf = nil, nil
	}
}

// region is a reservation of address space for one linear memory at a time.
type region struct {
	mem     []byte // the reservation, from a granule boundary
	mapping []byte // what was mapped to hold mem, unmapped on release
	open    uint64 // bytes from 0 that are readable and writable
	dirty   uint64 // bytes from 0 the memory that used it may have written
}

// openTo makes the first size bytes readable and writable, in whole pages, and past
// regionWarmBytes in whole granules (the guest reaches no byte past its memory's size: wazero
// checks every access); false when size is past the reservation or the system refuses.
func (r *region) openTo(size uint64) bool {
	if size > uint64(len(r.mem)) {
		return false
	}
	if size > r.open {
		to := roundToPage(size, uint64(len(r.mem)))
		if to > regionWarmBytes {
			to = roundToGranule(size, uint64(len(r.mem)))
		}
		if openRegion(r.mem, r.open, to) != nil {
			return false
		}
		r.open = to
	}
	return true
}

// regionPool keeps a few released regions, so that an instance neither maps fresh pages (a
// page fault per page it touches) nor adds its memory to the Go heap (the garbage collector's
// work grows with every instance). One pool serves one engine; its regions are all the same
// size, the engine's memory cap.
type regionPool struct {
	mu     sync.Mutex
	keep   int // regions kept at most; more are unmapped
	free   []*region
	closed bool
}

// regionsKept is how many released regions an engine keeps for the next instances: enough for
// the instance pool's refill and a call or two beside it. Each holds the pages its last
// memory touched (about 6 MiB for the built-in module), which counts in the process's RSS.
const regionsKept = 2

// regionWarmBytes is how much of a kept region stays resident for the next memory (which the
// next get clears with stores rather than page faults): the built-in module's snapshot (about
// 5 MiB) and a usual call's growth. 8 MiB.
const regionWarmBytes = 8 << 20

// get returns a region of size bytes whose first clean bytes are zero beyond skip (the part
// the caller overwrites itself), or nil when no address space can be reserved.
func (p *regionPool) get(size, skip uint64) *region {
	p.mu.Lock()
	var r *region
	for i := len(p.free) - 1; i >= 0; i-- {
		if uint64(len(p.free[i].mem)) == size {
			r = p.free[i]
			p.free = append(p.free[:i], p.free[i+1:]...)
			break
		}
	}
	p.mu.Unlock()
	if r != nil {
		// Zero what the last memory may have written, so that this one reads zeros wherever
		// wasm promises them, including in pages it grows into later.
		if r.dirty > skip {
			clear(r.mem[skip:r.dirty])
		}
		r.dirty = 0
		return r
	}
	mem, mapping, err := reserveRegion(size)
	if err != nil {
		return nil
	}
	return &region{mem: mem, mapping: mapping}
}

// put keeps r for a later get, or unmaps it when the pool is full or closed. A kept region
// gives back to the system the pages its memory wrote past regionWarmBytes, to the end of
// their granule (a huge page is given back whole, not split): they read as zeros again, so
// get need not clear them, and a large call's memory does not stay in the RSS.
func (p *regionPool) put(r *region) {
	if r.dirty > regionWarmBytes {
		from, to := roundToPage(regionWarmBytes, uint64(len(r.mem))), roundToGranule(r.dirty, uint64(len(r.mem)))
		if dropPages(r.mem[from:to]) {
			r.dirty = from
		}
	}
	p.mu.Lock()
	if !p.closed && len(p.free) < p.keep {
		p.free = append(p.free, r)
		r = nil
	}
	p.mu.Unlock()
	if r != nil {
		releaseRegion(r.mapping)
	}
}

// close unmaps the kept regions; regions put after it are unmapped at once.
func (p *regionPool) close() {
	p.mu.Lock()
	free := p.free
	p.free, p.closed = nil, true
	p.mu.Unlock()
	for _, r := range free {
		releaseRegion(r.mapping)
	}
}

// MemoryCap is an experimental.MemoryAllocator for an instance made of several modules, each
// with its own linear memory (an Extism plugin and its kernel, package runtime/extism): every
// memory it allocates is capped at the limit, and Hit reports whether any refused to grow.
// Pass it in the instantiation context with experimental.WithMemoryAllocator; use one per
// instance. Its memories are Go slices: an Extism plugin's instance is closed by its SDK,
// which pal cannot order after the plugin's last use of the memory.
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
