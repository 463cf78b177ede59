package pal

import (
	"errors"
	"strings"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
)

// Code is the error code of a failed host reply (docs/abi.md, "call: request and reply").
type Code = abi.Code

// The error codes of ABI 1.
const (
	CodeDenied      = abi.CodeDenied      // the policy refuses the target: a path, an argument
	CodeNotGranted  = abi.CodeNotGranted  // the op's capability is not in this call's grant
	CodeInvalid     = abi.CodeInvalid     // malformed request
	CodeUnknownOp   = abi.CodeUnknownOp   // no such op
	CodeNotFound    = abi.CodeNotFound    // file, directory, thread or model does not exist
	CodeTooLarge    = abi.CodeTooLarge    // over a size, count or depth cap
	CodeUnavailable = abi.CodeUnavailable // model or provider not configured or not allowed
	CodeUpstream    = abi.CodeUpstream    // the provider failed after retries
	CodeCancelled   = abi.CodeCancelled   // deadline passed or the client cancelled
	CodeInternal    = abi.CodeInternal    // a host bug
	CodeReentrant   = abi.CodeReentrant   // a host call made from inside alloc
	CodeOverBudget  = abi.CodeOverBudget  // a budget of the call ([limits]) is used up
)

// HostError is a refusal or failure the host reported for one op. Message is written for
// the user and names what was refused.
type HostError struct {
	Code    Code
	Message string
}

func (e *HostError) Error() string {
	if e.Message == "" {
		return string(e.Code)
	}
	return string(e.Code) + ": " + e.Message
}

// Is reports whether target is a *HostError with the same code and either no message (a
// sentinel such as ErrDenied) or the same message.
func (e *HostError) Is(target error) bool {
	t, ok := target.(*HostError)
	return ok && t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

// Sentinels for errors.Is, one per error code.
var (
	ErrDenied      = &HostError{Code: CodeDenied}
	ErrNotGranted  = &HostError{Code: CodeNotGranted}
	ErrInvalid     = &HostError{Code: CodeInvalid}
	ErrUnknownOp   = &HostError{Code: CodeUnknownOp}
	ErrNotFound    = &HostError{Code: CodeNotFound}
	ErrTooLarge    = &HostError{Code: CodeTooLarge}
	ErrUnavailable = &HostError{Code: CodeUnavailable}
	ErrUpstream    = &HostError{Code: CodeUpstream}
	ErrCancelled   = &HostError{Code: CodeCancelled}
	ErrInternal    = &HostError{Code: CodeInternal}
	ErrReentrant   = &HostError{Code: CodeReentrant}
	ErrOverBudget  = &HostError{Code: CodeOverBudget}
)

// ErrBadReply wraps every failure to understand the host's reply: no reply at all (the
// host could not place it in guest memory), a reply that is not a message, or one with
// neither a result nor an error.
var ErrBadReply = errors.New("pal: malformed reply from the host")

// IsDirectory reports whether err is the host's answer to fs.read on a directory: code
// invalid with the message "is a directory".
func IsDirectory(err error) bool {
	var he *HostError
	return errors.As(err, &he) && he.Code == CodeInvalid && strings.Contains(he.Message, "is a directory")
}
