package extism

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pal-mcp/pal/runtime"
)

// Hostile plugins, assembled by hand: each describes itself with a valid manifest (so it
// loads) and does one thing in handle that pal must contain.

// Imported functions of every hostile plugin, by index.
const (
	fnAlloc = iota
	fnStoreU8
	fnOutputSet
	fnErrorSet
	fnVarSet
	fnConfigGet
	fnImports // the first index of the plugin's own functions: put, describe, handle
)

const (
	fnPut = fnImports + iota
	fnDescribe
	fnHandle
)

// okResult is the result a hostile plugin returns when it gets past its attack.
const okResult = `{"content":[{"type":"text","text":"got through"}]}`

// hostile assembles a plugin whose handle runs handleCode (wasm instructions, without the
// final end) and whose describe returns manifest. The data segment at 0 holds manifest, then
// okResult; put(ptr, len) -> offset copies plugin memory into a new Extism block.
func hostile(manifest string, handleCode []byte) []byte {
	return hostileMemory(manifest, handleCode, 1)
}

// hostileMemory is hostile with a memory of pages initial pages (at most 16383).
func hostileMemory(manifest string, handleCode []byte, pages int) []byte {
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
	name := func(b []byte, s string) []byte { return append(uleb(b, uint64(len(s))), s...) }
	section := func(out []byte, id byte, body []byte) []byte {
		return append(uleb(append(out, id), uint64(len(body))), body...)
	}
	const i32, i64 = 0x7f, 0x7e
	types := [][2][]byte{
		{nil, {i32}},        // 0: () -> i32
		{{i64}, {i64}},      // 1: alloc, config_get
		{{i64, i32}, nil},   // 2: store_u8
		{{i64, i64}, nil},   // 3: output_set, var_set
		{{i64}, nil},        // 4: error_set
		{{i32, i32}, {i64}}, // 5: put
	}
	var ts []byte
	ts = uleb(ts, uint64(len(types)))
	for _, t := range types {
		ts = append(ts, 0x60)
		ts = append(uleb(ts, uint64(len(t[0]))), t[0]...)
		ts = append(uleb(ts, uint64(len(t[1]))), t[1]...)
	}
	imports := []struct {
		name string
		typ  byte
	}{{"alloc", 1}, {"store_u8", 2}, {"output_set", 3}, {"error_set", 4}, {"var_set", 3}, {"config_get", 1}}
	var imp []byte
	imp = uleb(imp, uint64(len(imports)))
	for _, i := range imports {
		imp = append(name(name(imp, envNamespace), i.name), 0, i.typ)
	}
	out := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	out = section(out, 1, ts)
	out = section(out, 2, imp)
	out = section(out, 3, []byte{3, 5, 0, 0})                // put, describe, handle
	out = section(out, 5, uleb([]byte{1, 0}, uint64(pages))) // one memory
	var exp []byte
	exp = uleb(exp, 3)
	exp = append(name(exp, "memory"), 2, 0)
	exp = uleb(append(name(exp, ExportDescribe), 0), fnDescribe)
	exp = uleb(append(name(exp, ExportHandle), 0), fnHandle)
	out = section(out, 7, exp)

	put := []byte{2, 1, i64, 1, i32, // locals 2: off i64, 3: i i32
		0x20, 1, 0xad, 0x10, fnAlloc, 0x21, 2, // off = alloc(len)
		0x02, 0x40, 0x03, 0x40, // block, loop
		0x20, 3, 0x20, 1, 0x4f, 0x0d, 1, // if i >= len: break
		0x20, 2, 0x20, 3, 0xad, 0x7c, // off + i
		0x20, 0, 0x20, 3, 0x6a, 0x2d, 0, 0, // mem[ptr + i]
		0x10, fnStoreU8,
		0x20, 3, 0x41, 1, 0x6a, 0x21, 3, // i++
		0x0c, 0, 0x0b, 0x0b, // br loop; end; end
		0x20, 2, 0x0b}
	describe := append([]byte{0}, returnOutput(0, len(manifest))...)
	describe = append(describe, 0x41, 0, 0x0b)
	handle := append(append([]byte{0}, handleCode...), 0x0b)
	var code []byte
	code = uleb(code, 3)
	for _, body := range [][]byte{put, describe, handle} {
		code = append(uleb(code, uint64(len(body))), body...)
	}
	out = section(out, 10, code)
	data := manifest + okResult
	seg := []byte{1, 0, 0x41, 0, 0x0b}
	seg = append(uleb(seg, uint64(len(data))), data...)
	return section(out, 11, seg)
}

// sleb encodes v as a signed LEB128, for i32.const and i64.const.
func sleb(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// returnOutput is code that sets the output to plugin memory [ptr, ptr+n).
func returnOutput(ptr, n int) []byte {
	c := append([]byte{0x41}, sleb(int64(ptr))...)
	c = append(append(c, 0x41), sleb(int64(n))...)
	c = append(c, 0x10, fnPut, 0x42)
	return append(append(c, sleb(int64(n))...), 0x10, fnOutputSet)
}

// block is code that pushes the offset of a new, zeroed Extism block of n bytes.
func block(n int) []byte { return append(append([]byte{0x42}, sleb(int64(n))...), 0x10, fnAlloc) }

const hostileManifest = `{"abi":1,"name":"hostile","version":"0.1.0","tools":[{"name":"attack","description":"d","inputSchema":{"type":"object"}}]}`

func loadHostile(t *testing.T, manifest string, handle []byte) *Plugin {
	t.Helper()
	p, err := Load(context.Background(), limits(), "hostile.wasm", hostile(manifest, handle), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

func attack(t *testing.T, p *Plugin, timeout time.Duration) (string, error) {
	t.Helper()
	res, _, err := p.Invoke(context.Background(), runtime.Call{Tool: "attack", Arguments: json.RawMessage(`{}`), Host: &fakeHost{}, Timeout: timeout})
	if err != nil {
		return "", err
	}
	b, _ := json.Marshal(res)
	return string(b), nil
}

func TestHostilePluginsAreContained(t *testing.T) {
	okAt := len(hostileManifest)
	succeed := append(returnOutput(okAt, len(okResult)), 0x41, 0)
	// The plugin's own answer when its attack did nothing: proves the attack ran.
	if got, err := attack(t, loadHostile(t, hostileManifest, succeed), 0); err != nil || !strings.Contains(got, "got through") {
		t.Fatalf("the harmless plugin: %s, %v", got, err)
	}
	big := int(limits().OutputLimitBytes) + 1
	cases := []struct {
		name string
		code []byte
		want error
	}{
		// memory.grow 2000 pages (125 MiB, over the 64 MiB cap), then trap on the failure.
		{"memory over the cap", []byte{0x41, 0xd0, 0x0f, 0x40, 0, 0x1a, 0x00}, runtime.ErrMemoryCap},
		// output_set of a block one byte over the output cap.
		{"output over the cap", append(append(block(big), 0x42), append(sleb(int64(big)), 0x10, fnOutputSet, 0x41, 0)...), runtime.ErrOutputCap},
		// error_set of a message one byte over the output cap, and a non-zero return.
		{"error message over the cap", append(block(big), 0x10, fnErrorSet, 0x41, 1), runtime.ErrOutputCap},
		// var_set of a value over the variable store's 1 MiB: the store refuses it.
		{"variable store over its cap", append(append(block(1), block(2<<20)...), 0x10, fnVarSet, 0x41, 0), runtime.ErrTrap},
		// An endless loop: the call's deadline stops it.
		{"endless loop", []byte{0x03, 0x40, 0x0c, 0, 0x0b, 0x00}, runtime.ErrDeadline},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := attack(t, loadHostile(t, hostileManifest, tc.code), time.Second)
			if !errors.Is(err, tc.want) {
				t.Fatalf("want %v, got result %.200s, error %v", tc.want, got, err)
			}
		})
	}
}

// TestPluginErrorIsItsOwn: a plugin's error_set message, with a non-zero return, reaches the
// client as an isError result, and nothing else does.
func TestPluginErrorIsItsOwn(t *testing.T) {
	// error_set(the okResult text), return 1.
	code := append([]byte{0x41}, sleb(int64(len(hostileManifest)))...)
	code = append(append(code, 0x41), sleb(int64(len(okResult)))...)
	code = append(code, 0x10, fnPut, 0x10, fnErrorSet, 0x41, 1)
	res, _, err := loadHostile(t, hostileManifest, code).Invoke(context.Background(), runtime.Call{Tool: "attack", Arguments: json.RawMessage(`{}`), Host: &fakeHost{}})
	if err != nil || !res.IsError || res.Content[0].Text != okResult {
		t.Fatalf("want an isError result with the plugin's message, got %+v, %v", res, err)
	}
}

// TestInitialMemoryOverTheCapIsRefused: a plugin cannot start with more memory than the cap.
func TestInitialMemoryOverTheCapIsRefused(t *testing.T) {
	pages := int(limits().MemoryLimitBytes>>16) + 1
	_, err := Load(context.Background(), limits(), "hostile.wasm", hostileMemory(hostileManifest, []byte{0x41, 0}, pages), "")
	if !errors.Is(err, runtime.ErrBadModule) || !strings.Contains(err.Error(), "over limit") {
		t.Fatalf("want ErrBadModule for %d initial pages, got %v", pages, err)
	}
	// One page fewer loads.
	p, err := Load(context.Background(), limits(), "hostile.wasm", hostileMemory(hostileManifest, []byte{0x41, 0}, pages-1), "")
	if err != nil {
		t.Fatalf("%d pages: %v", pages-1, err)
	}
	p.Close(context.Background())
}

// TestConfigIsEmpty: pal gives a plugin no Extism configuration; config_get of any key is 0.
func TestConfigIsEmpty(t *testing.T) {
	// if config_get(block of 1 byte) != 0 { unreachable }; then the harmless answer.
	code := append(block(1), 0x10, fnConfigGet, 0x42, 0, 0x52, 0x04, 0x40, 0x00, 0x0b)
	code = append(code, append(returnOutput(len(hostileManifest), len(okResult)), 0x41, 0)...)
	if got, err := attack(t, loadHostile(t, hostileManifest, code), 0); err != nil || !strings.Contains(got, "got through") {
		t.Fatalf("config_get: %s, %v", got, err)
	}
}

// TestManifestWithUnknownOpIsRefused: a plugin cannot ask for a capability pal does not have.
func TestManifestWithUnknownOpIsRefused(t *testing.T) {
	man := `{"abi":1,"name":"hostile","version":"0.1.0","tools":[{"name":"attack","description":"d","inputSchema":{"type":"object"},"capabilities":["net.fetch"]}]}`
	_, err := Load(context.Background(), limits(), "hostile.wasm", hostile(man, []byte{0x41, 0}), "")
	if !errors.Is(err, runtime.ErrBadModule) || !strings.Contains(err.Error(), "net.fetch") {
		t.Fatalf("want ErrBadModule naming net.fetch, got %v", err)
	}
}

// TestWASIOutputEnvIsRefused: with EXTISM_ENABLE_WASI_OUTPUT set, go-sdk would hand a WASI
// plugin pal's stdout, the MCP stream; such a plugin is refused, and one without WASI is not.
func TestWASIOutputEnvIsRefused(t *testing.T) {
	t.Setenv(wasiOutputEnv, "1")
	wasi := module([][2]string{{wasiNamespace, "fd_write"}}, "describe", "handle")
	_, err := Load(context.Background(), limits(), "wasi.wasm", wasi, "")
	if !errors.Is(err, runtime.ErrBadModule) || !strings.Contains(err.Error(), wasiOutputEnv) {
		t.Fatalf("want ErrBadModule naming %s, got %v", wasiOutputEnv, err)
	}
	p, err := Load(context.Background(), limits(), "hostile.wasm", hostile(hostileManifest, []byte{0x41, 0}), "")
	if err != nil {
		t.Fatalf("a plugin without WASI: %v", err)
	}
	p.Close(context.Background())
}
