package pal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
)

// dispatch runs one handle request message and returns the result message. It never
// panics and always returns a CallToolResult the host accepts: every failure, including a
// panicking handler, becomes an isError result.
func dispatch(msg []byte) []byte { return dispatchContext(nil, msg) }

// dispatchContext is dispatch whose handler context parent also ends (nil: none).
func dispatchContext(parent context.Context, msg []byte) []byte {
	res := run(parent, msg)
	out, err := encodeResult(res)
	if err != nil {
		out, _ = encodeResult(abi.FailureResult(currentTool, abi.FailBadResult, "pal: the tool returned a result that cannot be sent: "+err.Error()))
	}
	return out
}

// currentTool names the tool of the request being dispatched, for the error shape.
var currentTool string

// run decodes the request, finds the tool and calls its handler. Every isError result it
// returns is in the error shape (abi.ShapeFailure), as the host would put it.
func run(parent context.Context, msg []byte) (res *Result) {
	currentTool = ""
	fail := func(code, text string) *Result { return abi.FailureResult(currentTool, code, text) }
	header, body, err := abi.Split(msg)
	if err != nil {
		return fail(abi.FailInternal, "pal: the handle request is not a JSON message")
	}
	if body != nil {
		return fail(abi.FailInternal, "pal: the handle request carries a body; ABI 1 has none")
	}
	var req abi.HandleRequest
	if err := json.Unmarshal(header, &req); err != nil {
		return fail(abi.FailInternal, "pal: the handle request is malformed: "+err.Error())
	}
	currentTool = req.Tool
	if req.ABI != abi.Version {
		return fail(abi.FailInternal, fmt.Sprintf("pal: this module speaks ABI %d; the host sent ABI %d", abi.Version, req.ABI))
	}
	tool, ok := lookup(req.Tool)
	if !ok {
		return fail(abi.FailInternal, fmt.Sprintf("pal: this module has no tool %q", req.Tool))
	}
	args := bytes.TrimSpace(req.Arguments)
	if len(args) == 0 || bytes.Equal(args, []byte("null")) {
		args = []byte("{}")
	}
	if args[0] != '{' {
		return fail(abi.FailInvalidArguments, fmt.Sprintf("%s: arguments must be a JSON object", tool.Name))
	}
	defer func() {
		if p := recover(); p != nil {
			Log(LevelError, fmt.Sprintf("tool %s panicked: %v\n%s", tool.Name, p, debug.Stack()))
			res = fail(abi.FailTrap, fmt.Sprintf("%s failed with an internal error: %v", tool.Name, p))
		}
	}()
	ctx := newCallContext(parent, time.Duration(req.TimeoutMS)*time.Millisecond)
	setCurrent(ctx)
	defer func() {
		setCurrent(nil)
		ctx.release()
	}()
	r, err := tool.Handler(ctx, &Call{Tool: tool.Name, CallID: req.CallID}, json.RawMessage(args))
	switch {
	case err != nil:
		return fail(FailureCode(err), err.Error())
	case r == nil:
		return fail(abi.FailBadResult, fmt.Sprintf("%s returned no result", tool.Name))
	}
	if r.Content == nil {
		r.Content = []Content{}
	}
	if err := r.Validate(); err != nil {
		return fail(abi.FailBadResult, fmt.Sprintf("%s returned an invalid result: %v", tool.Name, err))
	}
	abi.ShapeFailure(tool.Name, r)
	return r
}

// encodeResult encodes a result as the host expects it, without HTML escaping.
func encodeResult(r *Result) ([]byte, error) {
	s, err := marshalJSON(r)
	return []byte(s), err
}
