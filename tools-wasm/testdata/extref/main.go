//go:build wasip1

// Command extref is a tool module whose input schemas point outside themselves: "fileref"
// refers to a file of the host and "httpref" to a URL. The host must refuse to load either
// reference (it would read the file or fetch the URL while compiling the schema), so a server
// given this module does not start. It talks the raw ABI with its own glue, like hostile.
package main

import (
	"encoding/json"
	"unsafe"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
)

func main() {}

// live keeps buffers handed to the host reachable; Go's collector does not move memory.
var live = map[uint32][]byte{}

//go:wasmexport alloc
func alloc(size uint32) uint32 {
	b := make([]byte, max(size, 1))
	p := uint32(uintptr(unsafe.Pointer(&b[0])))
	live[p] = b
	return p
}

//go:wasmexport free
func free(ptr uint32) { delete(live, ptr) }

func out(b []byte) uint64 {
	p := uint32(uintptr(unsafe.Pointer(&b[0])))
	live[p] = b
	return abi.Pack(p, uint32(len(b)))
}

// Schemas whose one property refers elsewhere. The file exists on every unix host and is not
// a schema; the URL's port is the discard port of the loopback interface.
var (
	fileRef = json.RawMessage(`{"type":"object","properties":{"p":{"$ref":"file:///etc/passwd"}}}`)
	httpRef = json.RawMessage(`{"type":"object","properties":{"p":{"$ref":"http://127.0.0.1:9/schema.json"}}}`)
)

//go:wasmexport describe
func describe() uint64 {
	ro := true
	spec := func(name string, schema json.RawMessage) abi.ToolSpec {
		return abi.ToolSpec{Name: name, Description: "external reference test tool " + name, InputSchema: schema,
			Annotations: abi.Annotations{ReadOnlyHint: &ro}}
	}
	m := abi.Manifest{ABI: abi.Version, Name: "extref", Version: "0", Tools: []abi.ToolSpec{
		spec("fileref", fileRef), spec("httpref", httpRef),
	}}
	b, _ := json.Marshal(m)
	return out(b)
}

//go:wasmexport handle
func handle(ptr, n uint32) uint64 {
	b, _ := json.Marshal(abi.Result{Content: []abi.Content{{Type: "text", Text: "unreachable"}}})
	return out(b)
}
