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

// TestMergeDataKeepsMemory: the built-in and hostile modules, and hand-built ones with
// overlapping and negative-looking offsets, put the same bytes in memory merged as given, in
// far fewer segments.
func TestMergeDataKeepsMemory(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	if err := instantiateHostModule(ctx, rt); err != nil {
		t.Fatal(err)
	}
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
