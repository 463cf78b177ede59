package abi

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
)

// The error shape (docs/abi.md, "What a tool's caller sees when a call fails"): every isError
// result a client gets, whether the host refused the call (arguments, busy, time limit, trap)
// or the tool reported a failure, is one text item holding one JSON object:
//
//	{"status":"error","code":"not_granted","content":"<text for a human>","content_type":"text","metadata":{"tool_name":"chat"}}
//
// status is "error", or one of PAL's own statuses a client may act on (resend_prompt,
// <tool>_failed); code is one of the Fail* codes below and is what a program should test;
// content is the human text, shown first; metadata always names the tool. Tools may add keys.
// The host and the Go kit build and check it with the functions below, so both produce the
// same bytes.

// The codes of a failed tool call, the "code" of the error shape. Stable within ABI 1; a
// client that meets one it does not know should treat it as FailToolError.
const (
	FailInvalidArguments = "invalid_arguments" // the arguments do not match the tool's schema, or the tool refused them
	FailNotGranted       = "not_granted"       // the tool asked for a capability its grant lacks (pal.toml [tools.<name>])
	FailDenied           = "denied"            // the policy refused a target: a path, a CLI argument, a feature turned off
	FailNotFound         = "not_found"         // a file, directory, thread or model does not exist
	FailTooLarge         = "too_large"         // over a size, count or depth cap
	FailPromptTooLong    = "prompt_too_long"   // a prompt argument is over limits.prompt_chars (status resend_prompt)
	FailUnavailable      = "unavailable"       // no model or provider can serve it, or pal cannot serve tools at all
	FailProviderError    = "provider_error"    // the model provider failed after retries
	FailTimeLimit        = "time_limit"        // the call ran past its time limit
	FailCancelled        = "cancelled"         // the client cancelled the call
	FailMemoryCap        = "memory_cap"        // the tool's memory reached its cap
	FailOutputCap        = "output_cap"        // the tool's result was over the output cap
	FailOverBudget       = "over_budget"       // the call used up one of its budgets ([limits])
	FailTrap             = "trap"              // the tool module crashed
	FailBadResult        = "bad_result"        // the tool module is not valid, or returned something that is not a result
	FailBusy             = "busy"              // too many calls are running and waiting; retry later
	FailToolError        = "tool_error"        // the tool reported a failure of its own
	FailInternal         = "internal"          // a bug in pal; the server log says more
)

// StatusError is the status of the error shape unless a tool gives one of its own.
const StatusError = "error"

// StatusResendPrompt is PAL's status for a prompt over the size limit; its code is
// FailPromptTooLong.
const StatusResendPrompt = "resend_prompt"

// FailureCodeFor is the failure code of a tool call that ended on a host reply with code c:
// the reply codes a tool passes on unchanged keep their name, upstream is provider_error, and
// the codes that say the tool itself erred (invalid, unknown_op, reentrant) are tool_error.
func FailureCodeFor(c Code) string {
	switch c {
	case CodeNotGranted, CodeDenied, CodeNotFound, CodeTooLarge, CodeUnavailable, CodeCancelled, CodeOverBudget, CodeInternal:
		return string(c)
	case CodeUpstream:
		return FailProviderError
	}
	return FailToolError
}

// Failure builds the error shape's JSON text for tool with code and content.
func Failure(tool, code, content string) string {
	return encodeFailure(map[string]json.RawMessage{
		"status":       mustJSON(StatusError),
		"code":         mustJSON(code),
		"content":      mustJSON(content),
		"content_type": mustJSON("text"),
		"metadata":     mustJSON(map[string]string{"tool_name": tool}),
	})
}

// FailureResult is the isError result holding Failure(tool, code, content).
func FailureResult(tool, code, content string) *Result {
	return &Result{Content: []Content{{Type: "text", Text: Failure(tool, code, content)}}, IsError: true}
}

// ShapeFailure puts an isError result of tool into the error shape, in place; a result that
// is not isError is left alone. The first text item, when it is a JSON object with a string
// "status" (PAL's envelope), keeps its keys and gains what it lacks: "code" (FailPromptTooLong
// for resend_prompt, else FailToolError), "content" (its "error" text, else its status),
// "content_type" and metadata.tool_name. Otherwise the text items become the content of a new
// envelope, with the code a leading host reply code names ("not_granted: …" is not_granted,
// "upstream: …" provider_error), else FailToolError. Other content items follow, unchanged. A result already in
// the shape for tool is not re-encoded.
func ShapeFailure(tool string, r *Result) {
	if r == nil || !r.IsError {
		return
	}
	var texts []string
	var rest []Content
	first := -1
	for i, c := range r.Content {
		if c.Type == "text" {
			if first < 0 {
				first = i
			}
			texts = append(texts, c.Text)
		} else {
			rest = append(rest, c)
		}
	}
	if first >= 0 {
		if obj, ok := envelope(r.Content[first].Text); ok {
			if text, changed := completeEnvelope(tool, obj); changed {
				r.Content[first].Text = text
			}
			return
		}
	}
	content := strings.Join(texts, "\n")
	if strings.TrimSpace(content) == "" {
		content = "the tool reported an error without a message"
	}
	r.Content = append([]Content{{Type: "text", Text: Failure(tool, plainCode(content), content)}}, rest...)
}

// plainCode is the code of a plain-text failure: a text that starts with a host reply code and
// ": " (how every kit writes a host error it passes on: "not_granted: tool …") gets that
// code's failure code, any other FailToolError.
func plainCode(text string) string {
	prefix, _, ok := strings.Cut(text, ": ")
	if !ok {
		return FailToolError
	}
	switch c := Code(prefix); c {
	case CodeDenied, CodeNotGranted, CodeNotFound, CodeTooLarge, CodeUnavailable, CodeUpstream, CodeCancelled, CodeOverBudget:
		return FailureCodeFor(c)
	}
	return FailToolError
}

// ParseFailure reads the error shape from an isError result's first text item; ok is false
// when the text is not in the shape.
func ParseFailure(text string) (status, code, content, tool string, ok bool) {
	obj, isObj := envelope(text)
	if !isObj {
		return "", "", "", "", false
	}
	var meta struct {
		ToolName string `json:"tool_name"`
	}
	if json.Unmarshal(obj["code"], &code) != nil || code == "" || json.Unmarshal(obj["content"], &content) != nil ||
		json.Unmarshal(obj["metadata"], &meta) != nil || meta.ToolName == "" {
		return "", "", "", "", false
	}
	json.Unmarshal(obj["status"], &status)
	return status, code, content, meta.ToolName, true
}

// envelope decodes text as a JSON object with a string "status".
func envelope(text string) (map[string]json.RawMessage, bool) {
	t := strings.TrimSpace(text)
	if !strings.HasPrefix(t, "{") {
		return nil, false
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(t), &obj) != nil {
		return nil, false
	}
	var status string
	if json.Unmarshal(obj["status"], &status) != nil || status == "" {
		return nil, false
	}
	return obj, true
}

// completeEnvelope adds what the shape needs to obj and returns its new text, with changed
// false when nothing was missing.
func completeEnvelope(tool string, obj map[string]json.RawMessage) (string, bool) {
	changed := false
	var status, s string
	json.Unmarshal(obj["status"], &status)
	if json.Unmarshal(obj["code"], &s) != nil || s == "" {
		code := FailToolError
		if status == StatusResendPrompt {
			code = FailPromptTooLong
		}
		obj["code"], changed = mustJSON(code), true
	}
	if json.Unmarshal(obj["content"], &s) != nil {
		content := status
		if json.Unmarshal(obj["error"], &s) == nil && s != "" {
			content = s
		}
		obj["content"], changed = mustJSON(content), true
	}
	if json.Unmarshal(obj["content_type"], &s) != nil {
		obj["content_type"], changed = mustJSON("text"), true
	}
	var meta map[string]json.RawMessage
	if json.Unmarshal(obj["metadata"], &meta) != nil || meta == nil {
		meta, changed = map[string]json.RawMessage{}, true
	}
	if json.Unmarshal(meta["tool_name"], &s) != nil || s != tool {
		meta["tool_name"], changed = mustJSON(tool), true
		obj["metadata"] = mustJSON(meta)
	}
	if !changed {
		return "", false
	}
	return encodeFailure(obj), true
}

// failureKeys come first, in this order; other keys follow sorted.
var failureKeys = []string{"status", "code", "content", "content_type", "metadata"}

// encodeFailure writes obj compactly with the shape's keys first and no HTML escaping.
func encodeFailure(obj map[string]json.RawMessage) string {
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	put := func(k string) {
		v, ok := obj[k]
		if !ok {
			return
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.Write(mustJSON(k))
		b.WriteByte(':')
		if err := json.Compact(&b, v); err != nil {
			b.WriteString("null")
		}
	}
	for _, k := range failureKeys {
		put(k)
	}
	var others []string
	for k := range obj {
		if !isFailureKey(k) {
			others = append(others, k)
		}
	}
	sort.Strings(others)
	for _, k := range others {
		put(k)
	}
	b.WriteByte('}')
	return b.String()
}

func isFailureKey(k string) bool {
	for _, f := range failureKeys {
		if f == k {
			return true
		}
	}
	return false
}

// mustJSON encodes v without HTML escaping; v is a string or a map of plain values.
func mustJSON(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return json.RawMessage("null")
	}
	return json.RawMessage(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}
