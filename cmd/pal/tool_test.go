package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/internal/testwasm"
)

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
	path, hash := writeModule(t, work, "wordcount.wasm", testwasm.ABIModule(testwasm.ImportPalCall, testwasm.ImportPalLog, testwasm.ImportFdWrite))
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
	good := testwasm.ABIModule(testwasm.ImportPalCall)
	goodPath, goodHash := writeModule(t, work, "good.wasm", good)
	other := strings.Repeat("0", 64)
	conf := filepath.Join(work, "pinned.toml")
	if err := os.WriteFile(conf, []byte("[[modules]]\npath = \"good.wasm\"\nsha256 = \""+other+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mods := filepath.Join(work, "mods")
	os.Mkdir(mods, 0o700)
	inDir, _ := writeModule(t, mods, "wc.wasm", good)
	dirConf := filepath.Join(work, "dir.toml")
	if err := os.WriteFile(dirConf, []byte("[user_modules]\ndir = \"mods\"\n[user_modules.pins]\n\"wc.wasm\" = \""+other+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		wasm      []byte // nil: good.wasm
		path      string // the module's path when not good.wasm or wasm
		args      []string
		stdout    []string
		stderr    []string
		pasteLine bool // the [[modules]] lines are printed
	}{
		{name: "path_open", wasm: testwasm.ABIModule(testwasm.ImportPalCall, testwasm.ImportPathOpen),
			stdout: []string{"refused  wasi_snapshot_preview1.path_open", "manifest wordcount"},
			stderr: []string{"refused: imports wasi_snapshot_preview1.path_open: it opens or changes a file by path", "no preopened directory", "fs.read"}},
		{name: "socket", wasm: testwasm.ABIModule(testwasm.ImportSockSend),
			stdout: []string{"refused  wasi_snapshot_preview1.sock_send"},
			stderr: []string{"refused: imports wasi_snapshot_preview1.sock_send: it uses a socket"}},
		{name: "unknown host module", wasm: testwasm.ABIModule(testwasm.ImportPalCall, testwasm.ImportEnvAbort),
			stdout: []string{"refused  env.abort"},
			stderr: []string{`refused: imports env.abort: not provided by pal: unknown host module "env"`, `only "pal" (call, log) and wasi_snapshot_preview1`}},
		{name: "unknown pal function", wasm: testwasm.ABIModule(testwasm.Import{Module: "pal", Name: "exec", Params: []byte{0x7f}}),
			stderr: []string{`refused: imports pal.exec: not provided by pal; the "pal" module has only "call" and "log"`}},
		{name: "sha256 flag mismatch", args: []string{"-sha256", other},
			stderr: []string{"refused: sha256 mismatch: " + goodPath + " has sha256 " + goodHash + ", -sha256 says " + other}},
		{name: "pal.toml pin mismatch", args: []string{"-config", conf}, pasteLine: true,
			stderr: []string{"refused: sha256 mismatch: " + goodPath + " has sha256 " + goodHash + ", but the config file " + conf + " pins " + other,
				"refuses it until the new hash is pinned"}},
		{name: "user_modules pin mismatch", path: inDir, args: []string{"-config", dirConf}, pasteLine: true,
			stdout: []string{"[user_modules.pins]\n\"wc.wasm\" = \"" + goodHash + "\""},
			stderr: []string{"refused: sha256 mismatch: " + inDir + " has sha256 " + goodHash + ", but [user_modules.pins] (config file " + dirConf + ") pins " + other}},
		{name: "a billion tables in 26 bytes", wasm: []byte("\x00asm\x01\x00\x00\x00\x04\x04\xff\xff\xff\x80\x05\x03000\a\x05\x01\x01000"),
			stderr: []string{"is not a WebAssembly module pal can compile", "module sections are malformed: section 4"}},
		{name: "extism network", wasm: testwasm.ABIModule(testwasm.ImportExtismHTTP),
			stdout: []string{"abi     extism", "refused  extism:host/env.http_request"},
			stderr: []string{"refused: imports extism:host/env.http_request: pal gives plugins no network"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := goodPath
			if tc.path != "" {
				path = tc.path
			}
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
			if got := strings.Contains(out, "# paste into"); got != tc.pasteLine {
				t.Errorf("[[modules]] lines printed: %v, want %v:\n%s", got, tc.pasteLine, out)
			}
			if i := strings.Index(out, "# paste into"); tc.pasteLine && !strings.Contains(out[i:], `"`+goodHash+`"`) {
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

// pal tool new: the flags anywhere, ./NAME by default, and every refusal of a hostile or
// mistaken command line, with nothing written.
func TestToolNew(t *testing.T) {
	work := isolate(t)
	code, out, errOut := invoke("tool", "new", "c", "wc")
	if code != 0 || !strings.Contains(out, "wrote wc") || !strings.Contains(out, "make test") || !strings.Contains(out, "pal tool check wc.wasm") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, f := range []string{"wc.c", "wc_test.c", "Makefile", "README.md", "kit/pal.h"} {
		if _, err := os.Stat(filepath.Join(work, "wc", f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	dir := filepath.Join(t.TempDir(), "deep", "as")
	if code, out, errOut := invoke("tool", "new", "assemblyscript", "-dir", dir, "counter"); code != 0 || !strings.Contains(out, "npm test") {
		t.Fatalf("-dir between the arguments: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "test", "counter.test.js")); err != nil {
		t.Error(err)
	}
	if code, _, errOut := invoke("tool", "new", "-dir", filepath.Join(t.TempDir(), "r"), "rust", "lines"); code != 0 {
		t.Fatalf("-dir first: exit %d, %s", code, errOut)
	}

	before, _ := os.ReadDir(work)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"tool", "new"}, 2, "usage: pal tool new"},
		{[]string{"tool", "new", "go"}, 2, "usage: pal tool new"},
		{[]string{"tool", "new", "go", "a", "b"}, 2, "usage: pal tool new"},
		{[]string{"tool", "new", "go", "x", "-bogus"}, 2, "bogus"},
		{[]string{"tool", "new", "cobol", "x"}, 2, `unknown language "cobol"`},
		{[]string{"tool", "new", "go", "../up"}, 2, `invalid tool name "../up"`},
		{[]string{"tool", "new", "go", "/etc/x"}, 2, "invalid tool name"},
		{[]string{"tool", "new", "go", "Bad"}, 2, "invalid tool name"},
		{[]string{"tool", "new", "go", strings.Repeat("a", 64)}, 2, "invalid tool name"},
		{[]string{"tool", "new", "rust", "a.b"}, 2, "invalid tool name"},
		{[]string{"tool", "new", "go", "aux"}, 2, "a device name on Windows"},
		{[]string{"tool", "new", "go", "wc"}, 1, "not empty"}, // ./wc holds the C project
		{[]string{"tool", "new", "go", "other", "-dir", "wc"}, 1, "not empty"},
		{[]string{"tool", "new", "go", "other", "-dir", filepath.Join("wc", "wc.c")}, 1, "not a directory"},
	}
	for _, tc := range cases {
		if code, out, errOut := invoke(tc.args...); code != tc.code || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d (want %d), stdout %q, stderr %q (want %q)", tc.args, code, tc.code, out, errOut, tc.want)
		}
	}
	if after, _ := os.ReadDir(work); len(after) != len(before) {
		t.Errorf("a refused pal tool new wrote into %s: %v", work, after)
	}
	if entries, _ := os.ReadDir(filepath.Join(work, "wc")); len(entries) != 6 {
		t.Errorf("the existing project was changed: %v", entries)
	}
	if code, out, _ := invoke("tool", "new", "-h"); code != 0 || !strings.Contains(out, "usage: pal tool new") {
		t.Errorf("-h: exit %d, %q", code, out)
	}
}
