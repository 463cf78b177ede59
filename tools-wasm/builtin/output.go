package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
)

// toolOutput is PAL's reply envelope, sent as the text of the result.
type toolOutput struct {
	Status string `json:"status"`
	// Code is the error shape's code (pal.Fail*) of an isError reply; empty otherwise.
	Code        string         `json:"code,omitempty"`
	Content     string         `json:"content"`
	ContentType string         `json:"content_type"`
	Metadata    map[string]any `json:"metadata"`
	// ContinuationOffer is a *pal.ContinuationOffer, noOffer (JSON null), or nil (left out).
	ContinuationOffer any `json:"continuation_offer,omitempty"`
}

// noOffer encodes as "continuation_offer": null.
var noOffer = json.RawMessage("null")

// result encodes out as a tool result; isError marks failures for the client.
func result(out toolOutput, isError bool) *pal.Result {
	if out.ContentType == "" {
		out.ContentType = "text"
	}
	var r *pal.Result
	var err error
	if isError {
		r, err = pal.JSONErrorResult(out)
	} else {
		r, err = pal.JSONResult(out)
	}
	if err != nil {
		return pal.ErrorResult(fmt.Sprintf("cannot encode the reply: %v", err))
	}
	return r
}

// errorResult is the isError reply {"status":"error","code":code,"content":msg,…} of tool, in
// the error shape (pal.FailureResult). extra adds metadata beside tool_name.
func errorResult(tool, code, msg string, extra map[string]any) *pal.Result {
	meta := map[string]any{"tool_name": tool}
	for k, v := range extra {
		meta[k] = v
	}
	return result(toolOutput{Status: "error", Code: code, Content: msg, Metadata: meta}, true)
}

// decodeArgs reads a tool's arguments strictly: a field outside the schema, a value of the
// wrong type or trailing data is an error that names the argument.
func decodeArgs(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		if dec.More() {
			return errors.New("the arguments hold more than one JSON value")
		}
		return nil
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return fmt.Errorf("argument %s has a %s where a %s is expected", typeErr.Field, typeErr.Value, jsonType(typeErr.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("unknown argument %s; this tool's schema allows no other arguments", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return fmt.Errorf("the arguments are not valid JSON: %v", err)
}

// jsonType names a Go kind the way a JSON Schema does.
func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "float64", "float32", "int", "int64":
		return "number"
	case "slice":
		return "array"
	case "bool":
		return "boolean"
	}
	return kind
}

// noArgs decodes the arguments of a tool that takes none.
func noArgs(raw json.RawMessage) error {
	var none struct{}
	return decodeArgs(raw, &none)
}
