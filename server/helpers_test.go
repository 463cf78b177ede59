package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pal-mcp/pal/hostfns"
	"github.com/pal-mcp/pal/internal/builtinwasm"
	"github.com/pal-mcp/pal/internal/mcpwire"
	"github.com/pal-mcp/pal/internal/testwasm"
	"github.com/pal-mcp/pal/memory"
	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/providers"
	"github.com/pal-mcp/pal/runtime"
	"github.com/pal-mcp/pal/runtime/abi"
)

// sharedCache is one compilation cache for every engine the package's tests make, in a
// temporary directory removed when the tests end: compiling the built-in module is slow under
// -race, where wazero's compiler runs instrumented, so the package pays for it once, but no
// run reads what an earlier run (of older code) left behind.
var sharedCache string

// testCacheKey authenticates the shared cache's entries (a fixed key: the cache outlives the
// run).
var testCacheKey = []byte("pal server tests cache key, 32 B")

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "pal-server-cache-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		sharedCache = dir
		return m.Run()
	}()
	testwasm.Cleanup()
	os.Exit(code)
}

// Packages of the modules the tests load.
const (
	builtinPkg = "tools-wasm/builtin"
	hostilePkg = "tools-wasm/testdata/hostile"
)

// newEngine returns an engine on the shared cache with the default limits (a 10-minute call
// timeout, so a call that ends early was stopped by something else).
func newEngine(t *testing.T) *runtime.Engine {
	t.Helper()
	e, err := runtime.New(context.Background(), runtime.Config{CacheDir: sharedCache, CacheKey: testCacheKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e
}

// load builds pkg and loads it into e under name.
func load(t *testing.T, e *runtime.Engine, name, pkg string, builtin bool) LoadedModule {
	t.Helper()
	m, err := e.LoadModule(context.Background(), name, testwasm.Load(t, pkg), "")
	if err != nil {
		t.Fatal(err)
	}
	return LoadedModule{Module: m, Builtin: builtin}
}

// builtins loads pal's two built-in modules into e, as package app does: the chat module that
// pal embeds (internal/builtinwasm/chat.wasm, the Rust chat) and the Go module built from
// builtinPkg (every other built-in tool).
func builtins(t *testing.T, e *runtime.Engine) []LoadedModule {
	t.Helper()
	wasm, _, _, _ := builtinwasm.Chat()
	chat, err := e.LoadModule(context.Background(), "builtin-chat", wasm, "")
	if err != nil {
		t.Fatal(err)
	}
	return []LoadedModule{{Module: chat, Builtin: true}, load(t, e, "builtin", builtinPkg, true)}
}

// fakeModels is a model registry with one model that answers every prompt at once.
type fakeModels struct {
	mu    sync.Mutex
	calls int
}

var _ hostfns.Models = (*fakeModels)(nil)

func (f *fakeModels) info() hostfns.ModelInfo {
	return hostfns.ModelInfo{Model: "fake-model", Provider: "openai", FriendlyName: "Fake", ContextWindow: 200_000,
		MaxOutputTokens: 8192, SupportsTemperature: true, AllowCodeGeneration: false}
}

func (f *fakeModels) Resolve(string, providers.Category) (hostfns.ModelInfo, error) {
	return f.info(), nil
}

func (f *fakeModels) Generate(context.Context, string, providers.Category, providers.Request) (*providers.Response, hostfns.ModelInfo, error) {
	f.mu.Lock()
	f.calls++
	n := f.calls
	f.mu.Unlock()
	return &providers.Response{Content: fmt.Sprintf("fake reply %d", n), Model: "fake-model", Provider: providers.OpenAI, FinishReason: "stop"}, f.info(), nil
}

func (f *fakeModels) List() abi.ModelListResult {
	return abi.ModelListResult{Mode: "fixed", Providers: []abi.ProviderModels{}}
}
func (f *fakeModels) Summary() ([]string, int) { return []string{"openai"}, 1 }

func (f *fakeModels) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// fakeDescriber is a ModelDescriber with a recognisable description.
type fakeDescriber struct{ auto bool }

const fakeDescription = "FAKE-MODEL-FIELD: pick one of fake-model, other-model"

func (d fakeDescriber) ModelFieldDescription() string { return fakeDescription }
func (d fakeDescriber) AutoMode() bool                { return d.auto }

// chanAuditor hands every audit record to a channel, so a test can wait for a call to end.
type chanAuditor struct{ ch chan policy.Record }

func newChanAuditor() *chanAuditor { return &chanAuditor{ch: make(chan policy.Record, 1024)} }

func (a *chanAuditor) Audit(r policy.Record) error { a.ch <- r; return nil }
func (a *chanAuditor) Close() error                { return nil }

// waitCall waits for the tools/call audit record of tool: it is written when the call ends.
func (a *chanAuditor) waitCall(t *testing.T, tool string) policy.Record {
	t.Helper()
	for {
		select {
		case r := <-a.ch:
			if r.Op == "tools/call" && r.Tool == tool {
				return r
			}
		case <-time.After(time.Minute):
			t.Fatalf("no tools/call record for %s within a minute", tool)
		}
	}
}

// testEnv is a hostfns.Env with fake models, real threads and the limits chat needs.
func testEnv(models hostfns.Models, audit policy.Auditor) *hostfns.Env {
	if audit == nil {
		audit = policy.DiscardAuditor{}
	}
	return &hostfns.Env{
		Models:  models,
		Threads: memory.New(memory.Config{}),
		Audit:   audit,
		Redact:  policy.NewRedactor(),
		Info: hostfns.Info{Name: "pal", Version: "test", ModelSelection: "fixed", DefaultModel: "fake-model",
			Limits: hostfns.Limits{PromptChars: 60_000, MaxTurns: 50, MaxFileBytes: 1_000_000}},
	}
}

func newServer(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rpc sends one request straight to mcp-go, as the transport would, and returns the response
// as generic JSON.
func rpc(t *testing.T, s *Server, method string, params any) map[string]any {
	t.Helper()
	msg, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	if err != nil {
		t.Fatal(err)
	}
	resp := s.MCP().HandleMessage(context.Background(), msg)
	raw, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// listTools returns tools/list's tools by name, as raw JSON objects.
func listTools(t *testing.T, s *Server) map[string]map[string]any {
	t.Helper()
	resp := rpc(t, s, "tools/list", map[string]any{})
	result, ok := resp["result"].(map[string]any)
	if !ok {
		t.Fatalf("tools/list: %v", resp)
	}
	tools := map[string]map[string]any{}
	for _, v := range result["tools"].([]any) {
		tl := v.(map[string]any)
		tools[tl["name"].(string)] = tl
	}
	return tools
}

// message is one JSON-RPC message read from the server.
type message = mcpwire.Message

// wire is a stdio session with an in-process server, spoken raw over pipes.
type wire struct {
	*mcpwire.Conn
	t    *testing.T
	in   *io.PipeWriter
	done chan error // ServeStdio's result
}

// serve starts ServeStdio over pipes. The session ends at t's cleanup if the test did not end it.
func serve(t *testing.T, s *Server) *wire {
	return serveCtx(t, context.Background(), s)
}

func serveCtx(t *testing.T, ctx context.Context, s *Server) *wire {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	w := &wire{Conn: mcpwire.New(t, inW, outR), t: t, in: inW, done: make(chan error, 1)}
	go func() {
		err := s.ServeStdio(ctx, inR, outW)
		outW.Close()
		inR.Close()
		w.done <- err
	}()
	t.Cleanup(func() {
		inW.Close()
		w.Drain()
	})
	return w
}

// close ends stdin, waits for ServeStdio, and returns its error after reading what is left.
func (w *wire) close() error {
	w.t.Helper()
	w.in.Close()
	return w.wait()
}

// wait waits for ServeStdio to return, reads what is left of its output, and returns its error.
func (w *wire) wait() error {
	w.t.Helper()
	var err error
	select {
	case err = <-w.done:
	case <-time.After(2 * time.Minute):
		w.t.Fatal("ServeStdio did not return within two minutes")
	}
	w.Drain()
	return err
}

// toolText returns the text of a tools/call result and whether it is an error.
func toolText(t *testing.T, m message) (string, bool) { return mcpwire.ToolText(t, m) }
