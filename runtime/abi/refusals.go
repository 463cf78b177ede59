package abi

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Refusal texts: the code and words of each refusal that does not depend on the real world
// (the request, the grant, the path rules). The host (hostfns, policy) and the Go kit's fake
// host (paltest) both take them from here; TestFakeAndRealHostRefuseAlike compares the two and
// writes tools-wasm/testdata/refusals.json, the table the other kits' fake hosts are tested on.

// Refusal is one refused request: its reply code and its message.
type Refusal struct {
	Code    Code
	Message string
}

func (r Refusal) Error() string { return r.Message }

// Reply is the reply message of the refusal.
func (r Refusal) Reply() []byte { return Fail(r.Code, r.Message) }

// RefuseNotJSON: the request is not a JSON object, optionally followed by a body.
func RefuseNotJSON() Refusal {
	return Refusal{CodeInvalid, "request is not a JSON object message"}
}

// RefuseNoOp: the request has no "op".
func RefuseNoOp() Refusal { return Refusal{CodeInvalid, `request has no "op"`} }

// RefuseUnknownOp: no such op in this ABI.
func RefuseUnknownOp(op string) Refusal {
	return Refusal{CodeUnknownOp, fmt.Sprintf("unknown op %q in ABI %d", op, Version)}
}

// RefuseNotGranted: tool's grant in this call lacks capability; granted is the grant (any
// order; FormatGrant orders it).
func RefuseNotGranted(tool, capability string, granted []string) Refusal {
	return Refusal{CodeNotGranted, fmt.Sprintf("tool %q has no %q capability in this call (granted: %s)", tool, capability, FormatGrant(granted))}
}

// FormatGrant writes a grant as `{fs.read,fs.list}`, in the order of KnownCapabilities.
func FormatGrant(granted []string) string {
	var names []string
	for _, c := range KnownCapabilities {
		for _, g := range granted {
			if g == c {
				names = append(names, c)
				break
			}
		}
	}
	return "{" + strings.Join(names, ",") + "}"
}

// RefuseBody: a body on an op that takes none.
func RefuseBody(op string) Refusal {
	return Refusal{CodeInvalid, fmt.Sprintf("op %q takes no body", op)}
}

// RefuseBadRequest: the request does not decode into the op's fields (err from
// encoding/json, with unknown fields disallowed).
func RefuseBadRequest(err error) Refusal {
	msg := err.Error()
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		msg = fmt.Sprintf("field %q must be %s, not %s", ute.Field, ute.Type, ute.Value)
	}
	return Refusal{CodeInvalid, "bad request: " + msg}
}

// RefuseNoPath: an fs op without a path.
func RefuseNoPath(op string) Refusal {
	return Refusal{CodeInvalid, op + " needs a path"}
}

// RefuseCancelled: every op of a call that is over, past its deadline (deadline true) or
// cancelled by the client, while the guest finishes.
func RefuseCancelled(deadline bool) Refusal {
	if deadline {
		return Refusal{CodeCancelled, "the call's time limit has passed"}
	}
	return Refusal{CodeCancelled, "the call was cancelled"}
}

// RefuseNoFileAccess: the server has no roots at all.
func RefuseNoFileAccess() Refusal { return Refusal{CodeDenied, "no file access is configured"} }

// Reasons of the path refusals. The message of a path refusal is PathMessage(path, reason):
// the path as the tool gave it, quoted, then the reason.
const (
	ReasonRelative      = "is not an absolute path"                 // denied
	ReasonOutsideRoots  = "is outside every allowed root"           // denied
	ReasonEscapesRoot   = "leads out of its root"                   // denied
	ReasonSymlinkEscape = "leads out of its root through a symlink" // denied
	ReasonNotFound      = "does not exist"                          // not_found
	ReasonIsDir         = "is a directory"                          // invalid
	ReasonNotDir        = "is not a directory"                      // invalid
)

// ReasonDenyRule: the path matches a deny glob of the policy (denied).
func ReasonDenyRule(rule string) string { return fmt.Sprintf("matches deny rule %q", rule) }

// ReasonTooLarge: a file of size bytes is over the per-file cap of limit bytes (too_large).
func ReasonTooLarge(size, limit int64) string {
	return fmt.Sprintf("is %d bytes, over the %d-byte cap", size, limit)
}

// PathMessage is the message of a path refusal: `"/w/.env" matches deny rule ".env*"`.
func PathMessage(path, reason string) string { return strconv.Quote(path) + " " + reason }

// RefusePath is a path refusal with its code.
func RefusePath(code Code, path, reason string) Refusal {
	return Refusal{code, PathMessage(path, reason)}
}
