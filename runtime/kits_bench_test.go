package runtime

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/pal-mcp/pal/internal/testwasm"
)

// kitModules are the modules BenchmarkKit compares, each with a call whose work is one host
// call (refused by fakeHost) and a small result: the built-in Go module's version tool
// (host.info) and the Go, AssemblyScript, C and Rust examples' todo_finder (fs.list). runtime/extism's
// BenchmarkKit measures the Extism plugin the same way.
func kitModules(b *testing.B) []struct {
	name, tool, args string
	wasm             []byte
} {
	return []struct {
		name, tool, args string
		wasm             []byte
	}{
		{"go-builtin", "version", `{}`, testwasm.Load(b, benchModule)},
		{"go", "todo_finder", `{"path":"/w"}`, testwasm.Load(b, "tools-wasm/examples/go")},
		{"assemblyscript", "todo_finder", `{"path":"/w"}`, testwasm.LoadAS(b, "tools-wasm/examples/assemblyscript")},
		{"c", "todo_finder", `{"path":"/w"}`, testwasm.LoadC(b, "tools-wasm/examples/c")},
		{"rust", "todo_finder", `{"path":"/w"}`, testwasm.LoadRust(b, "tools-wasm/examples/rust")},
	}
}

// BenchmarkKit measures, per module (docs/benchmarks-kits.md): compile
// with no cache, one fresh instance (initialisation included), and a whole call in a fresh
// instance. It reports the module's size.
func BenchmarkKit(b *testing.B) {
	ctx := context.Background()
	for _, km := range kitModules(b) {
		b.Run(km.name+"/compile", func(b *testing.B) {
			e, err := New(ctx, Config{PoolSize: -1})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close(ctx)
			for b.Loop() {
				m := e.newModule(km.name, km.wasm, "")
				if err := m.Compile(ctx); err != nil {
					b.Fatal(err)
				}
				m.compiled.Close(ctx)
			}
			b.ReportMetric(float64(len(km.wasm)), "module-bytes")
		})
		e, err := New(ctx, Config{PoolSize: -1})
		if err != nil {
			b.Fatal(err)
		}
		m, err := e.LoadModule(ctx, km.name, km.wasm, "")
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Compile(ctx); err != nil {
			b.Fatal(err)
		}
		b.Run(km.name+"/instantiate", func(b *testing.B) {
			for b.Loop() {
				inst, err := m.newInstance(ctx)
				if err != nil {
					b.Fatal(err)
				}
				inst.close()
			}
		})
		b.Run(km.name+"/call-fresh", func(b *testing.B) {
			call := Call{Tool: km.tool, Arguments: json.RawMessage(km.args), Host: &fakeHost{}}
			for b.Loop() {
				res, _, err := m.Invoke(ctx, call)
				if err != nil || !res.IsError {
					b.Fatalf("want the tool's own isError result for the refused op, got %+v, %v", res, err)
				}
			}
		})
		e.Close(ctx)
	}
}
