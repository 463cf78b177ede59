package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/internal/testwasm"
)

// TestBuildSHA256: a module loaded with the hash its build recorded is not hashed at load
// when the engine knows its manifest, and runs; without a known manifest, or pinned, it is
// hashed as always. Attack: other bytes given under a module's recorded hash (a stale build,
// or a caller trying to borrow a trusted identity) never run. With that hash's rewritten code
// in the cache, the compile runs that code (written by pal from the real module) and does not
// read the bytes; with an empty cache, it hashes the bytes before making anything from them
// and refuses them.
func TestBuildSHA256(t *testing.T) {
	ctx := context.Background()
	wasm := testwasm.Load(t, "tools-wasm/testdata/hostile")
	hash := sha256Hex(wasm)
	dir := t.TempDir()
	real := loadHostile(t, newEngine(t, Config{CacheDir: dir, PoolSize: -1}))
	if err := real.Compile(ctx); err != nil { // the cache now holds its rewritten code
		t.Fatal(err)
	}
	manifest, err := json.Marshal(real.Manifest())
	if err != nil {
		t.Fatal(err)
	}
	known := func() *Engine {
		e := newEngine(t, Config{CacheDir: dir, PoolSize: -1})
		if err := e.AddKnownManifest(hash, manifest); err != nil {
			t.Fatal(err)
		}
		return e
	}

	e := known()
	m, err := e.LoadModule(ctx, "hostile", wasm, "", BuildSHA256(hash))
	if err != nil {
		t.Fatal(err)
	}
	if !m.unhashed || m.SHA256() != hash || e.describes.Load() != 0 {
		t.Fatalf("unhashed %v, sha256 %s, %d describes; want the build's hash taken as it is", m.unhashed, m.SHA256(), e.describes.Load())
	}
	mustPing(t, m)

	m, err = newEngine(t, Config{CacheDir: dir, PoolSize: -1}).LoadModule(ctx, "hostile", wasm, "", BuildSHA256(hash))
	if err != nil || m.unhashed {
		t.Fatalf("no known manifest: %v, unhashed %v; want the bytes hashed", err, m != nil && m.unhashed)
	}
	if _, err := known().LoadModule(ctx, "hostile", wasm, strings.Repeat("0", 64), BuildSHA256(hash)); !errors.Is(err, ErrBadModule) || !strings.Contains(err.Error(), "pinned") {
		t.Fatalf("pinned: %v; want the pin checked against the bytes", err)
	}

	// Other bytes, not even a module: with the recorded module's code in the cache, the call
	// runs that code, so the bytes were not read.
	other := []byte("\x00asm\x01\x00\x00\x00 not a module")
	before := rewrites.Load()
	e = known()
	m, err = e.LoadModule(ctx, "other", other, "", BuildSHA256(hash))
	if err != nil {
		t.Fatalf("load: %v (the bytes are read by a compile, if at all)", err)
	}
	mustPing(t, m) // the recorded hash's code, from the cache
	if rewrites.Load() != before {
		t.Fatal("the other bytes were rewritten")
	}
	e = newEngine(t, Config{CacheDir: t.TempDir(), PoolSize: -1})
	if err := e.AddKnownManifest(hash, manifest); err != nil {
		t.Fatal(err)
	}
	if m, err = e.LoadModule(ctx, "other", other, "", BuildSHA256(hash)); err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(ctx); !errors.Is(err, ErrBadModule) || !strings.Contains(err.Error(), "build recorded "+hash) {
		t.Fatalf("compile of other bytes under the recorded hash, empty cache: %v; want ErrBadModule", err)
	}
	if r, _, err := invoke(t, m, "ping", nil, 0); !errors.Is(err, ErrBadModule) || r != nil {
		t.Fatalf("ping: %q, %v; want ErrBadModule and nothing run", text(r), err)
	}
	if m.compiled != nil || rewrites.Load() != before {
		t.Fatal("the other bytes were compiled or rewritten")
	}
}

// TestReadBytes: a module given as a function that reads its bytes (ReadBytes), under the hash
// its build recorded and with a known manifest, is not read at load; a compile that finds the
// hash's rewritten code in the cache does not read it either; one with an empty cache reads it
// once and checks the bytes against the hash. Attacks: bytes read that are not the recorded
// module's, and a read that fails, are ErrBadModule and run nothing. Without a known manifest
// the bytes are read at load, as if given.
func TestReadBytes(t *testing.T) {
	ctx := context.Background()
	wasm := testwasm.Load(t, "tools-wasm/testdata/hostile")
	hash := sha256Hex(wasm)
	warm := t.TempDir()
	real := loadHostile(t, newEngine(t, Config{CacheDir: warm, PoolSize: -1}))
	if err := real.Compile(ctx); err != nil {
		t.Fatal(err)
	}
	manifest, err := json.Marshal(real.Manifest())
	if err != nil {
		t.Fatal(err)
	}
	reads := 0
	reader := func(b []byte, err error) func() ([]byte, error) {
		return func() ([]byte, error) { reads++; return b, err }
	}
	load := func(cache string, read func() ([]byte, error), known bool) (*Module, error) {
		e := newEngine(t, Config{CacheDir: cache, PoolSize: -1})
		if known {
			if err := e.AddKnownManifest(hash, manifest); err != nil {
				t.Fatal(err)
			}
		}
		return e.LoadModule(ctx, "hostile", nil, "", BuildSHA256(hash), ReadBytes(read))
	}

	for _, tc := range []struct {
		name      string
		cache     string
		read      func() ([]byte, error)
		wantReads int
		wantErr   string // "" when the module must run
	}{
		{"warm cache", warm, reader(wasm, nil), 0, ""},
		{"empty cache", t.TempDir(), reader(wasm, nil), 1, ""},
		{"other bytes", t.TempDir(), reader([]byte("\x00asm\x01\x00\x00\x00 not a module"), nil), 1, "build recorded " + hash},
		{"read fails", t.TempDir(), reader(nil, errors.New("xz: corrupt")), 1, "xz: corrupt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reads = 0
			m, err := load(tc.cache, tc.read, true)
			if err != nil || reads != 0 || m.Size() != 0 {
				t.Fatalf("load: %v, %d reads, size %d; want nothing read", err, reads, m.Size())
			}
			err = m.Compile(ctx)
			if reads != tc.wantReads {
				t.Fatalf("%d reads by the compile, want %d", reads, tc.wantReads)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				mustPing(t, m)
				return
			}
			if !errors.Is(err, ErrBadModule) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("compile: %v; want ErrBadModule naming %q", err, tc.wantErr)
			}
			if r, _, err := invoke(t, m, "ping", nil, 0); !errors.Is(err, ErrBadModule) || r != nil || m.compiled != nil {
				t.Fatalf("ping: %q, %v; want ErrBadModule and nothing run", text(r), err)
			}
		})
	}

	reads = 0
	m, err := load(t.TempDir(), reader(wasm, nil), false)
	if err != nil || reads != 1 || m.unhashed || m.Size() != len(wasm) {
		t.Fatalf("no known manifest: %v, %d reads, unhashed %v; want the bytes read and hashed at load", err, reads, m != nil && m.unhashed)
	}
	if _, err := load(t.TempDir(), reader(nil, errors.New("gone")), false); !errors.Is(err, ErrBadModule) {
		t.Fatalf("a failed read at load: %v; want ErrBadModule", err)
	}
}
