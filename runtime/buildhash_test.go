package runtime

import (
	"bytes"
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
// or a caller trying to borrow a trusted identity) list the known manifest but never run: the
// first compile hashes them before the hash names any cache entry (here, the real module's
// rewritten code is in the cache under that hash) and refuses them.
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

	// Other bytes: the module with an empty custom section appended (valid, another hash).
	other := append(bytes.Clone(wasm), 0, 1, 0)
	before := rewrites.Load()
	e = known()
	m, err = e.LoadModule(ctx, "other", other, "", BuildSHA256(hash))
	if err != nil {
		t.Fatalf("load: %v (the check is at compile)", err)
	}
	if err := m.Compile(ctx); !errors.Is(err, ErrBadModule) || !strings.Contains(err.Error(), "build recorded "+hash) {
		t.Fatalf("compile of other bytes under the recorded hash: %v; want ErrBadModule", err)
	}
	if r, _, err := invoke(t, m, "ping", nil, 0); !errors.Is(err, ErrBadModule) || r != nil {
		t.Fatalf("ping: %q, %v; want ErrBadModule and nothing run", text(r), err)
	}
	if m.compiled != nil || rewrites.Load() != before {
		t.Fatal("the other bytes were compiled or rewritten")
	}
}
