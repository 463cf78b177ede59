//go:build !wasip1

package main

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/internal/testwasm"
	"github.com/pal-mcp/pal/runtime"
	"github.com/pal-mcp/pal/runtime/abi"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/paltest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testwasm.Cleanup()
	os.Exit(code)
}

// runtimeHost serves the wasm runtime from a paltest.Host.
type runtimeHost struct {
	h       *paltest.Host
	refused []string
}

func (r *runtimeHost) Call(_ context.Context, req []byte) []byte { return r.h.Call(req) }
func (r *runtimeHost) Log(_ context.Context, level int, msg string) {
	r.h.Log(level, msg)
}
func (r *runtimeHost) Refused(_ context.Context, code abi.Code, reason string) {
	r.refused = append(r.refused, string(code)+": "+reason)
}

// TestWasmMatchesNative builds builtin.wasm as a reactor, runs it in the real runtime, and
// checks that every scenario gives the same requests, model prompts and results as the
// native build: the wasm glue adds nothing and loses nothing.
func TestWasmMatchesNative(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and compiles a wasm module")
	}
	wasm := testwasm.Load(t, "tools-wasm/builtin")
	t.Logf("builtin.wasm: %d bytes", len(wasm))
	ctx := context.Background()
	e, err := runtime.New(ctx, runtime.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	mod, err := e.LoadModule(ctx, "builtin", wasm, "")
	if err != nil {
		t.Fatal(err)
	}
	var native abi.Manifest
	if err := json.Unmarshal(pal.Describe(), &native); err != nil {
		t.Fatal(err)
	}
	// The native build has the Go chat too (chat_register.go), the oracle of the Rust chat's
	// parity test (rustchat_test.go), which covers chat; the wasm build has every other tool.
	native.Tools = slices.DeleteFunc(native.Tools, func(t abi.ToolSpec) bool { return t.Name == "chat" })
	if !reflect.DeepEqual(*mod.Manifest(), native) {
		t.Fatalf("wasm manifest differs from native:\n%+v\n%+v", *mod.Manifest(), native)
	}
	caps := map[string][]string{}
	for _, tool := range native.Tools {
		caps[tool.Name] = tool.Capabilities
	}

	type step struct {
		tool string
		args string
	}
	scenarios := map[string][]step{
		"version":         {{"version", `{}`}},
		"listmodels":      {{"listmodels", `{}`}},
		"prompt too long": {{"challenge", `{"prompt":"` + strings.Repeat("x", 101) + `"}`}},
		"bad arguments":   {{"challenge", `{"prompt":"x","nope":1}`}},
		"narrow grant":    {{"challenge", `{"prompt":"no host.info"}`}},
	}
	for name, steps := range scenarios {
		t.Run(name, func(t *testing.T) {
			nh, wh := newHost(), newHost()
			nh.Info.Limits.PromptChars, wh.Info.Limits.PromptChars = 100, 100
			if name == "narrow grant" {
				nh.Grant = []string{pal.CapFSRead, pal.CapModelGenerate}
				wh.Grant = nh.Grant
			}
			rh := &runtimeHost{h: wh}
			for i, s := range steps {
				nr := nh.Invoke(t, s.tool, json.RawMessage(s.args))
				wh.SetCall(s.tool, caps[s.tool])
				wr, out, err := mod.Invoke(ctx, runtime.Call{Tool: s.tool, CallID: "w", Arguments: json.RawMessage(s.args), Host: rh})
				if err != nil {
					t.Fatalf("step %d: %v\nstderr: %s", i, err, out.Stderr)
				}
				// The native result is the kit's type (tools-wasm/sdk/go/abi), the wasm one the
				// host's (runtime/abi): the same wire shape, compared as JSON.
				if nj, wj := mustJSON(t, nr), mustJSON(t, wr); nj != wj {
					t.Fatalf("step %d: native and wasm results differ:\nnative %+v\nwasm   %+v", i, *nr, *wr)
				}
			}
			if !reflect.DeepEqual(nh.Requests, wh.Requests) || !reflect.DeepEqual(nh.Generated, wh.Generated) || !reflect.DeepEqual(nh.Progress, wh.Progress) {
				t.Fatalf("host saw different requests:\nnative %v\nwasm   %v", nh.Requests, wh.Requests)
			}
			if !reflect.DeepEqual(nh.Logs, wh.Logs) {
				t.Fatalf("different logs:\nnative %v\nwasm   %v", nh.Logs, wh.Logs)
			}
			if name == "narrow grant" && len(wh.Logs) == 0 {
				t.Fatal("the wasm module logged nothing without host.info")
			}
			if len(rh.refused) > 0 {
				t.Fatalf("the runtime refused guest requests: %v", rh.refused)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
