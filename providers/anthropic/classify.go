package anthropic

import (
	"encoding/json"
	"errors"
	"strings"

	sdk "github.com/anthropics/anthropic-sdk-go"

	"github.com/pal-mcp/pal/providers"
)

// maxMessageRunes bounds the provider text kept in an error (an HTML error page can be large).
const maxMessageRunes = 600

// The error types of the Messages API ({"type":"error","error":{"type":…,"message":…}}).
const (
	typeInvalidRequest = "invalid_request_error"
	typeAuthentication = "authentication_error"
	typePermission     = "permission_error"
	typeNotFound       = "not_found_error"
	typeRequestTooBig  = "request_too_large"
	typeRateLimit      = "rate_limit_error"
	typeAPI            = "api_error"
	typeTimeout        = "timeout_error"
	typeOverloaded     = "overloaded_error"
	typeBilling        = "billing_error"
)

// contextIndicators mark a request over the model's context window, searched in the
// lower-cased message of a 400 ("prompt is too long: 208310 tokens > 200000 maximum",
// "input length and `max_tokens` exceed context limit: …").
var contextIndicators = []string{
	"prompt is too long", "context limit", "context window", "context length", "too many tokens",
}

// apiErrorBody is the Messages API error envelope.
type apiErrorBody struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
	RequestID string `json:"request_id"`
}

// decodeErrorBody reads an error response body. A body that is not the JSON envelope (a
// proxy's HTML page, plain text) comes back whole as the message, with no type.
func decodeErrorBody(raw []byte) (errType, message, requestID string) {
	var b apiErrorBody
	if err := json.Unmarshal(raw, &b); err != nil || (b.Error.Type == "" && b.Error.Message == "") {
		return "", strings.TrimSpace(string(raw)), ""
	}
	return b.Error.Type, b.Error.Message, b.RequestID
}

// classify turns an SDK error into a classified, redacted *providers.APIError. key is removed
// from every text it keeps; the request URL and headers the SDK error carries are dropped.
func classify(err error, key string) *providers.APIError {
	var ae *sdk.Error
	if errors.As(err, &ae) && ae != nil {
		errType, message, requestID := decodeErrorBody([]byte(ae.RawJSON()))
		if requestID == "" {
			requestID = ae.RequestID
		}
		return classifyStatus(ae.StatusCode, errType, message, requestID, key)
	}
	if errors.Is(err, errRedirectRefused) {
		return &providers.APIError{Provider: providers.Anthropic, Kind: providers.KindInvalid, Message: errRedirectRefused.Error()}
	}
	if e := providers.ClassifyNetworkError(providers.Anthropic, err, key, maxMessageRunes); e != nil {
		return e
	}
	return &providers.APIError{Provider: providers.Anthropic, Kind: providers.KindUnknown, Message: scrub(err.Error(), key)}
}

// classifyStatus applies the retry rule: 429 rate_limit_error, 529 overloaded_error, 408 and
// other 5xx are retried; 401/403 are authentication; 402 billing is quota; a 400/413 whose
// message says the prompt is over the context window is a context overflow; every other
// status is an invalid request and not retried. When the status says nothing (0), the error
// type decides.
func classifyStatus(status int, errType, message, requestID, key string) *providers.APIError {
	e := &providers.APIError{Provider: providers.Anthropic, StatusCode: status, Message: describe(errType, message, requestID, key)}
	lower := strings.ToLower(message)
	switch {
	case status == 429:
		e.Kind, e.Retryable = providers.KindRateLimit, true
	case status == 408 || status >= 500:
		e.Kind, e.Retryable = providers.KindTransient, true
	case status == 401 || status == 403:
		e.Kind = providers.KindAuth
	case status == 402:
		e.Kind = providers.KindQuota
	case (status == 400 || status == 413) && providers.ContainsAnyPhrase(lower, contextIndicators):
		e.Kind = providers.KindContextLength
	case status >= 400:
		e.Kind = providers.KindInvalid
	default:
		e.Kind, e.Retryable = kindOfType(errType, lower)
	}
	return e
}

// kindOfType classifies by the error type alone.
func kindOfType(errType, lowerMessage string) (providers.ErrorKind, bool) {
	switch errType {
	case typeRateLimit:
		return providers.KindRateLimit, true
	case typeOverloaded, typeAPI, typeTimeout:
		return providers.KindTransient, true
	case typeAuthentication, typePermission:
		return providers.KindAuth, false
	case typeBilling:
		return providers.KindQuota, false
	case typeInvalidRequest, typeRequestTooBig, typeNotFound:
		if providers.ContainsAnyPhrase(lowerMessage, contextIndicators) {
			return providers.KindContextLength, false
		}
		return providers.KindInvalid, false
	}
	return providers.KindUnknown, false
}

func describe(errType, message, requestID, key string) string {
	errType, message = strings.TrimSpace(errType), strings.TrimSpace(message)
	var s string
	switch {
	case errType == "" && message == "":
		s = "no error details"
	case errType == "":
		s = message
	case message == "":
		s = errType
	default:
		s = errType + ": " + message
	}
	if requestID != "" {
		s += " (request-id " + requestID + ")"
	}
	return scrub(s, key)
}

// scrub makes provider text safe for an error: key and anything credential-like removed,
// cut to maxMessageRunes.
func scrub(s, key string) string { return providers.ScrubErrorText(s, key, maxMessageRunes) }
