package pal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime/debug"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
)

// dispatch runs one handle request message and returns the result message. It never
// panics and always returns a CallToolResult the host accepts: every failure, including a
// panicking handler, becomes an isError result.
func dispatch(msg []byte) []byte {
	res := run(msg)
	out, err := encodeResult(res)
	if err != nil {
		out, _ = encodeResult(ErrorResult("pal: the tool returned a result that cannot be sent: " + err.Error()))
	}
	return out
}

// run decodes the request, finds the tool and calls its handler.
func run(msg []byte) (res *Result) {
	header, body, err := abi.Split(msg)
	if err != nil {
		return ErrorResult("pal: the handle request is not a JSON message")
	}
	if body != nil {
		return ErrorResult("pal: the handle request carries a body; ABI 1 has none")
	}
	var req abi.HandleRequest
	if err := json.Unmarshal(header, &req); err != nil {
		return ErrorResult("pal: the handle request is malformed: " + err.Error())
	}
	if req.ABI != abi.Version {
		return ErrorResult(fmt.Sprintf("pal: this module speaks ABI %d; the host sent ABI %d", abi.Version, req.ABI))
	}
	tool, ok := lookup(req.Tool)
	if !ok {
		return ErrorResult(fmt.Sprintf("pal: this module has no tool %q", req.Tool))
	}
	args := bytes.TrimSpace(req.Arguments)
	if len(args) == 0 || bytes.Equal(args, []byte("null")) {
		args = []byte("{}")
	}
	if args[0] != '{' {
		return ErrorResult(fmt.Sprintf("%s: arguments must be a JSON object", tool.Name))
	}
	defer func() {
		if p := recover(); p != nil {
			Log(LevelError, fmt.Sprintf("tool %s panicked: %v\n%s", tool.Name, p, debug.Stack()))
			res = ErrorResult(fmt.Sprintf("%s failed with an internal error: %v", tool.Name, p))
		}
	}()
	r, err := tool.Handler(&Call{Tool: tool.Name, CallID: req.CallID}, json.RawMessage(args))
	switch {
	case err != nil:
		return ErrorResult(err.Error())
	case r == nil:
		return ErrorResult(fmt.Sprintf("%s returned no result", tool.Name))
	}
	if r.Content == nil {
		r.Content = []Content{}
	}
	if err := r.Validate(); err != nil {
		return ErrorResult(fmt.Sprintf("%s returned an invalid result: %v", tool.Name, err))
	}
	return r
}

// encodeResult encodes a result as the host expects it, without HTML escaping.
func encodeResult(r *Result) ([]byte, error) {
	s, err := marshalJSON(r)
	return []byte(s), err
}
