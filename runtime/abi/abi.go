// Package abi holds the wire vocabulary of pal's tool ABI version 1 (docs/abi.md): message
// framing, the manifest a module describes itself with, the handle request and result, and
// the error codes of host replies. The host imports it; the Go kit, a module of its own that
// cannot require the host's, imports a generated copy (tools-wasm/sdk/go/abi, `make kit-abi`)
// that a test keeps identical, so the two sides cannot drift apart. It has no dependencies
// beyond the standard library and builds for wasip1.
package abi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Version is the ABI version this package implements.
const Version = 1

// ImportModule is the wasm import module name of the host functions.
const ImportModule = "pal"

// Names of the guest exports and host imports.
const (
	ExportAlloc      = "alloc"
	ExportFree       = "free"
	ExportDescribe   = "describe"
	ExportHandle     = "handle"
	ExportInitialize = "_initialize"
	ImportCall       = "call"
	ImportLog        = "log"
)

// Log levels of the log import.
const (
	LogDebug = 0
	LogInfo  = 1
	LogWarn  = 2
	LogError = 3
)

// MaxRequestBytes caps one message the guest passes to the call import (16 MiB).
const MaxRequestBytes = 16 << 20

// ErrNoJSON is returned by Split for a message that does not start with a JSON object.
var ErrNoJSON = errors.New("abi: message does not start with a JSON object")

// Split separates a message into its JSON header and its body. The body is nil when the
// message has none; a message whose separator is its last byte has an empty, non-nil body.
func Split(msg []byte) (header, body []byte, err error) {
	i := bytes.IndexByte(msg, 0)
	if i < 0 {
		header = msg
	} else {
		header, body = msg[:i], msg[i+1:]
	}
	if !json.Valid(header) || len(bytes.TrimSpace(header)) == 0 || bytes.TrimSpace(header)[0] != '{' {
		return nil, nil, ErrNoJSON
	}
	return header, body, nil
}

// Join builds a message from a JSON header and an optional body. A nil body adds nothing; a
// non-nil body, even empty, adds the separator.
func Join(header []byte, body []byte) []byte {
	if body == nil {
		return header
	}
	out := make([]byte, 0, len(header)+1+len(body))
	out = append(out, header...)
	out = append(out, 0)
	return append(out, body...)
}

// Pack puts a pointer and a length into the i64 the ABI returns.
func Pack(ptr, n uint32) uint64 { return uint64(ptr)<<32 | uint64(n) }

// Unpack splits an i64 from the ABI into pointer and length.
func Unpack(v uint64) (ptr, n uint32) { return uint32(v >> 32), uint32(v) }

// Code is the error code of a failed host reply.
type Code string

// The error codes of ABI 1.
const (
	// CodeDenied: the policy refuses the target of an op the call is granted: a path outside
	// the roots or matching a deny rule, a CLI argument not allowed, a feature pal.toml turns off.
	CodeDenied Code = "denied"
	// CodeNotGranted: the op's capability is not in this call's grant (the tool's manifest
	// intersected with pal.toml). Added within ABI 1; a guest that knows only denied treats it
	// as any other failure.
	CodeNotGranted  Code = "not_granted"
	CodeInvalid     Code = "invalid"
	CodeUnknownOp   Code = "unknown_op"
	CodeNotFound    Code = "not_found"
	CodeTooLarge    Code = "too_large"
	CodeUnavailable Code = "unavailable"
	CodeUpstream    Code = "upstream"
	CodeCancelled   Code = "cancelled"
	CodeInternal    Code = "internal"
	// CodeReentrant: the guest made a host call from inside alloc while the host was placing
	// a message in its memory. The nested call gets no reply (0); the reply being placed is
	// this error instead.
	CodeReentrant Code = "reentrant"
	// CodeOverBudget: the call has used up one of its budgets ([limits] in pal.toml). Asking
	// for the same kind of op again ends the call.
	CodeOverBudget Code = "over_budget"
)

// Error is the error half of a host reply.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Reply is a host reply header: exactly one of Result and Error is set.
type Reply struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
}

// OK builds a success reply message with an optional body. result must marshal to a JSON object.
func OK(result any, body []byte) []byte {
	raw, err := json.Marshal(result)
	if err != nil {
		return Fail(CodeInternal, "cannot encode reply: "+err.Error())
	}
	if string(raw) == "null" {
		raw = []byte("{}")
	}
	h, _ := json.Marshal(Reply{Result: raw})
	return Join(h, body)
}

// Fail builds an error reply message.
func Fail(code Code, message string) []byte {
	h, _ := json.Marshal(Reply{Error: &Error{Code: code, Message: message}})
	return h
}

// Request is the common header of a call request; the op's own fields sit beside it.
type Request struct {
	Op string `json:"op"`
}
