//go:build !wasip1

package pal

import (
	"context"
	"sync"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
)

// Host performs ops for tools running natively, in place of the wasm imports. Call takes a
// request message and returns the reply message exactly as docs/abi.md frames them; Log
// takes one diagnostic line. The paltest package provides one that implements every op.
type Host interface {
	Call(request []byte) []byte
	Log(level int, msg string)
}

var native struct {
	sync.Mutex
	host Host
}

// SetHost installs the host that ops go to. It is global: tests that install different
// hosts must not run in parallel.
func SetHost(h Host) {
	native.Lock()
	defer native.Unlock()
	native.host = h
}

func currentHost() Host {
	native.Lock()
	defer native.Unlock()
	return native.host
}

// Invoke runs one handle request message ({"abi":1,"tool":…,"call_id":…,"arguments":…})
// and returns the result message, as the handle export does in wasm.
func Invoke(request []byte) []byte { return dispatch(request) }

// InvokeContext is Invoke whose handler context also ends when ctx does, with ctx's error,
// and has ctx's deadline when that comes before the request's timeout_ms: natively a test can
// cancel a call from another goroutine (paltest.Host.InvokeContext).
func InvokeContext(ctx context.Context, request []byte) []byte { return dispatchContext(ctx, request) }

// hookParent makes c end when parent does, and no later than parent's deadline. It exists
// only natively: in wasm there is no parent, and context.AfterFunc would add about 90 KB to
// every module.
func (c *callContext) hookParent(parent context.Context) {
	if dl, ok := parent.Deadline(); ok && (c.deadline.IsZero() || dl.Before(c.deadline)) {
		c.deadline = dl
	}
	if parent.Done() != nil {
		c.stop = context.AfterFunc(parent, func() { c.end(parent.Err()) })
	}
}

// Describe returns the manifest JSON, as the describe export does in wasm.
func Describe() []byte { return describe() }

func sendToHost(req []byte) []byte {
	h := currentHost()
	if h == nil {
		return abi.Fail(abi.CodeInternal, "pal: no Host installed; call pal.SetHost first")
	}
	return h.Call(req)
}

func logToHost(level Level, msg string) {
	if h := currentHost(); h != nil {
		h.Log(int(level), msg)
	}
}
