package pal

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
)

// encodeRequest builds a call request message: the op's JSON header and, when body is not
// nil, the 0x00 separator followed by body. A request over the ABI's 16 MiB cap is refused
// here with too_large rather than sent.
func encodeRequest(header any, body []byte) ([]byte, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return nil, &HostError{Code: CodeInvalid, Message: "cannot encode request: " + err.Error()}
	}
	msg := abi.Join(h, body)
	if len(msg) > abi.MaxRequestBytes {
		return nil, tooLarge(len(msg))
	}
	return msg, nil
}

// tooLarge is the refusal of a request of n bytes, over the ABI's cap.
func tooLarge(n int) error {
	return &HostError{Code: CodeTooLarge, Message: fmt.Sprintf("request of %d bytes is over the %d-byte cap", n, abi.MaxRequestBytes)}
}

// decodeReply parses a reply message. On success it returns the result object and the
// body (nil when the reply has none). A reply carrying an error becomes a *HostError; any
// other defect wraps ErrBadReply. A nil msg means the host could not place its reply.
func decodeReply(msg []byte) (result json.RawMessage, body []byte, err error) {
	if msg == nil {
		return nil, nil, fmt.Errorf("%w: the host could not place its reply in guest memory", ErrBadReply)
	}
	header, body, err := abi.Split(msg)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBadReply, err)
	}
	var r abi.Reply
	if err := json.Unmarshal(header, &r); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBadReply, err)
	}
	hasResult := len(r.Result) > 0 && !bytes.Equal(r.Result, []byte("null"))
	switch {
	case r.Error != nil && hasResult:
		return nil, nil, fmt.Errorf("%w: reply has both a result and an error", ErrBadReply)
	case r.Error != nil:
		if r.Error.Code == "" {
			return nil, nil, fmt.Errorf("%w: error reply without a code", ErrBadReply)
		}
		return nil, nil, &HostError{Code: r.Error.Code, Message: r.Error.Message}
	case !hasResult:
		return nil, nil, fmt.Errorf("%w: reply has neither a result nor an error", ErrBadReply)
	case r.Result[0] != '{':
		return nil, nil, fmt.Errorf("%w: result is not a JSON object", ErrBadReply)
	}
	return r.Result, body, nil
}
