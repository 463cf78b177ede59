package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/internal/testwasm"
	"github.com/pal-mcp/pal/runtime/abi"
)

// userModuleConfig writes wasm into the workspace's state directory (outside every root),
// and a pal.toml named name that loads it pinned by its sha256 (as an Extism plugin when name
// starts with "extism") and grants tool caps. It returns the config's path.
func userModuleConfig(t *testing.T, w *workspace, name string, wasm []byte, tool string, caps []string) string {
	t.Helper()
	if err := os.MkdirAll(w.stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(w.stateDir, name+".wasm")
	if err := os.WriteFile(path, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(wasm)
	quoted := make([]string, len(caps))
	for i, c := range caps {
		quoted[i] = fmt.Sprintf("%q", c)
	}
	abi := ""
	if strings.HasPrefix(name, "extism") {
		abi = "abi = \"extism\"\n"
	}
	cfg := fmt.Sprintf("[[modules]]\npath = %q\nsha256 = %q\n%s\n[tools.%s]\ncapabilities = [%s]\n",
		path, hex.EncodeToString(sum[:]), abi, tool, strings.Join(quoted, ", "))
	cfgPath := filepath.Join(w.stateDir, name+".toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath
}

// addTodos puts files with TODO lines in the workspace: one in the root, one behind a deny
// glob (.env, hidden and denied), and the workspace's symlink to a file outside the root.
func addTodos(t *testing.T, w *workspace) {
	t.Helper()
	files := map[string]string{
		filepath.Join(w.root, "src", "parse.ts"): "export function parse() {}\n// TODO: MARKER-TODO-PARSE handle empty input\n",
		filepath.Join(w.root, "lib", "io.go"):    "package io\n\n// FIXME: MARKER-TODO-IO close the file\n",
		filepath.Join(w.outside, "far.go"):       "// TODO: MARKER-TODO-OUTSIDE must never be read\n",
	}
	for p, body := range files {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(w.outside, "far.go"), filepath.Join(w.root, "src", "far.go")); err != nil {
		t.Fatal(err)
	}
}

// kitToolRuns drives a todo_finder tool (from any guest kit) through the real server: with
// its full grant it lists, reads and asks the loopback model; granted no model.generate it
// is refused with the host's text, the provider sees nothing, and the audit log says so.
func kitToolRuns(t *testing.T, name string, wasm []byte) {
	const tool = "todo_finder"
	full := []string{"fs.list", "fs.read", "model.generate", "progress"}

	t.Run("granted", func(t *testing.T) {
		w := newWorkspace(t)
		addTodos(t, w)
		p := newProvider(t)
		cs := start(t, w, p, "PAL_CONFIG="+userModuleConfig(t, w, name, wasm, tool, full))
		res, text := callTool(t, cs, tool, map[string]any{"path": w.root, "model": "gpt-5.2"})
		if res.IsError {
			t.Fatalf("%s: %s", tool, text)
		}
		for _, want := range []string{"answer number 1 from the loopback model", "MARKER-TODO-PARSE", "MARKER-TODO-IO"} {
			if !strings.Contains(text, want) {
				t.Errorf("result lacks %q:\n%s", want, text)
			}
		}
		reqs := p.requests()
		if len(reqs) != 1 {
			t.Fatalf("provider got %d requests, want 1", len(reqs))
		}
		for _, want := range []string{"MARKER-TODO-PARSE", "MARKER-TODO-IO"} {
			if !strings.Contains(reqs[0].User, want) {
				t.Errorf("the prompt lacks %q:\n%s", want, reqs[0].User)
			}
		}
		for _, never := range []string{"MARKER-TODO-OUTSIDE", "MARKER-DOTENV-77", "MARKER-OUTSIDE-99"} {
			if strings.Contains(reqs[0].Body, never) || strings.Contains(text, never) {
				t.Errorf("%s reached the model or the result", never)
			}
		}
		cs.Close()
		var reads int
		for _, r := range auditRecords(t, w) {
			if r["tool"] == tool && r["op"] == "fs.read" && r["decision"] == "allow" {
				reads++
			}
		}
		if reads < 2 {
			t.Errorf("audit log has %d allowed fs.read records for %s, want at least 2", reads, tool)
		}
	})

	t.Run("not granted model.generate", func(t *testing.T) {
		w := newWorkspace(t)
		addTodos(t, w)
		p := newProvider(t)
		cs := start(t, w, p, "PAL_CONFIG="+userModuleConfig(t, w, name, wasm, tool, []string{"fs.list", "fs.read"}))
		res, text := callTool(t, cs, tool, map[string]any{"path": w.root})
		want := `not_granted: tool "todo_finder" has no "model.generate" capability in this call (granted: {fs.read,fs.list})`
		// The example wrote the host's refusal into plain text of its own; the host put it in
		// the error shape (code tool_error: the text does not start with the reply code).
		_, code, content, tool, ok := abi.ParseFailure(text)
		if !res.IsError || !ok || tool != "todo_finder" || (code != abi.FailNotGranted && code != abi.FailToolError) || !strings.Contains(content, want) {
			t.Fatalf("want isError in the error shape with %q, got %v: %s", want, res.IsError, text)
		}
		if n := len(p.requests()); n != 0 {
			t.Errorf("the provider got %d requests", n)
		}
		cs.Close()
		var denied bool
		for _, r := range auditRecords(t, w) {
			if r["tool"] == tool && r["op"] == "model.generate" && r["decision"] == "deny" {
				denied = true
			}
		}
		if !denied {
			t.Errorf("no audit record of the refused model.generate")
		}
	})
}

// TestAssemblyScriptExample runs tools-wasm/examples/assemblyscript, built with the kit in
// tools-wasm/kits/assemblyscript, as a user module of the real server.
func TestAssemblyScriptExample(t *testing.T) {
	kitToolRuns(t, "todo-as", testwasm.LoadAS(t, "tools-wasm/examples/assemblyscript"))
}

// TestCExample runs tools-wasm/examples/c, built with the C kit in tools-wasm/kits/c (clang
// and wasi-libc), as a user module of the real server.
func TestCExample(t *testing.T) {
	kitToolRuns(t, "todo-c", testwasm.LoadC(t, "tools-wasm/examples/c"))
}

// TestExtismPlugin runs tools-wasm/examples/extism, an Extism plugin built with
// @extism/as-pdk, through the real server: pal's capabilities reach it through the pal_call
// host function, under the same grants, audit and loopback model as a native module.
func TestExtismPlugin(t *testing.T) {
	kitToolRuns(t, "extism-todo", testwasm.LoadAS(t, "tools-wasm/examples/extism"))
}

// TestExtismPluginPinAndABI: a plugin whose bytes differ from the pin stops the server with a
// message naming both hashes, and the same plugin loaded as a native module is refused.
func TestExtismPluginPinAndABI(t *testing.T) {
	wasm := testwasm.LoadAS(t, "tools-wasm/examples/extism")
	w := newWorkspace(t)
	cfg := userModuleConfig(t, w, "extism-pin", wasm, "todo_finder", []string{"fs.read"})
	if err := os.WriteFile(filepath.Join(w.stateDir, "extism-pin.wasm"), append(wasm, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	native := userModuleConfig(t, w, "native-pin", wasm, "todo_finder", []string{"fs.read"})
	for cfgPath, want := range map[string]string{cfg: "pinned", native: `is an Extism plugin (it imports extism:host/env): load it with abi = "extism"`} {
		cmd := exec.Command(palBin, "tools")
		cmd.Dir = w.root
		cmd.Env = serverEnv(w, newProvider(t), "PAL_CONFIG="+cfgPath)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), want) {
			t.Errorf("%s: want a refusal with %q, got %v:\n%s", filepath.Base(cfgPath), want, err, out)
		}
	}
}

// TestRustExample runs tools-wasm/examples/rust, built with the crate tools-wasm/kits/rust
// for wasm32-unknown-unknown (no WASI), as a user module of the real server.
func TestRustExample(t *testing.T) {
	kitToolRuns(t, "todo-rust", testwasm.LoadRust(t, "tools-wasm/examples/rust"))
}
