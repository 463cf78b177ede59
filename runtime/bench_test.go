package runtime

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/pal-mcp/pal/internal/testwasm"
)

// benchModule is the module the runtime benchmarks measure: the built-in tools, the largest
// module pal ships.
const benchModule = "tools-wasm/builtin"

// BenchmarkCompile measures compiling the built-in module: cold (no cache) and from the
// on-disk compilation cache. It reports the module's size.
func BenchmarkCompile(b *testing.B) {
	wasm := testwasm.Load(b, benchModule)
	ctx := context.Background()
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			e, err := New(ctx, Config{PoolSize: -1})
			if err != nil {
				b.Fatal(err)
			}
			m := &Module{engine: e, name: "bench", wasm: wasm}
			if err := m.Compile(ctx); err != nil {
				b.Fatal(err)
			}
			e.Close(ctx)
		}
		b.ReportMetric(float64(len(wasm)), "module-bytes")
	})
	b.Run("cached", func(b *testing.B) {
		dir := b.TempDir()
		warm, err := New(ctx, Config{CacheDir: dir, PoolSize: -1})
		if err != nil {
			b.Fatal(err)
		}
		if err := (&Module{engine: warm, name: "bench", wasm: wasm}).Compile(ctx); err != nil {
			b.Fatal(err)
		}
		warm.Close(ctx)
		b.ResetTimer()
		for b.Loop() {
			e, err := New(ctx, Config{CacheDir: dir, PoolSize: -1})
			if err != nil {
				b.Fatal(err)
			}
			m := &Module{engine: e, name: "bench", wasm: wasm}
			if err := m.Compile(ctx); err != nil {
				b.Fatal(err)
			}
			e.Close(ctx)
		}
	})
}

// BenchmarkInstantiate measures one fresh instance of the built-in module, _initialize
// included: the cost the pool hides from a call.
func BenchmarkInstantiate(b *testing.B) {
	ctx := context.Background()
	e, err := New(ctx, Config{CacheDir: sharedCacheFor(b), PoolSize: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close(ctx)
	m, err := e.LoadModule(ctx, "builtin", testwasm.Load(b, benchModule), "")
	if err != nil {
		b.Fatal(err)
	}
	if err := m.Compile(ctx); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		inst, err := m.newInstance(ctx)
		if err != nil {
			b.Fatal(err)
		}
		inst.mod.Close(ctx)
	}
}

// BenchmarkInvoke measures a whole call of a trivial tool (hostile's ping): take an instance,
// write the request, run handle, read and check the result, close the instance. "pooled"
// keeps one instance ready, as the server does; "fresh" instantiates inside the call.
func BenchmarkInvoke(b *testing.B) {
	ctx := context.Background()
	wasm := testwasm.Load(b, "tools-wasm/testdata/hostile")
	for _, tc := range []struct {
		name string
		pool int
	}{{"pooled", 1}, {"fresh", -1}} {
		b.Run(tc.name, func(b *testing.B) {
			e, err := New(ctx, Config{CacheDir: sharedCacheFor(b), PoolSize: tc.pool})
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
				if tc.pool > 0 {
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
