package testwasm

// This file builds tiny ABI 1 modules byte by byte, for tests that need real wasm (compiled,
// instantiated and described by wazero) with chosen imports and no toolchain.

// Import is one function import of a hand-built module: its module, name and signature.
type Import struct {
	Module, Name    string
	Params, Results []byte // value types: 0x7f i32, 0x7e i64
}

var (
	ImportPalCall  = Import{"pal", "call", []byte{0x7f, 0x7f}, []byte{0x7e}}
	ImportPalLog   = Import{"pal", "log", []byte{0x7f, 0x7f, 0x7f}, nil}
	ImportFdWrite  = Import{"wasi_snapshot_preview1", "fd_write", []byte{0x7f, 0x7f, 0x7f, 0x7f}, []byte{0x7f}}
	ImportPathOpen = Import{"wasi_snapshot_preview1", "path_open",
		[]byte{0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7e, 0x7e, 0x7f, 0x7f}, []byte{0x7f}}
	ImportSockSend   = Import{"wasi_snapshot_preview1", "sock_send", []byte{0x7f, 0x7f, 0x7f, 0x7f, 0x7f}, []byte{0x7f}}
	ImportEnvAbort   = Import{"env", "abort", []byte{0x7f, 0x7f, 0x7f, 0x7f}, nil}
	ImportExtismHTTP = Import{"extism:host/env", "http_request", []byte{0x7e, 0x7e}, []byte{0x7e}}
)

// TinyManifest is the manifest of the hand-built module: one tool, wordcount, declaring fs.read.
const TinyManifest = `{"abi":1,"name":"wordcount","version":"0.1.0","tools":[{"name":"wordcount","description":"Counts words.",` +
	`"inputSchema":{"type":"object"},"annotations":{},"capabilities":["fs.read"]}]}`

// ABIModule builds the smallest ABI 1 module by hand: the given imports (never called), a
// memory, alloc returning a fixed buffer, free, describe returning TinyManifest from a data
// segment, and handle returning a fixed text result. It is real wasm that wazero compiles,
// instantiates and describes, as the server would.
func ABIModule(imports ...Import) []byte {
	return ABIModuleResult(`{"content":[{"type":"text","text":"3 words"}]}`, imports...)
}

// ABIModuleResult is ABIModule whose handle returns result (a CallToolResult's JSON, at most
// a few KiB) instead: a tool in a language without pal's Go kit, such as one answering with a
// plain-text isError result.
func ABIModuleResult(result string, imports ...Import) []byte {
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
	own := []Import{{Params: []byte{0x7f}, Results: []byte{0x7f}}, {Params: []byte{0x7f}}, {Results: []byte{0x7e}}, {Params: []byte{0x7f, 0x7f}, Results: []byte{0x7e}}}
	all := append(append([]Import{}, imports...), own...)
	types := uleb(nil, uint64(len(all)))
	for _, f := range all {
		types = vec(vec(append(types, 0x60), f.Params), f.Results)
	}
	imps := uleb(nil, uint64(len(imports)))
	for i, im := range imports {
		imps = uleb(append(str(str(imps, im.Module), im.Name), 0x00), uint64(i))
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
	code = append(code, body(append(sleb([]byte{0x42}, int64(manPtr)<<32|int64(len(TinyManifest))), 0x0b)...)...) // describe
	code = append(code, body(append(sleb([]byte{0x42}, int64(resPtr)<<32|int64(len(result))), 0x0b)...)...)       // handle
	data := uleb(nil, 2)
	for _, seg := range []struct {
		at int64
		s  string
	}{{manPtr, TinyManifest}, {resPtr, result}} {
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
