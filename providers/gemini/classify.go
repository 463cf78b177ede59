package gemini

import (
	"errors"
	"strings"

	"google.golang.org/genai"

	"github.com/pal-mcp/pal/providers"
)

// maxMessageRunes bounds the provider text kept in an error (an HTML error page can be large).
const maxMessageRunes = 600

// Indicators searched in the lower-cased error message (underscores read as spaces) of a 429
// or 400. PAL retries a 429 unless one of them is present. The status field is deliberately not
// searched: Google labels every 429 RESOURCE_EXHAUSTED, so reading it would make the rule
// "never retry a 429".
var (
	contextIndicators = []string{
		"context length", "context window", "token limit", "too many tokens",
		"input token count", "maximum number of tokens", "request too large", "payload size exceeds",
	}
	quotaIndicators = []string{"quota", "resource exhausted", "billing"}
)

// grpcStatusCodes gives an HTTP status for Google's status names, for error bodies that carry
// a status but no code.
var grpcStatusCodes = map[string]int{
	"INVALID_ARGUMENT":    400,
	"FAILED_PRECONDITION": 400,
	"OUT_OF_RANGE":        400,
	"UNAUTHENTICATED":     401,
	"PERMISSION_DENIED":   403,
	"NOT_FOUND":           404,
	"ABORTED":             409,
	"ALREADY_EXISTS":      409,
	"RESOURCE_EXHAUSTED":  429,
	"CANCELLED":           499,
	"UNKNOWN":             500,
	"INTERNAL":            500,
	"DATA_LOSS":           500,
	"UNIMPLEMENTED":       501,
	"UNAVAILABLE":         503,
	"DEADLINE_EXCEEDED":   504,
}

// classify turns an SDK error into a classified, redacted *providers.APIError. key is removed
// from every text it keeps.
func classify(err error, key string) *providers.APIError {
	var ae genai.APIError
	if errors.As(err, &ae) {
		return classifyStatus(ae.Code, ae.Status, ae.Message, key)
	}
	var aep *genai.APIError
	if errors.As(err, &aep) && aep != nil {
		return classifyStatus(aep.Code, aep.Status, aep.Message, key)
	}
	if e := providers.ClassifyNetworkError(providers.Google, err, key, maxMessageRunes); e != nil {
		return e
	}
	return &providers.APIError{Provider: providers.Google, Kind: providers.KindUnknown, Message: scrub(err.Error(), key)}
}

// classifyStatus applies PAL's Gemini retry rule to an HTTP status (or, when code is 0, the
// status name) and the provider's message: 429 retried unless quota or context indicators;
// 408 and 5xx retried; 401/403 authentication; 400/413 with context indicators is a context
// overflow; every other status is an invalid request and not retried.
func classifyStatus(code int, status, message, key string) *providers.APIError {
	if code == 0 {
		code = grpcStatusCodes[strings.ToUpper(strings.TrimSpace(status))]
	}
	text := strings.ReplaceAll(strings.ToLower(message), "_", " ")
	e := &providers.APIError{Provider: providers.Google, StatusCode: code, Message: describe(status, message, key)}
	switch {
	case code == 429:
		switch {
		case providers.ContainsAnyPhrase(text, contextIndicators):
			e.Kind = providers.KindContextLength
		case providers.ContainsAnyPhrase(text, quotaIndicators):
			e.Kind = providers.KindQuota
		default:
			e.Kind, e.Retryable = providers.KindRateLimit, true
		}
	case code == 408 || code >= 500:
		e.Kind, e.Retryable = providers.KindTransient, true
	case code == 401 || code == 403:
		e.Kind = providers.KindAuth
	case (code == 400 || code == 413) && providers.ContainsAnyPhrase(text, contextIndicators):
		e.Kind = providers.KindContextLength
	case code >= 300 && code < 400:
		e.Kind = providers.KindInvalid
		e.Message = "redirect refused: " + e.Message
	case code >= 400:
		e.Kind = providers.KindInvalid
	default:
		e.Kind = providers.KindUnknown
	}
	return e
}

func describe(status, message, key string) string {
	status, message = strings.TrimSpace(status), strings.TrimSpace(message)
	switch {
	case status == "" && message == "":
		return "no error details"
	case status == "":
		return scrub(message, key)
	case message == "":
		return scrub(status, key)
	}
	return scrub(status+": "+message, key)
}

// scrub makes provider text safe for an error: key and anything credential-like removed,
// cut to maxMessageRunes.
func scrub(s, key string) string { return providers.ScrubErrorText(s, key, maxMessageRunes) }
