package runtime

import (
	"bytes"
	"context"
	"errors"
	goruntime "runtime"
	"slices"
	"testing"
)

// TestRecycledMemoryIsZero: an instance that filled its memory to the cap hands its region
// back; the next instance, which gets that region, reads the snapshot's bytes and zeros past
// them, also in every page it grows into afterwards. (The guest's own allocator trusts grown
// pages to be zero, so a stale byte there would corrupt it as well as leak the last call.)
func TestRecycledMemoryIsZero(t *testing.T) {
	ctx := context.Background()
	const limit = 64 << 20
	e := newEngine(t, Config{PoolSize: -1, MemoryLimitBytes: limit})
	m := loadHostile(t, e)
	mustPing(t, m) // the snapshot
	if _, _, err := invoke(t, m, "membomb", nil, 0); !errors.Is(err, ErrMemoryCap) {
		t.Fatalf("membomb: %v", err) // it wrote 1 into every page up to the cap
	}
	e.regions.mu.Lock()
	kept := slices.Clone(e.regions.free)
	e.regions.mu.Unlock()
	inst, err := m.newInstance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.close()
	if inst.mem.region == nil {
		t.Skip("no region on this system: memory is a Go slice, zeroed by make")
	}
	if !slices.Contains(kept, inst.mem.region) {
		t.Fatal("the new instance did not get a recycled region")
	}
	mem := inst.mod.Memory()
	s := m.snapshot()
	if _, ok := mem.Grow(limit/65536 - mem.Size()/65536); !ok {
		t.Fatalf("cannot grow %d bytes to the cap", mem.Size())
	}
	buf, ok := mem.Read(0, mem.Size())
	if !ok || len(buf) != limit {
		t.Fatalf("memory %d bytes, want %d", len(buf), limit)
	}
	if !bytes.Equal(buf[:len(s.mem)], s.mem) {
		t.Fatal("memory differs from the snapshot")
	}
	if i := bytes.IndexFunc(buf[len(s.mem):], func(r rune) bool { return r != 0 }); i >= 0 {
		t.Fatalf("byte %d of a recycled memory is not zero", len(s.mem)+i)
	}
}

// TestRegionPool: released regions are kept up to keep and handed out again cleared past what
// the new user overwrites; closing the pool unmaps the kept ones and every later release.
func TestRegionPool(t *testing.T) {
	const size = 1 << 20
	p := &regionPool{keep: 1}
	a := p.get(size, 0)
	if a == nil {
		t.Skip("no region on this system")
	}
	if !a.openTo(size) {
		t.Fatal("cannot open the region")
	}
	for i := range a.mem {
		a.mem[i] = 0xA5
	}
	a.dirty = size
	b := p.get(size, 0) // a is in use: a new region
	if b == nil || &b.mem[0] == &a.mem[0] {
		t.Fatal("a region in use handed out twice")
	}
	p.put(a)
	p.put(b) // past keep: unmapped
	if len(p.free) != 1 || p.free[0] != a {
		t.Fatalf("kept %d regions, want a only", len(p.free))
	}
	const skip = 4096
	c := p.get(size, skip)
	if c != a {
		t.Fatal("a kept region was not reused")
	}
	if c.mem[skip-1] != 0xA5 {
		t.Fatal("the part the caller overwrites was cleared for nothing")
	}
	if i := bytes.IndexFunc(c.mem[skip:], func(r rune) bool { return r != 0 }); i >= 0 {
		t.Fatalf("byte %d of a reused region is not zero", skip+i)
	}
	if c.dirty != 0 {
		t.Fatalf("dirty %d after clearing", c.dirty)
	}
	if p.get(size*2, 0) == nil {
		t.Fatal("no region of another size")
	}
	p.put(c)
	p.close()
	if len(p.free) != 0 || !p.closed {
		t.Fatal("close kept regions")
	}
	d := p.get(size, 0)
	p.put(d) // after close: unmapped at once
	if len(p.free) != 0 {
		t.Fatal("a region kept after close")
	}
}

// TestMemoryCapWithoutRegions: with no region pool (MemoryCap, Extism) the memory is a Go
// slice that grows by copying, keeps its bytes and stops at the cap.
func TestMemoryCapWithoutRegions(t *testing.T) {
	c := &cappedMemory{limit: 4 * 65536}
	c.Allocate(65536, 1<<32)
	b := c.Reallocate(65536)
	b[100] = 7
	b = c.Reallocate(3 * 65536)
	if len(b) != 3*65536 || b[100] != 7 {
		t.Fatalf("grown memory %d bytes, byte 100 = %d", len(b), b[100])
	}
	if c.Reallocate(5*65536) != nil || !c.hit.Load() {
		t.Fatal("growth past the cap not refused")
	}
}

// TestRegionPoolDropsColdPages: a kept region gives back what its memory wrote past
// regionWarmBytes (on Linux), and reads zeros there when it is handed out again.
func TestRegionPoolDropsColdPages(t *testing.T) {
	const size = 2 * regionWarmBytes
	p := &regionPool{keep: 1}
	defer p.close()
	r := p.get(size, 0)
	if r == nil {
		t.Skip("no region on this system")
	}
	if !r.openTo(size) {
		t.Fatal("cannot open the region")
	}
	for i := 0; i < size; i += 512 {
		r.mem[i] = 0x5A
	}
	r.dirty = size
	p.put(r)
	if goruntime.GOOS == "linux" && r.dirty != regionWarmBytes {
		t.Fatalf("dirty %d after put, want the warm %d", r.dirty, regionWarmBytes)
	}
	r = p.get(size, 0)
	if i := bytes.IndexFunc(r.mem, func(c rune) bool { return c != 0 }); i >= 0 {
		t.Fatalf("byte %d of a reused region is not zero", i)
	}
}
