package openaicompat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	openai "github.com/sashabaranov/go-openai"

	"github.com/pal-mcp/pal/providers"
)

// MaxErrorMessageRunes caps the provider text kept in an APIError message.
const MaxErrorMessageRunes = 1000

// scrub makes provider text safe for an error or a log line: the configured key and anything
// credential-like removed, cut to MaxErrorMessageRunes.
func (p *provider) scrub(text string) string {
	return providers.ScrubErrorText(text, p.key, MaxErrorMessageRunes)
}

// errorInfo is what an error body says, in the fields that matter for classification.
type errorInfo struct {
	Message string
	Type    string
	Code    string
}

// parseErrorBody reads the error shapes OpenAI-compatible servers use:
//
//	{"error": {"message": "...", "type": "...", "code": "..." | 123, "param": ...}}  OpenAI, Azure, X.AI, OpenRouter, DIAL
//	{"error": "message"}                                                             Ollama, LM Studio
//	{"message": "...", "type": "...", "code": ...}                                   vLLM, proxies
//	{"detail": "..." | [...]}                                                        FastAPI servers
//	[{"error": {...}}]                                                               array-wrapped
//
// Anything else becomes the body text itself (HTML error pages, plain text).
func parseErrorBody(body []byte) errorInfo {
	trimmed := bytes.TrimSpace(body)
	var v any
	if err := json.Unmarshal(trimmed, &v); err == nil {
		if arr, ok := v.([]any); ok && len(arr) > 0 {
			v = arr[0]
		}
		if obj, ok := v.(map[string]any); ok {
			if info, ok := infoFromObject(obj); ok {
				return info
			}
		}
	}
	return errorInfo{Message: string(trimmed)}
}

func infoFromObject(obj map[string]any) (errorInfo, bool) {
	switch e := obj["error"].(type) {
	case map[string]any:
		info := errorInfo{Message: textOf(e["message"]), Type: textOf(e["type"]), Code: textOf(e["code"])}
		if info.Message == "" {
			info.Message = textOf(e["detail"])
		}
		if inner, ok := e["innererror"].(map[string]any); ok && info.Code == "" {
			info.Code = textOf(inner["code"])
		}
		return info, info.Message != "" || info.Type != "" || info.Code != ""
	case string:
		return errorInfo{Message: e, Type: textOf(obj["type"]), Code: textOf(obj["code"])}, true
	}
	info := errorInfo{Message: textOf(obj["message"]), Type: textOf(obj["type"]), Code: textOf(obj["code"])}
	if info.Message == "" {
		info.Message = textOf(obj["detail"])
	}
	return info, info.Message != ""
}

// textOf renders a JSON value as text: strings as they are, numbers without exponent, lists of
// strings joined, objects and others as compact JSON.
func textOf(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	case []any:
		parts := make([]string, 0, len(t))
		for _, p := range t {
			parts = append(parts, textOf(p))
		}
		return strings.Join(parts, "; ")
	default:
		b, _ := json.Marshal(t)
		return string(b)
	}
}

// codeText renders go-openai's APIError.Code (string, int or anything JSON) as text.
func codeText(c any) string {
	switch t := c.(type) {
	case nil:
		return ""
	case string:
		return t
	case int:
		return strconv.Itoa(t)
	default:
		return textOf(t)
	}
}

// kindOf classifies an HTTP failure.
//
// 429 is split three ways: code or type "insufficient_quota" (or OpenAI's "exceeded your
// current quota" text) is KindQuota; error type "tokens" or code "context_length_exceeded" /
// "invalid_request_error" is KindContextLength — the request itself is too big for the
// model's or the account's token limit, so sending it again unchanged cannot succeed (PAL's
// rule); any other 429 is KindRateLimit, the only retried one. 5xx and 408 are transient;
// 401/403 auth; a 4xx saying context_length_exceeded is KindContextLength; other 4xx invalid.
func kindOf(status int, info errorInfo) (providers.ErrorKind, bool) {
	code, typ := strings.ToLower(info.Code), strings.ToLower(info.Type)
	switch {
	case status == http.StatusTooManyRequests:
		switch {
		case code == "insufficient_quota" || typ == "insufficient_quota" ||
			strings.Contains(strings.ToLower(info.Message), "exceeded your current quota"):
			return providers.KindQuota, false
		case typ == "tokens" || code == "context_length_exceeded" || code == "invalid_request_error":
			return providers.KindContextLength, false
		}
		return providers.KindRateLimit, true
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return providers.KindAuth, false
	case status == http.StatusRequestTimeout || status >= 500:
		return providers.KindTransient, true
	case code == "context_length_exceeded":
		return providers.KindContextLength, false
	case status >= 400:
		return providers.KindInvalid, false
	}
	return providers.KindUnknown, false
}

// isContentFilter reports an error body that says the prompt or answer was filtered (Azure's
// 400 "content_filter" / ResponsibleAIPolicyViolation).
func isContentFilter(info errorInfo) bool {
	c := strings.ToLower(info.Code)
	return c == "content_filter" || c == "responsibleaipolicyviolation"
}

// classify turns whatever go-openai or net/http returned into a redacted *providers.APIError,
// wrapped together with providers.ErrBlocked for content-filter refusals. Context errors pass
// through unchanged.
func (p *provider) classify(err error) error {
	if errors.Is(err, context.Canceled) || (errors.Is(err, context.DeadlineExceeded) && !isTimeout(err)) {
		return err
	}
	var (
		apiErr *openai.APIError
		reqErr *openai.RequestError
		status int
		info   errorInfo
	)
	// RequestError first: when go-openai cannot decode an error body it wraps a half-filled
	// APIError inside a RequestError that still holds the raw body.
	switch {
	case errors.As(err, &reqErr):
		status = reqErr.HTTPStatusCode
		info = parseErrorBody(reqErr.Body)
	case errors.As(err, &apiErr):
		status = apiErr.HTTPStatusCode
		info = errorInfo{Message: apiErr.Message, Type: apiErr.Type, Code: codeText(apiErr.Code)}
		if info.Code == "" && apiErr.InnerError != nil {
			info.Code = apiErr.InnerError.Code
		}
	default:
		return p.transportError(err)
	}
	kind, retry := kindOf(status, info)
	msg := p.scrub(info.Message)
	if msg == "" {
		msg = http.StatusText(status)
	}
	e := &providers.APIError{Provider: p.typ, Kind: kind, StatusCode: status, Message: msg, Retryable: retry}
	if isContentFilter(info) {
		return fmt.Errorf("%w: %w", providers.ErrBlocked, e)
	}
	return e
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// transportError classifies failures that never produced an HTTP status: the transport's own
// refusals, then network failures (providers.ClassifyNetworkError), then what go-openai's
// decoding and request checks return.
func (p *provider) transportError(err error) error {
	if errors.Is(err, errBodyTooLarge) || errors.Is(err, errRedirect) {
		return &providers.APIError{Provider: p.typ, Kind: providers.KindInvalid, Message: p.scrub(err.Error())}
	}
	if e := providers.ClassifyNetworkError(p.typ, err, p.key, MaxErrorMessageRunes); e != nil {
		return e
	}
	e := &providers.APIError{Provider: p.typ, Message: p.scrub(err.Error())}
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntaxErr), errors.As(err, &typeErr):
		e.Kind = providers.KindUnknown
		e.Message = "malformed response: " + e.Message
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		// A body cut short: worth another try.
		e.Kind, e.Retryable = providers.KindTransient, true
	default:
		// go-openai's own request checks (e.g. its reasoning-model parameter rules).
		e.Kind = providers.KindInvalid
	}
	return e
}
