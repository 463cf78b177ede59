package providers

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Provider errors wrap one of them (errors.Is) so callers can tell a missing
// model from a refused one from an API failure without parsing text.
var (
	// ErrNotConfigured: no usable provider serves the model (no key, or unknown name).
	ErrNotConfigured = errors.New("model not available")
	// ErrRestricted: the model exists but an allowlist forbids it.
	ErrRestricted = errors.New("model not allowed by restriction policy")
	// ErrUpstream: the provider's API failed (after retries, when retrying made sense).
	ErrUpstream = errors.New("provider API error")
	// ErrBlocked: the provider refused to answer (safety filter) or answered nothing.
	ErrBlocked = errors.New("response blocked or empty")
	// ErrInvalidRequest: the request cannot be sent as it is (bad image, bad option).
	ErrInvalidRequest = errors.New("invalid model request")
)

// ErrorKind classifies an API failure for the retry decision.
type ErrorKind int

// Kinds of API failure.
const (
	KindUnknown       ErrorKind = iota
	KindRateLimit               // 429, try again later
	KindQuota                   // 429 quota or resource exhausted: retrying will not help
	KindContextLength           // the request is over the model's context window
	KindTransient               // 5xx, timeout, connection reset
	KindAuth                    // 401/403: bad key
	KindInvalid                 // other 4xx
)

func (k ErrorKind) String() string {
	switch k {
	case KindRateLimit:
		return "rate limit"
	case KindQuota:
		return "quota exhausted"
	case KindContextLength:
		return "context length exceeded"
	case KindTransient:
		return "transient"
	case KindAuth:
		return "authentication"
	case KindInvalid:
		return "invalid request"
	}
	return "unknown"
}

// APIError is one failed API call, classified. Message must already be free of secrets.
type APIError struct {
	Provider   Type
	Kind       ErrorKind
	StatusCode int    // HTTP status, 0 when the request never got one
	Message    string // the provider's error text, redacted
	Retryable  bool
}

func (e *APIError) Error() string {
	if e.StatusCode != 0 {
		return fmt.Sprintf("%s: HTTP %d (%s): %s", e.Provider, e.StatusCode, e.Kind, e.Message)
	}
	return fmt.Sprintf("%s: %s: %s", e.Provider, e.Kind, e.Message)
}

// Unwrap makes every APIError an ErrUpstream.
func (e *APIError) Unwrap() error { return ErrUpstream }

// ContainsAnyPhrase reports whether text contains one of phrases, for classifying an error
// message by indicator phrases ("context window", "quota"). Matching is exact; callers
// lower-case text when their phrases are lower case.
func ContainsAnyPhrase(text string, phrases []string) bool {
	for _, p := range phrases {
		if strings.Contains(text, p) {
			return true
		}
	}
	return false
}
