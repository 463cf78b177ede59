package extism

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/pal-mcp/pal/internal/testwasm"
	"github.com/pal-mcp/pal/runtime"
)

// BenchmarkKit measures the Extism example plugin as runtime's BenchmarkKit measures native
// modules (docs/benchmarks-kits.md): compile (Extism's kernel and the
// plugin, into a new runtime, as Load does), one fresh instance (plugin and kernel), and a
// whole call of todo_finder in a fresh instance whose one op (fs.list) the host refuses.
func BenchmarkKit(b *testing.B) {
	ctx := context.Background()
	wasm := testwasm.LoadAS(b, pluginDir)
	b.Run("extism/compile", func(b *testing.B) {
		for b.Loop() {
			cp, err := compile(ctx, limits(), wasm, "", false)
			if err != nil {
				b.Fatal(err)
			}
			cp.Close(ctx)
		}
		b.ReportMetric(float64(len(wasm)), "module-bytes")
	})
	p, err := Load(ctx, limits(), "plugin.wasm", wasm, "")
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(ctx)
	b.Run("extism/instantiate", func(b *testing.B) {
		for b.Loop() {
			inst, err := p.newInstance(ctx, &callState{ctx: ctx})
			if err != nil {
				b.Fatal(err)
			}
			inst.plugin.Close(ctx)
		}
	})
	b.Run("extism/call-fresh", func(b *testing.B) {
		call := runtime.Call{Tool: "todo_finder", Arguments: json.RawMessage(`{"path":"/w"}`), Host: &fakeHost{}}
		for b.Loop() {
			res, _, err := p.Invoke(ctx, call)
			if err != nil || !res.IsError {
				b.Fatalf("want the tool's own isError result for the refused op, got %+v, %v", res, err)
			}
		}
	})
}
