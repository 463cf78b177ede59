//go:build wasip1

package pal

import (
	"context"
	"runtime"
	"unsafe"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
)

//go:wasmimport pal call
func hostCall(ptr unsafe.Pointer, n uint32) uint64

//go:wasmimport pal log
func hostLog(level int32, msg string)

// live keeps every buffer the host can see reachable: those alloc handed out and not yet
// taken back, and the last result of describe or handle. Go's collector does not move
// objects, so a pointer stays valid while its slice is referenced here.
var live = map[uint32][]byte{}

// lastOut is the buffer describe or handle returned; it stays valid until the next entry.
var lastOut []byte

// allocCeiling bounds one alloc; larger asks return 0 instead of a runtime panic.
const allocCeiling = 1 << 30

//go:wasmexport alloc
func guestAlloc(size uint32) uint32 {
	if size > allocCeiling {
		return 0
	}
	b := make([]byte, max(size, 1))
	p := uint32(uintptr(unsafe.Pointer(&b[0])))
	live[p] = b
	return p
}

//go:wasmexport free
func guestFree(ptr uint32) { delete(live, ptr) }

//go:wasmexport describe
func guestDescribe() uint64 { return publish(describe()) }

//go:wasmexport handle
func guestHandle(ptr, n uint32) uint64 {
	req, ok := take(ptr, n)
	if !ok {
		req = nil // dispatch answers with an isError result
	}
	return publish(dispatch(req))
}

// publish keeps out alive until the next entry and returns it packed.
func publish(out []byte) uint64 {
	if len(out) == 0 {
		out = []byte("{}")
	}
	lastOut = out
	return abi.Pack(uint32(uintptr(unsafe.Pointer(&out[0]))), uint32(len(out)))
}

// take returns the n bytes the host wrote at ptr into a buffer from alloc, hands the
// buffer over without a copy and forgets it in live. A pointer alloc did not hand out, or
// a length past its buffer, is refused: the host must place messages through alloc.
func take(ptr, n uint32) ([]byte, bool) {
	b, ok := live[ptr]
	if !ok || int(n) > len(b) {
		return nil, false
	}
	delete(live, ptr)
	return b[:n:n], true
}

func sendToHost(req []byte) []byte {
	if len(req) == 0 {
		return nil
	}
	packed := hostCall(unsafe.Pointer(&req[0]), uint32(len(req)))
	runtime.KeepAlive(req)
	if packed == 0 {
		return nil
	}
	reply, ok := take(abi.Unpack(packed))
	if !ok {
		return abi.Fail(abi.CodeInternal, "pal: the host placed its reply outside a buffer from alloc")
	}
	return reply
}

func logToHost(level Level, msg string) { hostLog(int32(level), msg) }

// hookParent does nothing: a wasm call has no parent context (see host_native.go).
func (c *callContext) hookParent(context.Context) {}
