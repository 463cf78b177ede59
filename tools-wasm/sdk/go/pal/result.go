package pal

import (
	"bytes"
	"encoding/json"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
)

// Result is an MCP CallToolResult, what a handler returns.
type Result = abi.Result

// Content is one content item of a Result: text, image, audio or resource.
type Content = abi.Content

// TextResult returns a successful result holding one text item.
func TextResult(text string) *Result {
	return &Result{Content: []Content{{Type: "text", Text: text}}}
}

// ErrorResult returns an isError result holding one text item.
func ErrorResult(text string) *Result {
	return &Result{Content: []Content{{Type: "text", Text: text}}, IsError: true}
}

// JSONResult returns a successful result whose one text item is v as compact JSON, with
// <, > and & left as they are.
func JSONResult(v any) (*Result, error) {
	text, err := marshalJSON(v)
	if err != nil {
		return nil, err
	}
	return TextResult(text), nil
}

// JSONErrorResult is JSONResult with isError set.
func JSONErrorResult(v any) (*Result, error) {
	text, err := marshalJSON(v)
	if err != nil {
		return nil, err
	}
	return ErrorResult(text), nil
}

// marshalJSON encodes v compactly without HTML escaping.
func marshalJSON(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}
