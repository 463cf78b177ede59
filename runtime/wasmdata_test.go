package runtime

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/pal-mcp/pal/internal/testwasm"
)

// dataModule builds a module by hand: one memory of a page, exported, and the given data
// section content.
func dataModule(data []byte) []byte {
	w := []byte("\x00asm\x01\x00\x00\x00\x05\x03\x01\x00\x01\x07\x07\x01\x03mem\x02\x00\x0b")
	w = appendULEB(w, uint64(len(data)))
	return append(w, data...)
}

func appendULEB(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// segments builds a data section's content: n active segments, each of the bytes of data
// at offset+i*stride.
func segments(n int, offset, stride int32, data ...byte) []byte {
	b := appendULEB(nil, uint64(n))
	for i := 0; i < n; i++ {
		b = append(b, 0, 0x41)
		b = appendSLEB(b, int64(offset+int32(i)*stride))
		b = append(appendULEB(append(b, 0x0b), uint64(len(data))), data...)
	}
	return b
}

// memoryAfterInstantiation instantiates wasm with no start function and returns a copy of
// its memory.
func memoryAfterInstantiation(t *testing.T, rt wazero.Runtime, wasm []byte) []byte {
	t.Helper()
	ctx := context.Background()
	mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		t.Fatal(err)
	}
	defer mod.Close(ctx)
	b, _ := mod.Memory().Read(0, mod.Memory().Size())
	return bytes.Clone(b)
}

// interpreterWithImports returns an interpreter runtime, closed with the test, that has the
// imports of pal's modules (WASI and pal's host module), so that they instantiate.
func interpreterWithImports(t *testing.T) wazero.Runtime {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	t.Cleanup(func() { rt.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	if err := instantiateHostModule(ctx, rt); err != nil {
		t.Fatal(err)
	}
	return rt
}

// TestMergeDataKeepsMemory: the built-in and hostile modules, and hand-built ones with
// overlapping and negative-looking offsets, put the same bytes in memory merged as given, in
// far fewer segments.
func TestMergeDataKeepsMemory(t *testing.T) {
	rt := interpreterWithImports(t)
	overlap := segments(100, 16, 3, 1, 2, 3, 4, 5, 6, 7) // each overwrites the last's tail
	spaced := segments(100, 100, 200, 9, 0, 0, 9)        // zero runs longer than the split
	mods := map[string][]byte{
		"overlapping": dataModule(overlap),
		"spaced":      dataModule(spaced),
	}
	for _, pkg := range []string{"tools-wasm/testdata/hostile", "tools-wasm/builtin"} {
		mods[pkg] = testwasm.Load(t, pkg)
	}
	for name, wasm := range mods {
		out, err := mergeData(wasm)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(memoryAfterInstantiation(t, rt, wasm), memoryAfterInstantiation(t, rt, out)) {
			t.Fatalf("%s: memory differs once merged", name)
		}
	}
	out, _ := mergeData(dataModule(spaced))
	if n := bytes.Count(out, []byte{0, 0x41}); n > 100 || n == 0 {
		t.Fatalf("spaced: %d segments", n)
	}
	out, _ = mergeData(dataModule(overlap))
	if want := []byte{11, 0xb7, 0x02, 1, 0, 0x41, 16, 0x0b, 0xb0, 0x02, 1, 2, 3, 1}; !bytes.Contains(out, want) { // one segment at 16, of 304 bytes
		t.Fatalf("overlapping: not one segment: %x", out)
	}
}

// TestMergeDataRefuses: what mergeData leaves as it is.
func TestMergeDataRefuses(t *testing.T) {
	passive := appendULEB(nil, 70)
	for i := 0; i < 70; i++ {
		passive = append(passive, 1, 1, 7)
	}
	global := appendULEB(nil, 70)
	for i := 0; i < 70; i++ {
		global = append(global, 0, 0x23, 0, 0x0b, 1, 7)
	}
	for name, wasm := range map[string][]byte{
		"short":          []byte("\x00as"),
		"no data":        dataModule(nil)[:len(dataModule(nil))-2],
		"few segments":   dataModule(segments(3, 0, 8, 1)),
		"data count":     append(append([]byte("\x00asm\x01\x00\x00\x00\x0c\x01"), 70), dataModule(segments(70, 0, 8, 1))[8:]...),
		"passive":        dataModule(passive),
		"global offset":  dataModule(global),
		"other memory":   dataModule(append(appendULEB(nil, 70), bytes.Repeat([]byte{2, 1, 0x41, 0, 0x0b, 1, 7}, 70)...)),
		"huge span":      dataModule(append(segments(69, 0, 8, 1), segments(1, 0x7ffffff0, 0, 1)[1:]...)),
		"trailing bytes": dataModule(append(segments(70, 0, 8, 1), 0)),
		"bad offset":     dataModule(append(appendULEB(nil, 70), bytes.Repeat([]byte{0, 0x41, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x0b, 1, 7}, 70)...)),
	} {
		if _, err := mergeData(wasm); !errors.Is(err, errNoRewrite) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzMergeData: any bytes are merged or refused, never a panic; a module wazero accepts is
// merged into one with the same memory.
func FuzzMergeData(f *testing.F) {
	f.Add(segments(70, 0, 8, 1, 2))
	f.Add(segments(64, 60000, -9, 0, 5, 0))
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	f.Fuzz(func(t *testing.T, data []byte) {
		wasm := dataModule(data)
		out, err := mergeData(wasm)
		if err != nil {
			if !errors.Is(err, errNoRewrite) {
				t.Fatalf("error %v does not wrap errNoRewrite", err)
			}
			return
		}
		mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithName("").WithStartFunctions())
		if err != nil {
			return
		}
		want, _ := mod.Memory().Read(0, mod.Memory().Size())
		if !bytes.Equal(want, memoryAfterInstantiation(t, rt, out)) {
			t.Fatal("memory differs once merged")
		}
		mod.Close(ctx)
	})
}

// BenchmarkRewrite measures the rewrites compile makes of the built-in module before wazero
// sees it (mergeData, addInterrupt); they run on every compile, cache hit or not.
func BenchmarkRewrite(b *testing.B) {
	wasm := testwasm.Load(b, benchModule)
	b.Run("mergeData", func(b *testing.B) {
		b.SetBytes(int64(len(wasm)))
		for b.Loop() {
			if _, err := mergeData(wasm); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("addInterrupt", func(b *testing.B) {
		b.SetBytes(int64(len(wasm)))
		for b.Loop() {
			if _, err := addInterrupt(wasm); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// memoryAfterSplit instantiates the module splitData made of wasm with no start function,
// writes its segments (writeData) as ownSegments copied them, and returns a copy of its
// memory, or false when a segment does not fit.
func memoryAfterSplit(t *testing.T, rt wazero.Runtime, wasm []byte) ([]byte, bool) {
	t.Helper()
	given := bytes.Clone(wasm)
	stripped, segs, err := splitData(given)
	if err != nil {
		t.Fatal(err)
	}
	segs = ownSegments(segs)
	if _, err := parseData(stripped); !errors.Is(err, errNoRewrite) {
		t.Fatalf("the split module still has a data section: %v", err)
	}
	for i := range given { // segments that still pointed into the module's bytes would change
		given[i] = 0xff
	}
	ctx := context.Background()
	mod, err := rt.InstantiateWithConfig(ctx, stripped, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		t.Fatal(err)
	}
	defer mod.Close(ctx)
	if !writeData(mod.Memory(), segs) {
		return nil, false
	}
	b, _ := mod.Memory().Read(0, mod.Memory().Size())
	return bytes.Clone(b), true
}

// TestSplitDataKeepsMemory: the built-in and hostile modules (as compile gives them to
// splitData, merged) and hand-built ones, split and their segments written by pal, hold the
// memory wazero's instantiation of them gives; a segment past the memory is refused.
func TestSplitDataKeepsMemory(t *testing.T) {
	ctx := context.Background()
	rt := interpreterWithImports(t)
	mods := map[string][]byte{
		"overlapping": dataModule(segments(100, 16, 3, 1, 2, 3, 4, 5, 6, 7)),
		"few":         dataModule(segments(2, 65520, 1, 1, 2, 3, 4, 5, 6)),
		"empty":       dataModule(segments(3, 9, 0)),
	}
	for _, pkg := range []string{"tools-wasm/testdata/hostile", "tools-wasm/builtin"} {
		merged, err := mergeData(testwasm.Load(t, pkg))
		if err != nil {
			t.Fatal(err)
		}
		mods[pkg] = merged
	}
	for name, wasm := range mods {
		got, ok := memoryAfterSplit(t, rt, wasm)
		if !ok || !bytes.Equal(got, memoryAfterInstantiation(t, rt, wasm)) {
			t.Fatalf("%s: memory differs once split (segments written: %v)", name, ok)
		}
	}
	past := dataModule(segments(1, 65534, 0, 1, 2, 3)) // one page; the segment ends past it
	if _, err := rt.InstantiateWithConfig(ctx, past, wazero.NewModuleConfig().WithName("").WithStartFunctions()); err == nil {
		t.Fatal("wazero instantiated a segment past the memory")
	}
	if _, ok := memoryAfterSplit(t, rt, past); ok {
		t.Fatal("writeData wrote a segment past the memory")
	}
	if writeData(nil, []dataSegment{{offset: 0, data: []byte{1}}}) {
		t.Fatal("writeData wrote into no memory")
	}
}

// FuzzSplitData: any bytes are split or refused, never a panic; a module wazero instantiates
// is split into one whose memory, with the segments written, is the same, and a module
// wazero refuses only for its data is refused by writeData.
func FuzzSplitData(f *testing.F) {
	f.Add(segments(3, 0, 8, 1, 2))
	f.Add(segments(2, 65530, 1, 0, 5, 0, 7, 7, 7))
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	f.Fuzz(func(t *testing.T, data []byte) {
		wasm := dataModule(data)
		stripped, segs, err := splitData(wasm)
		if err != nil {
			if !errors.Is(err, errNoRewrite) {
				t.Fatalf("error %v does not wrap errNoRewrite", err)
			}
			return
		}
		if _, err := rt.CompileModule(ctx, wasm); err != nil {
			return // not a module wazero takes
		}
		mod, err := rt.InstantiateWithConfig(ctx, stripped, wazero.NewModuleConfig().WithName("").WithStartFunctions())
		if err != nil {
			t.Fatalf("the split module does not instantiate: %v", err)
		}
		defer mod.Close(ctx)
		wrote := writeData(mod.Memory(), segs)
		orig, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithName("").WithStartFunctions())
		if err != nil {
			if wrote {
				t.Fatalf("wazero refused the module (%v) but its segments were written", err)
			}
			return
		}
		defer orig.Close(ctx)
		if !wrote {
			t.Fatal("wazero instantiated the module but its segments were refused")
		}
		want, _ := orig.Memory().Read(0, orig.Memory().Size())
		got, _ := mod.Memory().Read(0, mod.Memory().Size())
		if !bytes.Equal(want, got) {
			t.Fatal("memory differs once split")
		}
	})
}

// TestSplitDataRefusesLargeData: a module whose segments hold more than MaxSnapshotBytes keeps
// its data section (the segments would be kept in the heap until a snapshot, which such a
// module never gets).
func TestSplitDataRefusesLargeData(t *testing.T) {
	big := make([]byte, MaxSnapshotBytes/2+1)
	big[0] = 1
	if _, _, err := splitData(dataModule(segments(2, 0, 0, big...))); !errors.Is(err, errNoRewrite) {
		t.Fatalf("%d bytes of data: %v, want errNoRewrite", 2*len(big), err)
	}
	if _, _, err := splitData(dataModule(segments(1, 0, 0, big...))); err != nil {
		t.Fatalf("%d bytes of data: %v", len(big), err)
	}
}
