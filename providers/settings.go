package providers

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Settings configures one provider instance. Every subpackage's constructor takes it:
//
//	openaicompat.New(s) // OpenAI, Azure, X.AI, DIAL, OpenRouter, custom
//	gemini.New(s)       // Google
//	anthropic.New(s)    // Anthropic
type Settings struct {
	Type Type
	// APIKey is the secret. It goes into request headers and nowhere else.
	APIKey string
	// BaseURL overrides the provider's default endpoint; "" keeps the default.
	BaseURL string
	// APIVersion is Azure's api-version or DIAL's api-version; "" keeps the default.
	APIVersion string
	// Headers are extra request headers (OpenRouter's HTTP-Referer and X-Title).
	Headers map[string]string
	// HTTPClient, when set, is used as it is (tests point it at httptest servers). When nil the
	// provider builds one from ConnectTimeout and ReadTimeout.
	HTTPClient *http.Client
	// ConnectTimeout bounds dialling; ReadTimeout bounds a whole response. Zero means the
	// provider's default (PAL: 30 s and 600 s; 60 s and 1800 s for a local server).
	ConnectTimeout time.Duration
	ReadTimeout    time.Duration
	// Retry is the retry schedule; the zero value means DefaultRetry.
	Retry RetryPolicy
	// Logger receives debug lines; nil discards them. Never given the key.
	Logger *slog.Logger
}

// RetryOrDefault returns s.Retry, or DefaultRetry when it is the zero value.
func (s Settings) RetryOrDefault() RetryPolicy {
	if s.Retry.Delays == nil && s.Retry.Sleep == nil {
		return DefaultRetry
	}
	return s.Retry
}

// LoggerOrDiscard returns s.Logger, or a logger that discards everything when it is nil.
func (s Settings) LoggerOrDiscard() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// BaseURLOr returns s.BaseURL without surrounding white space, or def when it is blank. A
// BaseURL that is set must pass ValidateBaseURL; the error wraps ErrInvalidBaseURL and does not
// quote the URL.
func (s Settings) BaseURLOr(def string) (string, error) {
	base := strings.TrimSpace(s.BaseURL)
	if base == "" {
		return def, nil
	}
	if err := ValidateBaseURL(base); err != nil {
		return "", err
	}
	return base, nil
}
