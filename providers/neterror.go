package providers

import (
	"context"
	"errors"
	"net"
	"net/url"
)

// ClassifyNetworkError classifies a request that got no HTTP answer because the network failed.
// A timeout (context.DeadlineExceeded, or a *url.Error or net.Error that timed out) becomes
// "request timed out"; any other *url.Error or net.Error becomes "connection failed: " and what
// went wrong underneath, without the request URL a *url.Error prints and scrubbed with
// ScrubErrorText(…, key, maxRunes). Both are KindTransient and retryable, for provider t. Any
// other error gives nil, for the caller to classify.
func ClassifyNetworkError(t Type, err error, key string, maxRunes int) *APIError {
	transient := func(msg string) *APIError {
		return &APIError{Provider: t, Kind: KindTransient, Message: msg, Retryable: true}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return transient("request timed out")
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return transient("request timed out")
		}
		return transient("connection failed: " + ScrubErrorText(ue.Err.Error(), key, maxRunes))
	}
	var ne net.Error
	if errors.As(err, &ne) {
		if ne.Timeout() {
			return transient("request timed out")
		}
		return transient("connection failed: " + ScrubErrorText(ne.Error(), key, maxRunes))
	}
	return nil
}
