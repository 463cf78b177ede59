package pal

import (
	"bytes"
	"encoding/json"
	"errors"

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

// ErrorResult returns an isError result holding one text item. The client gets it in the
// error shape (see FailureResult) with code "tool_error" and text as its content.
func ErrorResult(text string) *Result {
	return &Result{Content: []Content{{Type: "text", Text: text}}, IsError: true}
}

// The codes of the error shape, what a tool's caller reads in "code" (docs/abi.md, "What a
// tool's caller sees when a call fails"). FailureCode picks one for an error.
const (
	FailInvalidArguments = abi.FailInvalidArguments
	FailNotGranted       = abi.FailNotGranted
	FailDenied           = abi.FailDenied
	FailNotFound         = abi.FailNotFound
	FailTooLarge         = abi.FailTooLarge
	FailPromptTooLong    = abi.FailPromptTooLong
	FailUnavailable      = abi.FailUnavailable
	FailProviderError    = abi.FailProviderError
	FailCancelled        = abi.FailCancelled
	FailOverBudget       = abi.FailOverBudget
	FailToolError        = abi.FailToolError
	FailInternal         = abi.FailInternal
)

// FailureResult returns an isError result in the error shape every failed call has, host's
// and tool's alike: one text item holding
// {"status":"error","code":code,"content":text,"content_type":"text","metadata":{"tool_name":…}}.
// code is one of the Fail* constants (FailureCode(err) picks one for an error); text is what
// a human reads. The tool's name is filled in when the result leaves the handler.
func FailureResult(code, text string) *Result {
	return abi.FailureResult("", code, text)
}

// ErrInvalidArguments marks a handler's error as a refusal of its arguments: wrap it
// (fmt.Errorf("%w: path must be absolute", pal.ErrInvalidArguments)) and the caller gets code
// invalid_arguments.
var ErrInvalidArguments = errors.New("invalid arguments")

// FailureCode is the error shape's code for an error a handler returns: the host's refusal
// passed on (FailNotGranted, FailDenied, FailProviderError for upstream, FailCancelled …),
// FailInvalidArguments for an error wrapping ErrInvalidArguments, else FailToolError.
func FailureCode(err error) string {
	var he *HostError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &he):
		return abi.FailureCodeFor(he.Code)
	case errors.Is(err, ErrInvalidArguments):
		return FailInvalidArguments
	}
	return FailToolError
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
