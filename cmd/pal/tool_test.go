package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wasmImport is one function import of a hand-built module: its module, name and signature.
type wasmImport struct {
	module, name    string
	params, results []byte // value types: 0x7f i32, 0x7e i64
}

var (
	importPalCall  = wasmImport{"pal", "call", []byte{0x7f, 0x7f}, []byte{0x7e}}
	importPalLog   = wasmImport{"pal", "log", []byte{0x7f, 0x7f, 0x7f}, nil}
	importFdWrite  = wasmImport{"wasi_snapshot_preview1", "fd_write", []byte{0x7f, 0x7f, 0x7f, 0x7f}, []byte{0x7f}}
	importPathOpen = wasmImport{"wasi_snapshot_preview1", "path_open",
		[]byte{0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7e, 0x7e, 0x7f, 0x7f}, []byte{0x7f}}
	importSockSend = wasmImport{"wasi_snapshot_preview1", "sock_send", []byte{0x7f, 0x7f, 0x7f, 0x7f, 0x7f}, []byte{0x7f}}
	importEnvAbort = wasmImport{"env", "abort", []byte{0x7f, 0x7f, 0x7f, 0x7f}, nil}
	importHTTP     = wasmImport{"extism:host/env", "http_request", []byte{0x7e, 0x7e}, []byte{0x7e}}
)

// testManifest is the manifest of the hand-built module: one tool, wordcount, declaring fs.read.
const testManifest = `{"abi":1,"name":"wordcount","version":"0.1.0","tools":[{"name":"wordcount","description":"Counts words.",` +
	`"inputSchema":{"type":"object"},"annotations":{},"capabilities":["fs.read"]}]}`

// abiModule builds the smallest ABI 1 module by hand: the given imports (never called), a
// memory, alloc returning a fixed buffer, free, describe returning testManifest from a data
// segment, and handle returning a fixed text result. It is real wasm that wazero compiles,
// instantiates and describes, as the server would.
func abiModule(imports ...wasmImport) []byte {
	result := `{"content":[{"type":"text","text":"3 words"}]}`
	const manPtr, resPtr = 1024, 8192
	uleb := func(b []byte, v uint64) []byte {
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
	sleb := func(b []byte, v int64) []byte {
		for {
			c := byte(v & 0x7f)
			v >>= 7
			if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
				return append(b, c)
			}
			b = append(b, c|0x80)
		}
	}
	str := func(b []byte, s string) []byte { return append(uleb(b, uint64(len(s))), s...) }
	section := func(out []byte, id byte, body []byte) []byte {
		return append(uleb(append(out, id), uint64(len(body))), body...)
	}
	vec := func(b []byte, ts []byte) []byte { return append(uleb(b, uint64(len(ts))), ts...) }

	// Types: one per import, then alloc (i32)->i32, free (i32)->(), describe ()->i64,
	// handle (i32 i32)->i64.
	own := []wasmImport{{params: []byte{0x7f}, results: []byte{0x7f}}, {params: []byte{0x7f}}, {results: []byte{0x7e}}, {params: []byte{0x7f, 0x7f}, results: []byte{0x7e}}}
	all := append(append([]wasmImport{}, imports...), own...)
	types := uleb(nil, uint64(len(all)))
	for _, f := range all {
		types = vec(vec(append(types, 0x60), f.params), f.results)
	}
	imps := uleb(nil, uint64(len(imports)))
	for i, im := range imports {
		imps = uleb(append(str(str(imps, im.module), im.name), 0x00), uint64(i))
	}
	funcs := uleb(nil, uint64(len(own)))
	for i := range own {
		funcs = uleb(funcs, uint64(len(imports)+i))
	}
	n := uint64(len(imports))
	exports := uleb(nil, 5)
	exports = append(str(exports, "memory"), 0x02, 0x00)
	for i, name := range []string{"alloc", "free", "describe", "handle"} {
		exports = uleb(append(str(exports, name), 0x00), n+uint64(i))
	}
	body := func(code ...byte) []byte {
		return append(uleb(nil, uint64(len(code)+1)), append([]byte{0x00}, code...)...)
	}
	code := uleb(nil, 4)
	code = append(code, body(append(sleb([]byte{0x41}, 4096), 0x0b)...)...)                                       // alloc
	code = append(code, body(0x0b)...)                                                                            // free
	code = append(code, body(append(sleb([]byte{0x42}, int64(manPtr)<<32|int64(len(testManifest))), 0x0b)...)...) // describe
	code = append(code, body(append(sleb([]byte{0x42}, int64(resPtr)<<32|int64(len(result))), 0x0b)...)...)       // handle
	data := uleb(nil, 2)
	for _, seg := range []struct {
		at int64
		s  string
	}{{manPtr, testManifest}, {resPtr, result}} {
		data = str(append(sleb(append(data, 0x00, 0x41), seg.at), 0x0b), seg.s)
	}

	out := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	out = section(out, 1, types)
	out = section(out, 2, imps)
	out = section(out, 3, funcs)
	out = section(out, 5, []byte{0x01, 0x00, 0x01}) // one memory, at least one page
	out = section(out, 7, exports)
	out = section(out, 10, code)
	return section(out, 11, data)
}

// writeModule writes wasm to dir/name and returns its path and sha256.
func writeModule(t *testing.T, dir, name string, wasm []byte) (string, string) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(wasm)
	return path, hex.EncodeToString(sum[:])
}

func TestToolCheckAcceptsAModuleWithinTheABI(t *testing.T) {
	work := isolate(t)
	path, hash := writeModule(t, work, "wordcount.wasm", abiModule(importPalCall, importPalLog, importFdWrite))
	code, out, errOut := invoke("tool", "check", path)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"sha256  " + hash,
		"abi     pal 1",
		"ok       pal.call", "ok       pal.log", "ok       wasi_snapshot_preview1.fd_write",
		"manifest wordcount 0.1.0", "wordcount: Counts words.", "declares: fs.read",
		"granted:  nothing yet",
		"[[modules]]\npath = \"" + path + "\"\nsha256 = \"" + hash + "\"\n",
		"[tools.wordcount]\ncapabilities = [\"fs.read\"]",
		"ok: pal would load this module",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "abi = ") {
		t.Errorf("a native module's lines name an abi:\n%s", out)
	}
	// The same with the right -sha256 passes.
	if code, out, errOut := invoke("tool", "check", "-sha256", hash, path); code != 0 {
		t.Fatalf("right -sha256: exit %d\n%s\n%s", code, out, errOut)
	}
}

// The refusals the issue names, each with its message: WASI file access, an unknown host
// module, a hash mismatch (against -sha256 and against a pal.toml pin); and the rest of the
// WASI path and socket functions and Extism's network.
func TestToolCheckRefuses(t *testing.T) {
	work := isolate(t)
	good := abiModule(importPalCall)
	goodPath, goodHash := writeModule(t, work, "good.wasm", good)
	other := strings.Repeat("0", 64)
	conf := filepath.Join(work, "pinned.toml")
	if err := os.WriteFile(conf, []byte("[[modules]]\npath = \"good.wasm\"\nsha256 = \""+other+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		wasm      []byte // nil: good.wasm
		args      []string
		stdout    []string
		stderr    []string
		pasteLine bool // the [[modules]] lines are printed
	}{
		{name: "path_open", wasm: abiModule(importPalCall, importPathOpen),
			stdout: []string{"refused  wasi_snapshot_preview1.path_open", "manifest wordcount"},
			stderr: []string{"refused: imports wasi_snapshot_preview1.path_open: it opens or changes a file by path", "no preopened directory", "fs.read"}},
		{name: "socket", wasm: abiModule(importSockSend),
			stdout: []string{"refused  wasi_snapshot_preview1.sock_send"},
			stderr: []string{"refused: imports wasi_snapshot_preview1.sock_send: it uses a socket"}},
		{name: "unknown host module", wasm: abiModule(importPalCall, importEnvAbort),
			stdout: []string{"refused  env.abort"},
			stderr: []string{`refused: imports env.abort: not provided by pal: unknown host module "env"`, `only "pal" (call, log) and wasi_snapshot_preview1`}},
		{name: "unknown pal function", wasm: abiModule(wasmImport{"pal", "exec", []byte{0x7f}, nil}),
			stderr: []string{`refused: imports pal.exec: not provided by pal; the "pal" module has only "call" and "log"`}},
		{name: "sha256 flag mismatch", args: []string{"-sha256", other},
			stderr: []string{"refused: sha256 mismatch: " + goodPath + " has sha256 " + goodHash + ", -sha256 says " + other}},
		{name: "pal.toml pin mismatch", args: []string{"-config", conf}, pasteLine: true,
			stderr: []string{"refused: sha256 mismatch: " + goodPath + " has sha256 " + goodHash + ", but the config file " + conf + " pins " + other,
				"refuses it until the new hash is pinned"}},
		{name: "extism network", wasm: abiModule(importHTTP),
			stdout: []string{"abi     extism", "refused  extism:host/env.http_request"},
			stderr: []string{"refused: imports extism:host/env.http_request: pal gives plugins no network"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := goodPath
			if tc.wasm != nil {
				path, _ = writeModule(t, t.TempDir(), "m.wasm", tc.wasm)
			}
			code, out, errOut := invoke(append(append([]string{"tool", "check"}, tc.args...), path)...)
			if code != 1 {
				t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			for _, want := range tc.stdout {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			for _, want := range tc.stderr {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
			if strings.Contains(out, "ok: pal would load") {
				t.Errorf("refused module reported ok:\n%s", out)
			}
			if got := strings.Contains(out, "[[modules]]"); got != tc.pasteLine {
				t.Errorf("[[modules]] lines printed: %v, want %v:\n%s", got, tc.pasteLine, out)
			}
			if tc.pasteLine && !strings.Contains(out, `sha256 = "`+goodHash+`"`) {
				t.Errorf("the lines to paste do not pin the file's hash:\n%s", out)
			}
		})
	}
}

func TestToolCheckBadCommandLines(t *testing.T) {
	isolate(t)
	for _, args := range [][]string{{"tool"}, {"tool", "frob"}, {"tool", "check"}, {"tool", "check", "a.wasm", "b.wasm"}} {
		if code, _, errOut := invoke(args...); code != 2 || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
	if code, _, errOut := invoke("tool", "check", "missing.wasm"); code != 1 || !strings.Contains(errOut, "missing.wasm") {
		t.Errorf("missing file: exit %d, %q", code, errOut)
	}
	junk := filepath.Join(t.TempDir(), "junk.wasm")
	os.WriteFile(junk, []byte("not wasm"), 0o644)
	if code, _, errOut := invoke("tool", "check", junk); code != 1 || !strings.Contains(errOut, "not a WebAssembly module") {
		t.Errorf("junk: exit %d, %q", code, errOut)
	}
}

func TestCallBadCommandLines(t *testing.T) {
	isolate(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"call"}, "usage: pal call TOOL"},
		{[]string{"call", "chat", "extra"}, "usage: pal call TOOL"},
		{[]string{"call", "chat", "-args", "[1]"}, "JSON object"},
		{[]string{"call", "chat", "-args", "{"}, "JSON object"},
		{[]string{"call", "chat", "-bogus"}, "bogus"},
	}
	for _, tc := range cases {
		if code, out, errOut := invoke(tc.args...); code != 2 || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", tc.args, code, out, errOut)
		}
	}
}
