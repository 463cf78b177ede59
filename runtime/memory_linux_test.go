package runtime

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// TestRegionHugePages: on Linux a region starts at a huge-page boundary; its warm part opens
// in pages as before, and its cold part (past regionWarmBytes, whose pages put gives back after
// every call) is advised for transparent huge pages and opens in whole huge pages, so that a
// memory growing into it is faulted in 2 MiB at a time (§80); put gives back whole huge pages.
func TestRegionHugePages(t *testing.T) {
	p := &regionPool{keep: 1}
	defer p.close()
	const size = 4 * regionWarmBytes
	r := p.get(size, 0)
	if r == nil {
		t.Skip("no region on this system")
	}
	base := uintptr(unsafe.Pointer(&r.mem[0]))
	if base%hugePageBytes != 0 {
		t.Fatalf("region at %#x, not on a %d-byte boundary", base, hugePageBytes)
	}
	if len(r.mem) != size {
		t.Fatalf("region of %d bytes, want %d", len(r.mem), size)
	}
	if !r.openTo(65536) || r.open != 65536 {
		t.Fatalf("opening 64 KiB opened %d bytes", r.open)
	}
	if flags := vmFlags(t, base); strings.Contains(" "+flags+" ", " hg ") {
		t.Fatalf("the warm part is advised for huge pages: VmFlags %q", flags)
	}
	if flags := vmFlags(t, base+regionWarmBytes); !strings.Contains(" "+flags+" ", " hg ") {
		t.Fatalf("the cold part is not advised for huge pages: VmFlags %q", flags)
	}
	// A memory that wrote past the warm part, ending inside a huge page: put gives back
	// through the end of that huge page, and the region reads zeros there afterwards.
	end := uint64(regionWarmBytes + hugePageBytes + 65536)
	if !r.openTo(end) || r.open != regionWarmBytes+2*hugePageBytes {
		t.Fatalf("open %d after opening %d bytes", r.open, end)
	}
	for i := uint64(0); i < r.open; i += 4096 {
		r.mem[i] = 0x5A
	}
	r.dirty = end
	p.put(r)
	if r.dirty != regionWarmBytes {
		t.Fatalf("dirty %d after put, want the warm %d", r.dirty, regionWarmBytes)
	}
	for i := uint64(regionWarmBytes); i < r.open; i += 4096 {
		if r.mem[i] != 0 {
			t.Fatalf("byte %d past the warm part was not given back", i)
		}
	}
}

// vmFlags returns the VmFlags of the mapping that holds addr, from /proc/self/smaps.
func vmFlags(t *testing.T, addr uintptr) string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no smaps: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		var lo, hi uintptr
		if n, _ := fmt.Sscanf(line, "%x-%x", &lo, &hi); n == 2 && strings.Contains(line, " ") {
			in = lo <= addr && addr < hi
			continue
		}
		if flags, ok := strings.CutPrefix(line, "VmFlags:"); ok && in {
			return strings.TrimSpace(flags)
		}
	}
	t.Fatalf("no mapping holds %#x in /proc/self/smaps", addr)
	return ""
}
