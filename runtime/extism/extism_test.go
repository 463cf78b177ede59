package extism

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/internal/testwasm"
	"github.com/pal-mcp/pal/runtime"
	"github.com/pal-mcp/pal/runtime/abi"
)

const pluginDir = "tools-wasm/examples/extism"

func TestMain(m *testing.M) {
	code := m.Run()
	testwasm.Cleanup()
	os.Exit(code)
}

func limits() runtime.Config {
	return runtime.Config{
		CallTimeout: runtime.DefaultCallTimeout, MemoryLimitBytes: 64 << 20, OutputLimitBytes: 1 << 20,
		StderrLimitBytes: 4096, InitTimeout: runtime.DefaultInitTimeout,
	}
}

func load(t *testing.T) *Plugin {
	t.Helper()
	p, err := Load(context.Background(), limits(), "plugin.wasm", testwasm.LoadAS(t, pluginDir), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

// fakeHost answers ops from a map of files and a fixed model reply, and refuses what grant
// leaves out, recording every request.
type fakeHost struct {
	files   map[string]string
	grant   map[string]bool
	ops     []string
	refused []abi.Code
	logs    []string
	stopAt  int // stop the call after this many ops (0: never)
}

func (h *fakeHost) Call(_ context.Context, request []byte) []byte {
	head, body, err := abi.Split(request)
	if err != nil {
		return abi.Fail(abi.CodeInvalid, err.Error())
	}
	var req struct {
		Op   string `json:"op"`
		Path string `json:"path"`
	}
	if err := json.Unmarshal(head, &req); err != nil {
		return abi.Fail(abi.CodeInvalid, "not JSON")
	}
	h.ops = append(h.ops, req.Op)
	capability := req.Op
	if !h.grant[capability] {
		return abi.Fail(abi.CodeDenied, "no "+capability)
	}
	switch req.Op {
	case "fs.list":
		var entries []map[string]any
		for p := range h.files {
			entries = append(entries, map[string]any{"path": p, "kind": "file", "size": len(h.files[p])})
		}
		return abi.OK(map[string]any{"path": req.Path, "entries": entries}, nil)
	case "fs.read":
		return abi.OK(map[string]any{"path": req.Path, "size": len(h.files[req.Path])}, []byte(h.files[req.Path]))
	case "model.generate":
		return abi.OK(map[string]any{"content": "summary of " + string(body[bytes.LastIndexByte(body, ':')+1:]), "model": "m1"}, nil)
	case "progress":
		return abi.OK(map[string]any{}, nil)
	}
	return abi.Fail(abi.CodeUnknownOp, req.Op)
}

func (h *fakeHost) Log(_ context.Context, _ int, msg string) { h.logs = append(h.logs, msg) }
func (h *fakeHost) Refused(_ context.Context, code abi.Code, _ string) {
	h.refused = append(h.refused, code)
}

func (h *fakeHost) Stop() error {
	if h.stopAt > 0 && len(h.ops) >= h.stopAt {
		return errors.New("limits.host_calls used up")
	}
	return nil
}

func TestManifest(t *testing.T) {
	p := load(t)
	man := p.Manifest()
	if man.Name != "todo-finder-extism" || len(man.Tools) != 1 || man.Tools[0].Name != "todo_finder" {
		t.Fatalf("manifest: %+v", man)
	}
	if got := strings.Join(man.Tools[0].Capabilities, ","); got != "fs.list,fs.read,model.generate,progress" {
		t.Fatalf("capabilities %s", got)
	}
}

func TestInvokeThroughPalCall(t *testing.T) {
	p := load(t)
	h := &fakeHost{
		files: map[string]string{"/w/a.go": "x\n// TODO: fix the parser\n", "/w/b.txt": "ok\n"},
		grant: map[string]bool{"fs.list": true, "fs.read": true, "model.generate": true, "progress": true},
	}
	res, _, err := p.Invoke(context.Background(), runtime.Call{Tool: "todo_finder", CallID: "c1", Arguments: json.RawMessage(`{"path":"/w"}`), Host: h})
	if err != nil {
		t.Fatal(err)
	}
	text := res.Content[0].Text
	if res.IsError || !strings.Contains(text, "Read 2 files") || !strings.Contains(text, "/w/a.go:2: // TODO: fix the parser") || !strings.Contains(text, "summary of") {
		t.Fatalf("result: %+v", res)
	}
	if got := strings.Join(h.ops, ","); !strings.HasPrefix(got, "fs.list,fs.read") || !strings.HasSuffix(got, "model.generate") {
		t.Fatalf("ops: %s", got)
	}
}

func TestRefusalReachesThePlugin(t *testing.T) {
	p := load(t)
	h := &fakeHost{files: map[string]string{"/w/a.go": "// TODO: x\n"}, grant: map[string]bool{"fs.list": true, "fs.read": true}}
	res, _, err := p.Invoke(context.Background(), runtime.Call{Tool: "todo_finder", Arguments: json.RawMessage(`{"path":"/w"}`), Host: h})
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsError || !strings.Contains(res.Content[0].Text, "model.generate refused: denied: no model.generate") {
		t.Fatalf("result: %+v", res)
	}
}

func TestStopperEndsTheCall(t *testing.T) {
	p := load(t)
	h := &fakeHost{files: map[string]string{"/w/a.go": "a", "/w/b.go": "b"}, grant: map[string]bool{"fs.list": true, "fs.read": true}, stopAt: 2}
	_, _, err := p.Invoke(context.Background(), runtime.Call{Tool: "todo_finder", Arguments: json.RawMessage(`{"path":"/w"}`), Host: h})
	if !errors.Is(err, runtime.ErrStopped) || !strings.Contains(err.Error(), "host_calls") {
		t.Fatalf("want ErrStopped naming the budget, got %v", err)
	}
}

func TestPinMismatchIsRefused(t *testing.T) {
	_, err := Load(context.Background(), limits(), "plugin.wasm", testwasm.LoadAS(t, pluginDir), strings.Repeat("0", 64))
	if !errors.Is(err, runtime.ErrBadModule) || !strings.Contains(err.Error(), "pinned "+strings.Repeat("0", 64)) {
		t.Fatalf("got %v", err)
	}
}

// module builds a wasm module that imports each of imports (module, name) as a () -> ()
// function and exports functions named by exports, each () -> i32 returning 0.
func module(imports [][2]string, exports ...string) []byte {
	uleb := func(b []byte, v int) []byte {
		for {
			c := byte(v & 0x7f)
			v >>= 7
			if v != 0 {
				b = append(b, c|0x80)
				continue
			}
			return append(b, c)
		}
	}
	name := func(b []byte, s string) []byte { return append(uleb(b, len(s)), s...) }
	section := func(out []byte, id byte, body []byte) []byte {
		return append(uleb(append(out, id), len(body)), body...)
	}
	out := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	out = section(out, 1, []byte{2, 0x60, 0, 0, 0x60, 0, 1, 0x7f}) // types: () -> (), () -> i32
	var imp []byte
	imp = uleb(imp, len(imports))
	for _, i := range imports {
		imp = append(name(name(imp, i[0]), i[1]), 0, 0)
	}
	out = section(out, 2, imp)
	var funcs []byte
	funcs = uleb(funcs, len(exports))
	for range exports {
		funcs = append(funcs, 1)
	}
	out = section(out, 3, funcs)
	out = section(out, 5, []byte{1, 0, 1}) // one memory, min 1 page
	var exp []byte
	exp = uleb(exp, len(exports)+1)
	exp = append(name(exp, "memory"), 2, 0)
	for i, e := range exports {
		exp = uleb(append(name(exp, e), 0), len(imports)+i)
	}
	out = section(out, 7, exp)
	var code []byte
	code = uleb(code, len(exports))
	for range exports {
		code = append(code, 4, 0, 0x41, 0, 0x0b) // i32.const 0; end
	}
	return section(out, 10, code)
}

func TestImportsOutsideTheContractAreRefused(t *testing.T) {
	cases := []struct {
		name    string
		imports [][2]string
		want    string
	}{
		{"http_request", [][2]string{{"extism:host/env", "http_request"}}, "no network"},
		{"http_status_code", [][2]string{{"extism:host/env", "http_status_code"}}, "no network"},
		{"unknown module", [][2]string{{"env", "abort"}}, "imports env.abort"},
		{"unknown user function", [][2]string{{"extism:host/user", "exec"}}, "imports extism:host/user.exec"},
		{"pal's native ABI", [][2]string{{"pal", "call"}}, "imports pal.call"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(context.Background(), limits(), "bad.wasm", module(tc.imports, "describe", "handle"), "")
			if !errors.Is(err, runtime.ErrBadModule) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want ErrBadModule with %q, got %v", tc.want, err)
			}
		})
	}
	// The same shape with allowed imports gets past the import check (and fails later,
	// on its empty manifest), so the cases above fail for their import.
	_, err := Load(context.Background(), limits(), "ok.wasm", module([][2]string{{"extism:host/env", "alloc"}, {"extism:host/user", "pal_call"}}, "describe", "handle"), "")
	if err == nil || strings.Contains(err.Error(), "imports") {
		t.Fatalf("allowed imports: %v", err)
	}
	_, err = Load(context.Background(), limits(), "noexport.wasm", module(nil, "describe"), "")
	if !errors.Is(err, runtime.ErrBadModule) || !strings.Contains(err.Error(), `missing export "handle"`) {
		t.Fatalf("missing handle: %v", err)
	}
}
