// Package anthropic is the Anthropic provider: it sends generations to the Messages API
// (POST /v1/messages on api.anthropic.com, or ANTHROPIC_BASE_URL) through
// github.com/anthropics/anthropic-sdk-go.
//
// Wire decisions, in one place:
//   - The key travels only in the x-api-key header, with anthropic-version: 2023-06-01 (set by
//     the SDK). The SDK's environment defaults (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL,
//     profiles, federation) are switched off: Settings is the only source.
//   - system is the top-level system field; the user turn holds the images (base64 image
//     blocks) followed by the prompt text.
//   - max_tokens, which this API requires, is the catalogue's max_output_tokens, or
//     DefaultMaxTokens when the entry has none.
//   - Extended thinking ({"type":"enabled","budget_tokens":N}) is sent when the model supports
//     thinking, has max_thinking_tokens and the request names a thinking mode; see planTokens
//     for how N and max_tokens are kept valid. With thinking the temperature is dropped (the
//     API allows only 1). Without thinking the temperature, when given, is clamped to the
//     API's range 0..1.
//   - The SDK's own retries are off (WithMaxRetries(0)): providers.Retry is the only loop. An
//     answer without text that ended normally (end_turn) is asked again once, then reported as
//     providers.ErrBlocked; a refusal is providers.ErrBlocked at once.
package anthropic

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	sdk "github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"

	"github.com/pal-mcp/pal/providers"
)

// DefaultBaseURL is the Messages API host used when Settings.BaseURL is empty.
const DefaultBaseURL = "https://api.anthropic.com/"

// authHeader is the header that carries the key; Settings.Headers may not override it (nor
// the version header).
const authHeader = "x-api-key"

type provider struct {
	client sdk.Client
	key    string // kept only to redact it from error texts
	retry  providers.RetryPolicy
	log    *slog.Logger
}

// New builds the Anthropic provider from s. s.APIKey is required and may not be a placeholder
// (ErrNotConfigured otherwise); s.BaseURL, when set, must be an http or https URL with a host
// and no credentials, query or fragment. s.Type must be providers.Anthropic or empty. Every
// construction error wraps providers.ErrNotConfigured and never repeats the key or the URL.
func New(s providers.Settings) (providers.Provider, error) {
	if s.Type != "" && s.Type != providers.Anthropic {
		return nil, fmt.Errorf("%w: anthropic provider cannot serve type %q", providers.ErrNotConfigured, s.Type)
	}
	if providers.IsPlaceholderKey(s.APIKey) {
		return nil, fmt.Errorf("%w: anthropic: ANTHROPIC_API_KEY is empty or a placeholder", providers.ErrNotConfigured)
	}
	base, err := s.BaseURLOr(DefaultBaseURL)
	if err != nil {
		return nil, fmt.Errorf("%w: anthropic: %w", providers.ErrNotConfigured, err)
	}
	hc := s.HTTPClient
	if hc == nil {
		hc = newHTTPClient(s.ConnectTimeout, s.ReadTimeout)
	}
	read := s.ReadTimeout
	if read <= 0 {
		read = providers.DefaultReadTimeout
	}
	opts := []option.RequestOption{
		option.WithoutEnvironmentDefaults(),
		option.WithBaseURL(base),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(0),
		// A per-request timeout also stops the SDK from refusing large max_tokens without
		// streaming (CalculateNonStreamingTimeout).
		option.WithRequestTimeout(read),
	}
	for k, v := range s.Headers {
		if strings.EqualFold(k, authHeader) || strings.EqualFold(k, "anthropic-version") || strings.EqualFold(k, "authorization") {
			continue
		}
		opts = append(opts, option.WithHeader(k, v))
	}
	opts = append(opts, option.WithAPIKey(s.APIKey))
	return &provider{client: sdk.NewClient(opts...), key: s.APIKey, retry: s.RetryOrDefault(), log: s.LoggerOrDiscard()}, nil
}

func (p *provider) Type() providers.Type { return providers.Anthropic }

// Generate sends req to the model described by caps and returns the text blocks of the answer.
// Errors wrap providers.ErrInvalidRequest (bad request, nothing sent), providers.ErrUpstream
// (an *providers.APIError, after retries) or providers.ErrBlocked (refusal or no text).
func (p *provider) Generate(ctx context.Context, caps *providers.Capabilities, req providers.Request) (*providers.Response, error) {
	c, err := buildCall(caps, req)
	if err != nil {
		return nil, err
	}
	p.log.DebugContext(ctx, "anthropic request",
		"model", c.model,
		"images", len(req.Images),
		"max_tokens", c.maxTokens,
		"thinking_budget", c.budget,
		"temperature_set", c.params.Temperature.Valid())

	for try := 1; ; try++ {
		msg, err := providers.Retry(ctx, p.retry, providers.Anthropic, c.model, func(ctx context.Context) (*sdk.Message, error) {
			m, err := p.client.Messages.New(ctx, c.params)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				apiErr := classify(err, p.key)
				p.log.DebugContext(ctx, "anthropic call failed",
					"model", c.model, "status", apiErr.StatusCode, "kind", apiErr.Kind.String(),
					"retryable", apiErr.Retryable)
				return nil, apiErr
			}
			return m, nil
		})
		if err != nil {
			return nil, err
		}
		out, err := interpret(msg, p.key)
		if err != nil {
			if errors.Is(err, errEmptyEndTurn) && try < 2 {
				p.log.DebugContext(ctx, "anthropic empty answer, asking again", "model", c.model)
				continue
			}
			return nil, fmt.Errorf("anthropic model %s: %w", c.model, err)
		}
		model := string(msg.Model)
		if model == "" {
			model = c.model
		}
		p.log.DebugContext(ctx, "anthropic response",
			"model", model, "finish_reason", out.finish,
			"input_tokens", out.usage.InputTokens, "output_tokens", out.usage.OutputTokens)
		return &providers.Response{
			Content:      out.text,
			Model:        model,
			Provider:     providers.Anthropic,
			FinishReason: out.finish,
			Usage:        out.usage,
		}, nil
	}
}
