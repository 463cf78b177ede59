package app

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pal-mcp/pal/runtime"
	"github.com/pal-mcp/pal/test/bench/sample"
)

// handle sends one JSON-RPC message to a's server and returns the reply's JSON.
func handle(t *testing.T, a *App, msg string) string {
	t.Helper()
	out, err := json.Marshal(a.Server.MCP().HandleMessage(context.Background(), []byte(msg)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// lazyModule returns the module of a marked Lazy, failing unless there is exactly one and it is
// a built-in runtime module.
func lazyModule(t *testing.T, a *App) *runtime.Module {
	t.Helper()
	var lazy *runtime.Module
	for _, lm := range a.Modules {
		if !lm.Lazy {
			continue
		}
		m, ok := lm.Module.(*runtime.Module)
		if lazy != nil || !ok || !lm.Builtin {
			t.Fatalf("lazy modules: %+v", a.Modules)
		}
		lazy = m
	}
	if lazy == nil {
		t.Fatal("no lazy module")
	}
	return lazy
}

// TestGoModuleCompilesAtFirstCall (docs/RATIONALE.md §76): the warm-up after tools/list
// compiles the chat module and leaves the built-in Go module uncompiled, and WarmLazy waits
// (returning when its context ends); a chat call does not compile the Go module; the first
// call of one of its tools compiles it and is answered, and WarmLazy then warms it and calls
// its after function once.
func TestGoModuleCompilesAtFirstCall(t *testing.T) {
	provider := sample.NewProvider(t)
	opts, _, _, _ := userModulesSetup(t, nil)
	getenv := opts.Getenv
	opts.Getenv = func(k string) string {
		switch k {
		case "OPENAI_BASE_URL":
			return provider.BaseURL()
		case "DEFAULT_MODEL":
			return "gpt-5.2"
		}
		return getenv(k)
	}
	opts.LogOutput = io.Discard
	a, err := Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	goMod := lazyModule(t, a)
	chat := a.Modules[0].Module.(*runtime.Module)
	if chat.Name() != chatModuleName || chat.Manifest().Tools[0].Name != "chat" || chat.CompileStarted() {
		t.Fatalf("first module %s (%v), compile started %v: want the chat module, not compiled at load", chat.Name(), chat.Manifest().Tools, chat.CompileStarted())
	}

	out := handle(t, a, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	for _, name := range []string{"chat", "version", "codereview"} {
		if !strings.Contains(out, `"name":"`+name+`"`) {
			t.Fatalf("tools/list lacks %s: %.300s", name, out)
		}
	}
	a.Warm(context.Background())
	if goMod.CompileStarted() || !chat.CompileStarted() {
		t.Fatalf("after the warm-up: Go module compile started %v, chat module %v; want false, true", goMod.CompileStarted(), chat.CompileStarted())
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	a.WarmLazy(cancelled, func() { t.Error("WarmLazy called after with its context done") })
	if goMod.CompileStarted() {
		t.Fatal("WarmLazy compiled the built-in Go module")
	}
	afters := make(chan struct{}, 2)
	lazyDone := make(chan struct{})
	go func() {
		defer close(lazyDone)
		a.WarmLazy(context.Background(), func() { afters <- struct{}{} })
	}()

	out = handle(t, a, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"chat","arguments":{"prompt":"Is this fine?"}}}`)
	if !strings.Contains(out, "continuation_available") || strings.Contains(out, `"isError":true`) {
		t.Fatalf("chat: %.500s", out)
	}
	if goMod.CompileStarted() {
		t.Fatal("a chat call compiled the built-in Go module")
	}

	out = handle(t, a, `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"version","arguments":{}}}`)
	if !strings.Contains(out, `"result"`) || strings.Contains(out, `"isError":true`) || !strings.Contains(out, Version) {
		t.Fatalf("version after the warm-up: %.500s", out)
	}
	if !goMod.CompileStarted() {
		t.Fatal("the call did not compile the module it ran in")
	}
	select {
	case <-lazyDone:
	case <-time.After(time.Minute):
		t.Fatal("WarmLazy did not return after the module compiled")
	}
	if len(afters) != 1 {
		t.Fatalf("after called %d times, want 1", len(afters))
	}
}
