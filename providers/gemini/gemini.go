// Package gemini is the Google provider: it sends generations to the Gemini API
// (generativelanguage.googleapis.com, or GEMINI_BASE_URL) through google.golang.org/genai.
//
// Wire decisions, in one place:
//   - The key travels only in the x-goog-api-key header (never as ?key=), and every error text
//     is redacted before it leaves the package.
//   - The system prompt goes into systemInstruction when the model supports system prompts
//     (the catalogue default); for a model that says it does not, it is prepended to the user
//     text as PAL does ("system\n\nprompt").
//   - candidateCount is always 1; temperature only when the request carries one; a thinking
//     budget only when the model supports thinking and has max_thinking_tokens > 0.
//   - The SDK's own retries and automatic continuation are off: providers.Retry is the only
//     loop. An empty answer that finished with STOP is asked again once, then reported as
//     providers.ErrBlocked.
package gemini

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"google.golang.org/genai"

	"github.com/pal-mcp/pal/providers"
)

// DefaultBaseURL is the Gemini API endpoint used when Settings.BaseURL is empty.
const DefaultBaseURL = "https://generativelanguage.googleapis.com/"

// apiVersion is the REST version segment the requests go to (/v1beta/models/…).
const apiVersion = "v1beta"

// authHeader is the header that carries the key; Settings.Headers may not override it.
const authHeader = "x-goog-api-key"

type provider struct {
	client *genai.Client
	key    string // kept only to redact it from error texts
	retry  providers.RetryPolicy
	log    *slog.Logger
}

// New builds the Google provider from s. s.APIKey is required and may not be a placeholder
// such as your_gemini_api_key_here (ErrNotConfigured otherwise); s.BaseURL, when set, must be
// an http or https URL with a host and no credentials, query or fragment. s.Type must be providers.Google or empty. Every construction error wraps
// providers.ErrNotConfigured and never repeats the key or the URL.
func New(s providers.Settings) (providers.Provider, error) {
	if s.Type != "" && s.Type != providers.Google {
		return nil, fmt.Errorf("%w: gemini provider cannot serve type %q", providers.ErrNotConfigured, s.Type)
	}
	if providers.IsPlaceholderKey(s.APIKey) {
		return nil, fmt.Errorf("%w: google: GEMINI_API_KEY is empty or a placeholder", providers.ErrNotConfigured)
	}
	base, err := s.BaseURLOr(DefaultBaseURL)
	if err != nil {
		return nil, fmt.Errorf("%w: google: %w", providers.ErrNotConfigured, err)
	}
	headers := http.Header{}
	for k, v := range s.Headers {
		if strings.EqualFold(k, authHeader) {
			continue
		}
		headers.Set(k, v)
	}
	hc := s.HTTPClient
	if hc == nil {
		hc = providers.NewHTTPClient(s.ConnectTimeout, s.ReadTimeout)
	}
	// Backend and BaseURL are set explicitly so that GOOGLE_GENAI_USE_VERTEXAI and
	// GOOGLE_GEMINI_BASE_URL in the environment cannot redirect the key elsewhere.
	client, err := genai.NewClient(context.Background(), &genai.ClientConfig{
		APIKey:     s.APIKey,
		Backend:    genai.BackendGeminiAPI,
		HTTPClient: hc,
		HTTPOptions: genai.HTTPOptions{
			BaseURL:    base,
			APIVersion: apiVersion,
			Headers:    headers,
		},
	})
	if err != nil {
		// The SDK's construction errors print the whole config, key included: never wrap them.
		return nil, fmt.Errorf("%w: google: cannot build the Gemini client", providers.ErrNotConfigured)
	}
	return &provider{client: client, key: s.APIKey, retry: s.RetryOrDefault(), log: s.LoggerOrDiscard()}, nil
}

func (p *provider) Type() providers.Type { return providers.Google }

// Generate sends req to the model described by caps and returns the first candidate's text.
// Errors wrap providers.ErrInvalidRequest (bad request, nothing sent), providers.ErrUpstream
// (an *providers.APIError, after retries) or providers.ErrBlocked (safety stop or no text).
func (p *provider) Generate(ctx context.Context, caps *providers.Capabilities, req providers.Request) (*providers.Response, error) {
	call, err := buildCall(caps, req)
	if err != nil {
		return nil, err
	}
	p.log.DebugContext(ctx, "gemini request",
		"model", call.model,
		"images", len(req.Images),
		"system_instruction", call.config.SystemInstruction != nil,
		"temperature_set", call.config.Temperature != nil,
		"thinking_budget", call.budget)

	// PAL asks once more when the model stops normally without a word; a second empty answer
	// is an error, never an empty success.
	for try := 1; ; try++ {
		resp, err := providers.Retry(ctx, p.retry, providers.Google, call.model, func(ctx context.Context) (*genai.GenerateContentResponse, error) {
			r, err := p.client.Models.GenerateContent(ctx, call.model, call.contents, call.config)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				apiErr := classify(err, p.key)
				p.log.DebugContext(ctx, "gemini call failed",
					"model", call.model, "status", apiErr.StatusCode, "kind", apiErr.Kind.String(),
					"retryable", apiErr.Retryable)
				return nil, apiErr
			}
			return r, nil
		})
		if err != nil {
			return nil, err
		}
		out, err := interpret(resp, p.key)
		if err != nil {
			if errors.Is(err, errEmptyStop) && try < 2 {
				p.log.DebugContext(ctx, "gemini empty answer, asking again", "model", call.model)
				continue
			}
			return nil, fmt.Errorf("google model %s: %w", call.model, err)
		}
		model := resp.ModelVersion
		if model == "" {
			model = call.model
		}
		p.log.DebugContext(ctx, "gemini response",
			"model", model, "finish_reason", out.finish,
			"input_tokens", out.usage.InputTokens, "output_tokens", out.usage.OutputTokens)
		return &providers.Response{
			Content:      out.text,
			Model:        model,
			Provider:     providers.Google,
			FinishReason: out.finish,
			Usage:        out.usage,
		}, nil
	}
}
