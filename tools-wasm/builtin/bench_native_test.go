//go:build !wasip1

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pal-mcp/pal/hostfns"
	"github.com/pal-mcp/pal/internal/app"
	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/test/bench/sample"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
)

// nativeHost serves the ops of a natively built tool with the real host functions of one
// call: the same path policy, secret scanning, provider registry, threads and audit log as
// pal's, only without WebAssembly between the tool and them.
type nativeHost struct{ c *hostfns.Call }

func (h nativeHost) Call(req []byte) []byte    { return h.c.Call(context.Background(), req) }
func (h nativeHost) Log(level int, msg string) { h.c.Log(context.Background(), level, msg) }

// nativeBulk runs the codereview expert call natively over the bulk file sets; test/bench's
// BenchmarkBulk runs the same call in pal over stdio. It returns one function per size that
// makes one call and returns its duration.
type nativeBulk struct {
	a        *app.App
	provider *sample.Provider
	grant    policy.CapSet
	category string
	files    map[int][]string
	calls    atomic.Int64
}

func newNativeBulk(tb testing.TB, sizes []int) *nativeBulk {
	tb.Helper()
	dir := tb.TempDir()
	project := filepath.Join(dir, "project")
	if err := os.Mkdir(project, 0o755); err != nil {
		tb.Fatal(err)
	}
	catalog, err := sample.WriteBulkCatalog(dir)
	if err != nil {
		tb.Fatal(err)
	}
	n := &nativeBulk{provider: sample.NewProvider(tb), files: map[int][]string{}}
	for _, size := range sizes {
		if n.files[size], err = sample.WriteBulkFiles(project, fmt.Sprintf("bulk%d", size), size); err != nil {
			tb.Fatal(err)
		}
	}
	env := map[string]string{"OPENAI_API_KEY": sample.APIKey, "OPENAI_BASE_URL": n.provider.BaseURL(), "DEFAULT_MODEL": sample.BulkModel,
		"OPENAI_MODELS_CONFIG_PATH": catalog, "HOME": filepath.Join(dir, "home"), "XDG_CACHE_HOME": filepath.Join(dir, "cache"),
		"XDG_STATE_HOME": filepath.Join(dir, "state"), "XDG_CONFIG_HOME": filepath.Join(dir, "config"), "LOG_LEVEL": "ERROR"}
	if n.a, err = app.Build(context.Background(), app.Options{Getenv: func(k string) string { return env[k] }, WorkDir: project, LogOutput: io.Discard}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { n.a.Close() })
	spec, builtin, ok := n.a.FindTool("codereview")
	if !ok {
		tb.Fatal("no codereview tool")
	}
	declared := make([]policy.Capability, 0, len(spec.Capabilities))
	for _, c := range spec.Capabilities {
		declared = append(declared, policy.Capability(c))
	}
	n.grant = n.a.Config.Grant(spec.Name, declared, builtin)
	n.category = spec.Category
	return n
}

// call makes one codereview call over the file set of size bytes and checks that the files
// reached the provider.
func (n *nativeBulk) call(size int) (time.Duration, error) {
	args, err := json.Marshal(sample.BulkStep(n.files[size]))
	if err != nil {
		return 0, err
	}
	id := fmt.Sprintf("n%d", n.calls.Add(1))
	req, err := json.Marshal(abi.HandleRequest{ABI: abi.Version, Tool: "codereview", CallID: id, Arguments: args})
	if err != nil {
		return 0, err
	}
	before := n.provider.BodyBytes()
	start := time.Now()
	// As the server does per call: a Host for this call, then the tool.
	pal.SetHost(nativeHost{n.a.Env.NewCall(hostfns.CallSpec{Tool: "codereview", CallID: id, Grant: n.grant, Category: n.category})})
	out := pal.Invoke(req)
	d := time.Since(start)
	if !strings.Contains(string(out), "calling_expert_analysis") || strings.Contains(string(out), `"isError":true`) {
		return 0, fmt.Errorf("codereview: %.500s", out)
	}
	if got := n.provider.BodyBytes() - before; got < int64(size) {
		return 0, fmt.Errorf("the provider received %d bytes for %d bytes of files", got, size)
	}
	return d, nil
}

// bulkSizes and their sample counts; test/bench's BenchmarkBulk uses the same.
var bulkSizes = []struct {
	name    string
	bytes   int
	samples int
}{{"1MiB", 1 << 20, 20}, {"10MiB", 10 << 20, 15}} // the samples of test/bench's bulkSizes

// BenchmarkBulkNative is the baseline of test/bench's BenchmarkBulk: the same codereview
// expert call over the same files, the built-in tools compiled natively (package pal's native
// backend) and calling the real host functions directly.
func BenchmarkBulkNative(b *testing.B) {
	var sizes []int
	for _, s := range bulkSizes {
		sizes = append(sizes, s.bytes)
	}
	n := newNativeBulk(b, sizes)
	if _, err := n.call(sizes[0]); err != nil { // warm the provider connection and the caches
		b.Fatal(err)
	}
	for _, s := range bulkSizes {
		b.Run("native-"+s.name, func(b *testing.B) {
			var d sample.Durations
			for b.Loop() {
				for range sample.Count(s.samples) {
					t, err := n.call(s.bytes)
					if err != nil {
						b.Fatal(err)
					}
					d = append(d, t)
				}
			}
			sample.Report(b, d)
		})
	}
}

// TestBulkNativeHarness runs the native bulk baseline once per size, so that `make test`
// keeps it working; it times nothing.
func TestBulkNativeHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the whole host in process")
	}
	sizes := []int{bulkSizes[0].bytes}
	n := newNativeBulk(t, sizes)
	if _, err := n.call(sizes[0]); err != nil {
		t.Fatal(err)
	}
}
