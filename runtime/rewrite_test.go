package runtime

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestRewriteCache: a second engine on the same cache reads the rewritten module instead of
// rewriting it again; a file pal did not write (here: one byte changed, the MAC left as it
// was) is ignored and replaced, and the module still stops at its deadline.
func TestRewriteCache(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	compile := func() *Module {
		t.Helper()
		e := newEngine(t, Config{CacheDir: dir, CacheKey: testCacheKey, PoolSize: -1})
		m := loadHostile(t, e)
		if err := m.Compile(ctx); err != nil {
			t.Fatal(err)
		}
		if !m.interruptible {
			t.Fatal("the module was not rewritten")
		}
		return m
	}
	before := rewrites.Load()
	compile()
	files, _ := filepath.Glob(filepath.Join(dir, rewrittenDir, "*.wasm"))
	if len(files) != 1 || rewrites.Load() != before+1 {
		t.Fatalf("files %v, %d rewrites", files, rewrites.Load()-before)
	}
	first := compile()
	if !first.snapshots || len(first.globals) == 0 {
		t.Fatalf("snapshots %v, globals %v; want the hostile module's globals exported", first.snapshots, first.globals)
	}
	second := compile()
	if n := rewrites.Load() - before; n != 1 {
		t.Fatalf("%d rewrites; the second engine should have read the first one's", n)
	}
	if !second.snapshots || !slices.Equal(second.globals, first.globals) {
		t.Fatalf("read back: snapshots %v, globals %v; want %v", second.snapshots, second.globals, first.globals)
	}
	mustPing(t, second)
	good, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	// The line naming the globals is authenticated too: one name fewer is another file.
	_, rest, _ := bytes.Cut(good, []byte("\n"))
	meta, _, _ := bytes.Cut(rest, []byte("\n"))
	short := bytes.Replace(good, meta, meta[:bytes.LastIndexByte(meta, ' ')], 1)
	if err := os.WriteFile(files[0], short, 0o600); err != nil {
		t.Fatal(err)
	}
	compile()
	if n := rewrites.Load() - before; n != 2 {
		t.Fatalf("%d rewrites; a file with a changed list of globals must be rewritten again", n)
	}
	raw := bytes.Clone(good)
	raw[len(raw)-1] ^= 1
	if err := os.WriteFile(files[0], raw, 0o600); err != nil {
		t.Fatal(err)
	}
	m := compile()
	if n := rewrites.Load() - before; n != 3 {
		t.Fatalf("%d rewrites; a changed file must be rewritten again", n)
	}
	if _, _, err := invoke(t, m, "spin", nil, time.Second); !errors.Is(err, ErrDeadline) {
		t.Fatalf("spin: %v", err)
	}
	if again, _ := os.ReadFile(files[0]); string(again) == string(raw) {
		t.Fatal("the changed file was not replaced")
	}
}
