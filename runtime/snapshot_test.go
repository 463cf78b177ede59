package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/pal-mcp/pal/internal/testwasm"
)

// TestStateDoesNotCrossCalls: a call leaves a value in the guest's memory ("stash"); every
// later call, from the pool or made fresh, with snapshots and without, finds none. A snapshot
// is taken before any call, so it cannot carry one call's state into the next.
func TestStateDoesNotCrossCalls(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"snapshot-pooled", Config{PoolSize: 2}},
		{"snapshot-fresh", Config{PoolSize: -1}},
		{"initialize", Config{PoolSize: 1, NoSnapshots: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, tc.cfg)
			m := loadHostile(t, e)
			for i, put := range []string{"secret-one", "secret-two", "secret-three"} {
				r, _, err := m.Invoke(context.Background(), Call{Tool: "stash", Arguments: json.RawMessage(`{"put":"` + put + `"}`), Host: &fakeHost{}})
				if err != nil {
					t.Fatal(err)
				}
				if got := text(r); got != "" {
					t.Fatalf("call %d found %q left by an earlier call", i, got)
				}
			}
			if got := m.snapshot() != nil; got == tc.cfg.NoSnapshots {
				t.Fatalf("snapshot taken: %v", got)
			}
		})
	}
}

// TestRestoredInstanceIsTheSnapshot: after calls that wrote to memory and grew it, a new
// instance holds exactly the snapshot's bytes (zero past them, at the snapshot's size) and
// its globals, whatever the earlier instances did.
func TestRestoredInstanceIsTheSnapshot(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{PoolSize: -1})
	m := loadHostile(t, e)
	mustPing(t, m)
	if _, _, err := invoke(t, m, "membomb", nil, 0); !errors.Is(err, ErrMemoryCap) {
		t.Fatalf("membomb: %v", err)
	}
	s := m.snapshot()
	if s == nil {
		t.Fatal("no snapshot after calls")
	}
	if len(s.names) == 0 {
		t.Fatal("a Go module has mutable globals; none restored")
	}
	inst, err := m.newInstance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.close()
	mem := inst.mod.Memory()
	if mem.Size() != s.pages*65536 {
		t.Fatalf("memory %d bytes, snapshot %d pages", mem.Size(), s.pages)
	}
	buf, _ := mem.Read(0, mem.Size())
	if !bytes.Equal(buf[:len(s.mem)], s.mem) {
		t.Fatal("memory differs from the snapshot")
	}
	if i := bytes.IndexFunc(buf[len(s.mem):], func(r rune) bool { return r != 0 }); i >= 0 {
		t.Fatalf("non-zero byte past the snapshot at %d", len(s.mem)+i)
	}
	for i, name := range s.names {
		if got := inst.mod.ExportedGlobal(name).Get(); got != s.values[i] {
			t.Fatalf("global %s = %d, snapshot %d", name, got, s.values[i])
		}
	}
}

// TestExportGlobals: the rewritten built-in and hostile modules compile, keep every export,
// and export each mutable global under the reserved prefix; a second rewrite is refused.
func TestExportGlobals(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter()) // decodes and validates, cheaply
	defer rt.Close(ctx)
	for _, pkg := range []string{"tools-wasm/testdata/hostile", "tools-wasm/builtin"} {
		wasm := testwasm.Load(t, pkg)
		out, names, err := exportGlobals(wasm)
		if err != nil {
			t.Fatalf("%s: %v", pkg, err)
		}
		if len(names) == 0 {
			t.Fatalf("%s: no mutable globals found", pkg)
		}
		cm, err := rt.CompileModule(ctx, out)
		if err != nil {
			t.Fatalf("%s: rewritten module: %v", pkg, err)
		}
		orig, err := rt.CompileModule(ctx, wasm)
		if err != nil {
			t.Fatal(err)
		}
		for name := range orig.ExportedFunctions() {
			if _, ok := cm.ExportedFunctions()[name]; !ok {
				t.Fatalf("%s: export %s lost", pkg, name)
			}
		}
		if _, _, err := exportGlobals(out); !errors.Is(err, errNoRewrite) {
			t.Fatalf("%s: rewriting twice: %v", pkg, err)
		}
	}
}

// TestExportGlobalsRefuses: layouts the rewrite does not handle leave the module as it is.
func TestExportGlobalsRefuses(t *testing.T) {
	hdr := []byte("\x00asm\x01\x00\x00\x00")
	sec := func(id byte, body ...byte) []byte { return append([]byte{id, byte(len(body))}, body...) }
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	exports := sec(7, 1, 1, 'x', 3, 0) // export global 0 as "x"
	for name, wasm := range map[string][]byte{
		"short":          []byte("\x00as"),
		"not wasm":       []byte("\x7fELF\x01\x00\x00\x00"),
		"bad size":       cat(hdr, []byte{7, 0x7f}),
		"no exports":     cat(hdr, sec(6, 1, 0x7f, 1, 0x41, 0, 0x0b)),
		"v128 global":    cat(hdr, sec(6, 1, 0x7b, 1, 0xfd, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b), exports),
		"funcref global": cat(hdr, sec(6, 1, 0x70, 1, 0xd0, 0x70, 0x0b), exports),
		"unknown opcode": cat(hdr, sec(6, 1, 0x7f, 1, 0x6a, 0x0b), exports),
		"reserved name":  cat(hdr, sec(6, 1, 0x7f, 0, 0x41, 0, 0x0b), sec(7, append(append([]byte{1, byte(len(snapshotGlobalPrefix) + 1)}, snapshotGlobalPrefix+"0"...), 3, 0)...)),
		"bad import":     cat(hdr, sec(2, 1, 1, 'a', 1, 'b', 9), exports),
		"trailing bytes": cat(hdr, sec(6, 1, 0x7f, 1, 0x41, 0, 0x0b, 0), exports),
	} {
		if _, _, err := exportGlobals(wasm); !errors.Is(err, errNoRewrite) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Immutable globals and imported ones are not exported; a mutable global's index counts
	// the imported globals before it.
	wasm := cat(hdr,
		sec(2, 1, 1, 'a', 1, 'g', 3, 0x7f, 0),
		sec(6, 2, 0x7f, 0, 0x41, 0x7f, 0x0b, 0x7e, 1, 0x42, 0x80, 0x7f, 0x0b),
		exports)
	_, names, err := exportGlobals(wasm)
	if err != nil || len(names) != 1 || names[0] != snapshotGlobalPrefix+"2" {
		t.Fatalf("names %q, %v", names, err)
	}
}

// FuzzExportGlobals: any bytes are rewritten or refused, never a panic; a rewrite keeps the
// rest of the module and is refused a second time.
func FuzzExportGlobals(f *testing.F) {
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x06\x06\x01\x7f\x01\x41\x00\x0b\x07\x05\x01\x01x\x03\x00"))
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, wasm []byte) {
		out, names, err := exportGlobals(wasm)
		if err != nil {
			if !errors.Is(err, errNoRewrite) {
				t.Fatalf("error %v does not wrap errNoRewrite", err)
			}
			return
		}
		if len(names) == 0 {
			if !bytes.Equal(out, wasm) {
				t.Fatal("module changed with nothing to export")
			}
			return
		}
		if len(out) <= len(wasm) {
			t.Fatal("rewritten module is not longer")
		}
		if _, _, err := exportGlobals(out); !errors.Is(err, errNoRewrite) {
			t.Fatalf("second rewrite: %v", err)
		}
	})
}

// TestSnapshotCache: the first process's snapshot is stored in the cache, and the next
// engine on it starts every instance from it, the first included (the snapshot is there as
// soon as the module is compiled, before any instance). A file that does not verify (one
// byte of its memory changed), or that does not fit the engine's memory cap, is ignored.
func TestSnapshotCache(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	compiled := func(cfg Config) *Module {
		t.Helper()
		cfg.CacheDir, cfg.PoolSize = dir, -1
		e := newEngine(t, cfg)
		m := loadHostile(t, e)
		if err := m.Compile(ctx); err != nil {
			t.Fatal(err)
		}
		return m
	}
	first := compiled(Config{}) // described: an instance ran _initialize
	mustPing(t, first)
	want := first.snapshot()
	if want == nil {
		t.Fatal("no snapshot after a call")
	}
	first.engine.Close(ctx) // waits for the snapshot's write
	files, _ := filepath.Glob(filepath.Join(dir, snapshotsDir, "*.snap"))
	if len(files) != 1 {
		t.Fatalf("snapshot files %v", files)
	}

	m := compiled(Config{})
	got := m.snapshot()
	if got == nil || m.engine.describes.Load() != 0 {
		t.Fatalf("snapshot %v, %d describes; want the stored snapshot loaded by the compile, no instance made", got != nil, m.engine.describes.Load())
	}
	if got.pages != want.pages || !bytes.Equal(got.mem, want.mem) || !slices.Equal(got.values, want.values) || !slices.Equal(got.names, want.names) {
		t.Fatal("the loaded snapshot differs from the stored one")
	}
	mustPing(t, m)
	if m.data != nil || first.data != nil {
		t.Fatal("data segments kept beside a snapshot")
	}

	if m := compiled(Config{MemoryLimitBytes: uint64(want.pages-1) * 65536}); m.snapshot() != nil {
		t.Fatal("a snapshot larger than the memory cap was loaded")
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 1
	if err := os.WriteFile(files[0], raw, 0o600); err != nil {
		t.Fatal(err)
	}
	m = compiled(Config{})
	if m.snapshot() != nil {
		t.Fatal("a changed snapshot file was loaded")
	}
	// Without a snapshot, the module was compiled without its data section all the same, and
	// the first instance gets the segments from pal before _initialize; then none needs them.
	snap, data := m.startState()
	if snap != nil || len(data) == 0 {
		t.Fatal("no data segments kept for the instance that initialises")
	}
	mustPing(t, m)
	if m.snapshot() == nil || m.data != nil {
		t.Fatal("the data segments outlived the snapshot")
	}
	// An instance that started before the snapshot was taken, as one filling the pool while
	// the first call's instance takes it, still writes its segments and initialises.
	late, err := m.instantiate(ctx, snap, data)
	if err != nil {
		t.Fatalf("an instance started before the snapshot: %v", err)
	}
	late.close()
	m.engine.Close(ctx)
	if again, _ := os.ReadFile(files[0]); bytes.Equal(again, raw) {
		t.Fatal("the changed file was not replaced")
	}
}
