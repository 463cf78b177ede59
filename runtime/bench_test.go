package runtime

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/pal-mcp/pal/internal/testwasm"
)

// benchModule is the module the runtime benchmarks measure: the built-in tools, the largest
// module pal ships.
const benchModule = "tools-wasm/builtin"

// BenchmarkCompile measures compiling the built-in module: cold (no cache), from the
// on-disk compilation cache (a new engine each time: the compile's sweep checks every cached
// file, then wazero loads the entry), and the verification alone (one sweep of the
// authenticated index by a process that has hashed nothing yet). It reports the module's
// size and the files the sweep hashed (none whose stamp the index recorded).
func BenchmarkCompile(b *testing.B) {
	wasm := testwasm.Load(b, benchModule)
	ctx := context.Background()
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			e, err := New(ctx, Config{PoolSize: -1})
			if err != nil {
				b.Fatal(err)
			}
			m := e.newModule("bench", wasm, "")
			if err := m.Compile(ctx); err != nil {
				b.Fatal(err)
			}
			e.Close(ctx)
		}
		b.ReportMetric(float64(len(wasm)), "module-bytes")
	})
	dir := b.TempDir()
	warm, err := New(ctx, Config{CacheDir: dir, CacheKey: testCacheKey, PoolSize: -1})
	if err != nil {
		b.Fatal(err)
	}
	if err := warm.newModule("bench", wasm, "").Compile(ctx); err != nil {
		b.Fatal(err)
	}
	warm.Close(ctx)
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			e, err := New(ctx, Config{CacheDir: dir, CacheKey: testCacheKey, PoolSize: -1})
			if err != nil {
				b.Fatal(err)
			}
			m := e.newModule("bench", wasm, "")
			if err := m.Compile(ctx); err != nil {
				b.Fatal(err)
			}
			e.Close(ctx)
		}
	})
	b.Run("verify", func(b *testing.B) {
		var hashed int64
		for b.Loop() {
			c := &diskCache{dir: dir, key: testCacheKey, now: time.Now, seen: map[string]seenFile{}}
			if err := c.withLock(func() error { _, err := c.sweep(""); return err }); err != nil {
				b.Fatal(err)
			}
			hashed = int64(c.hashed)
		}
		// A new process hashes no file the index recorded with its stamp.
		b.ReportMetric(float64(hashed), "hashed-files")
	})
}

// BenchmarkInstantiate measures one fresh instance of the built-in module: "initialize" runs
// its _initialize (Go's runtime and package start-up) in every instance, as pal did before
// snapshots; "snapshot" copies the state the first instance's _initialize left (snapshot.go).
// It is the cost the pool hides from a call, and what a call pays when the pool is empty.
func BenchmarkInstantiate(b *testing.B) {
	ctx := context.Background()
	wasm := testwasm.Load(b, benchModule)
	for _, tc := range []struct {
		name string
		off  bool
	}{{"initialize", true}, {"snapshot", false}} {
		b.Run(tc.name, func(b *testing.B) {
			e, err := New(ctx, Config{CacheDir: sharedCacheFor(b), CacheKey: testCacheKey, PoolSize: -1, NoSnapshots: tc.off})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close(ctx)
			m, err := e.LoadModule(ctx, "builtin", wasm, "")
			if err != nil {
				b.Fatal(err)
			}
			if err := m.Compile(ctx); err != nil {
				b.Fatal(err)
			}
			first, err := m.newInstance(ctx) // takes the snapshot
			if err != nil {
				b.Fatal(err)
			}
			first.close()
			if (m.snapshot() != nil) == tc.off {
				b.Fatalf("snapshot taken: %v", m.snapshot() != nil)
			}
			for b.Loop() {
				inst, err := m.newInstance(ctx)
				if err != nil {
					b.Fatal(err)
				}
				inst.close()
			}
		})
	}
}

// BenchmarkInvoke measures a whole call of a trivial tool (hostile's ping): take an instance,
// write the request, run handle, read and check the result, close the instance. "pooled"
// keeps one instance ready, as the server does; "fresh" instantiates inside the call;
// "back-to-back" calls again at once, so the pool refills in the background while the next
// call runs, with one or two instances kept ready. Instances start from the module's snapshot
// (snapshot.go); the "/initialize" cases run _initialize in each, as before snapshots.
func BenchmarkInvoke(b *testing.B) {
	ctx := context.Background()
	wasm := testwasm.Load(b, "tools-wasm/testdata/hostile")
	for _, tc := range []struct {
		name   string
		pool   int
		wait   bool // refill the pool between calls outside the timer
		noSnap bool
	}{
		{"pooled", 1, true, false}, {"fresh", -1, false, false}, {"fresh/initialize", -1, false, true},
		{"back-to-back/pool1", 1, false, false}, {"back-to-back/pool1/initialize", 1, false, true},
		{"back-to-back/pool2", 2, false, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			e, err := New(ctx, Config{CacheDir: sharedCacheFor(b), PoolSize: tc.pool, NoSnapshots: tc.noSnap})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close(ctx)
			m, err := e.LoadModule(ctx, "hostile", wasm, "")
			if err != nil {
				b.Fatal(err)
			}
			if err := m.Warm(ctx); err != nil {
				b.Fatal(err)
			}
			call := Call{Tool: "ping", Arguments: json.RawMessage(`{}`), Host: &fakeHost{}}
			for b.Loop() {
				if tc.wait {
					b.StopTimer()
					m.refill(true) // what the background refill does between calls
					b.StartTimer()
				}
				if _, _, err := m.Invoke(ctx, call); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func sharedCacheFor(b *testing.B) string {
	if sharedCache != "" {
		return sharedCache
	}
	dir, err := os.MkdirTemp("", "pal-bench-cache-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
