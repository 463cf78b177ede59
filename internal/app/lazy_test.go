package app

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pal-mcp/pal/runtime"
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
// leaves the built-in Go module uncompiled, and WarmLazy waits (returning when its context
// ends); the first call of one of its tools compiles it and is answered, and WarmLazy then
// warms it and calls its after function once.
func TestGoModuleCompilesAtFirstCall(t *testing.T) {
	opts, _, _, _ := userModulesSetup(t, nil)
	opts.LogOutput = io.Discard
	a, err := Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	goMod := lazyModule(t, a)

	if out := handle(t, a, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`); !strings.Contains(out, `"name":"version"`) {
		t.Fatalf("tools/list: %.300s", out)
	}
	a.Warm(context.Background())
	if goMod.CompileStarted() {
		t.Fatal("the warm-up compiled the built-in Go module")
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

	out := handle(t, a, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"version","arguments":{}}}`)
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
