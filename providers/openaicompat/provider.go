// Package openaicompat serves every provider that speaks OpenAI's HTTP API: OpenAI itself,
// Azure OpenAI, X.AI, OpenRouter, DIAL and custom OpenAI-compatible servers (Ollama, vLLM,
// LM Studio), all through github.com/sashabaranov/go-openai.
//
// Wire rules (PAL's): chat completions with messages [system?, user], the user content a plain
// string or, with images, text + image_url parts carrying base64 data URLs; stream false;
// temperature only when the request carries one and the model accepts it; never max_tokens.
// Models flagged use_openai_response_api go to POST <base>/responses instead, with
// reasoning.effort and store:true (store omitted for OpenRouter).
//
// Per provider: OpenAI, X.AI, OpenRouter and custom send "Authorization: Bearer <key>" (custom
// sends no Authorization header at all when its key is empty — local servers accept that, and
// no placeholder key travels anywhere). Azure and DIAL send "api-key: <key>" and no
// Authorization, to <base>/openai/deployments/<deployment>/chat/completions?api-version=….
// Settings.Headers are added to every request (OpenRouter's HTTP-Referer and X-Title).
//
// Secrets: the key goes into one header and nowhere else. Error messages are rebuilt from the
// provider's error text after removing the key and anything key-like; logs carry method, path,
// status, model and attempt only. Redirects are not followed.
package openaicompat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	openai "github.com/sashabaranov/go-openai"

	"github.com/pal-mcp/pal/providers"
)

var errNoChoices = errors.New("response contained no choices")

// provider is one configured OpenAI-compatible API. It is safe for concurrent use.
type provider struct {
	typ        providers.Type
	client     *openai.Client
	deployment bool // Azure/DIAL deployment URLs
	store      bool // Responses API store:true (false for OpenRouter)
	retry      providers.RetryPolicy
	log        *slog.Logger
	key        string // kept only to scrub it from error texts
}

// New builds the provider for s.Type, one of OpenAI, Azure, XAI, DIAL, OpenRouter and Custom.
// It fails with an error wrapping providers.ErrNotConfigured when the type is not served, the
// key is missing (all but Custom), Azure or Custom has no base URL, the base URL is not a
// plain http(s) URL (no credentials, query or fragment; port 1-65535), or Settings.Headers
// tries to set an auth or framing header.
func New(s providers.Settings) (providers.Provider, error) {
	ep, err := resolveEndpoint(s)
	if err != nil {
		return nil, err
	}
	headers, err := extraHeaders(s.Headers)
	if err != nil {
		return nil, err
	}
	log := s.LoggerOrDiscard().With("provider", string(s.Type))

	var httpClient *http.Client
	if s.HTTPClient != nil {
		c := *s.HTTPClient // a copy, so the redirect rule does not change the caller's client
		httpClient = &c
	} else {
		connect, read := timeouts(s, ep.baseURL)
		httpClient = newHTTPClient(connect, read)
		log.Debug("openaicompat timeouts", "connect", connect, "read", read)
	}
	httpClient.CheckRedirect = providers.NoRedirects

	if s.APIKey != "" && ep.baseURL.Scheme == "http" && !isLocalHost(ep.baseURL.Hostname()) {
		log.Warn("openaicompat: API key will be sent over plain http to a non-local host", "host", ep.baseURL.Hostname())
	}
	if s.APIKey == "" && !isLocalHost(ep.baseURL.Hostname()) {
		log.Warn("openaicompat: no API key for a non-local server", "host", ep.baseURL.Hostname())
	}

	var cfg openai.ClientConfig
	if ep.deployment {
		cfg = openai.DefaultAzureConfig(s.APIKey, ep.baseURL.String())
		cfg.APIVersion = ep.apiVersion
		cfg.AzureModelMapperFunc = url.PathEscape
	} else {
		cfg = openai.DefaultConfig(s.APIKey)
		cfg.BaseURL = ep.baseURL.String()
	}
	cfg.HTTPClient = &doer{
		client:             httpClient,
		extra:              headers,
		stripAuthorization: ep.deployment,
		log:                log,
	}
	return &provider{
		typ:        s.Type,
		client:     openai.NewClientWithConfig(cfg),
		deployment: ep.deployment,
		store:      s.Type != providers.OpenRouter,
		retry:      s.RetryOrDefault(),
		log:        log,
		key:        s.APIKey,
	}, nil
}

// Type names the provider family.
func (p *provider) Type() providers.Type { return p.typ }

// wireModel is the model name sent: the deployment for Azure (caps.Deployment, required) and
// DIAL (caps.Deployment, or the model name), the canonical name otherwise.
func (p *provider) wireModel(caps *providers.Capabilities, req providers.Request) (string, error) {
	if !p.deployment {
		return req.Model, nil
	}
	name := strings.TrimSpace(caps.Deployment)
	if name == "" {
		if p.typ == providers.Azure {
			return "", fmt.Errorf("%w: azure model %s has no deployment in the catalogue", providers.ErrInvalidRequest, req.Model)
		}
		name = req.Model
	}
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\?#%") || strings.ContainsFunc(name, isSpaceOrControl) {
		return "", fmt.Errorf("%w: deployment name %q is not usable in a URL path", providers.ErrInvalidRequest, name)
	}
	return name, nil
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

// Generate sends req and returns the answer. Retryable failures (429 rate limits, 5xx,
// timeouts, dropped connections) are retried on the Settings.Retry schedule; an empty answer
// with finish reason "stop" is asked again once, outside that schedule, then fails with
// providers.ErrBlocked, as do content-filter stops and refusals. Cancelling ctx stops at once
// and returns ctx.Err().
func (p *provider) Generate(ctx context.Context, caps *providers.Capabilities, req providers.Request) (*providers.Response, error) {
	if caps == nil {
		return nil, fmt.Errorf("%w: no capabilities for model %s", providers.ErrInvalidRequest, req.Model)
	}
	if err := checkRequest(caps, req); err != nil {
		return nil, err
	}
	wireModel, err := p.wireModel(caps, req)
	if err != nil {
		return nil, err
	}

	var send func(ctx context.Context) (result, error)
	endpoint := "chat/completions"
	if caps.UseResponsesAPI {
		endpoint = "responses"
		body := responsesRequest(wireModel, caps, req, p.store)
		send = func(ctx context.Context) (result, error) { return p.sendResponses(ctx, body) }
	} else {
		body := chatRequest(wireModel, caps, req)
		send = func(ctx context.Context) (result, error) { return p.sendChat(ctx, body) }
	}

	attempt := 0
	emptyRetried := false
	return providers.Retry(ctx, p.retry, p.typ, req.Model, func(ctx context.Context) (*providers.Response, error) {
		for {
			attempt++
			p.log.Debug("openaicompat request", "model", req.Model, "endpoint", endpoint, "call", attempt,
				"images", len(req.Images), "temperature_sent", req.Temperature != nil && caps.AcceptsTemperature() && !caps.UseResponsesAPI)
			res, err := send(ctx)
			if err != nil {
				if ctxErr := ctx.Err(); ctxErr != nil {
					return nil, ctxErr
				}
				p.log.Debug("openaicompat call failed", "model", req.Model, "call", attempt, "error", err.Error())
				return nil, err
			}
			if res.finishReason == string(openai.FinishReasonContentFilter) {
				return nil, p.blocked(req.Model, "content filter stopped the answer")
			}
			if strings.TrimSpace(res.content) == "" {
				if res.refusal != "" {
					return nil, p.blocked(req.Model, "the model refused: "+p.scrub(res.refusal))
				}
				if res.finishReason == string(openai.FinishReasonStop) && !emptyRetried {
					emptyRetried = true
					p.log.Debug("openaicompat empty answer with finish reason stop; asking once more", "model", req.Model)
					continue
				}
				return nil, p.blocked(req.Model, fmt.Sprintf("empty answer (finish reason %q)", res.finishReason))
			}
			model := res.model
			if model == "" {
				model = req.Model
			}
			p.log.Debug("openaicompat answer", "model", model, "finish_reason", res.finishReason,
				"input_tokens", res.usage.InputTokens, "output_tokens", res.usage.OutputTokens)
			return &providers.Response{
				Content:      res.content,
				Model:        model,
				Provider:     p.typ,
				FinishReason: res.finishReason,
				Usage:        res.usage,
			}, nil
		}
	})
}

func (p *provider) blocked(model, why string) error {
	return fmt.Errorf("%w: %s model %s: %s", providers.ErrBlocked, p.typ, model, why)
}

func (p *provider) sendChat(ctx context.Context, body openai.ChatCompletionRequest) (result, error) {
	resp, err := p.client.CreateChatCompletion(ctx, body)
	if err != nil {
		if ctx.Err() != nil {
			return result{}, ctx.Err()
		}
		return result{}, p.classify(err)
	}
	res, err := chatResult(&resp)
	if err != nil {
		return res, &providers.APIError{Provider: p.typ, Kind: providers.KindTransient, StatusCode: http.StatusOK,
			Message: err.Error(), Retryable: true}
	}
	return res, nil
}

func (p *provider) sendResponses(ctx context.Context, body openai.CreateResponseRequest) (result, error) {
	resp, err := p.client.CreateResponse(ctx, body)
	if err != nil {
		if ctx.Err() != nil {
			return result{}, ctx.Err()
		}
		return result{}, p.classify(err)
	}
	res, failure := responsesResult(&resp)
	if failure != nil {
		kind, retry := responsesFailure(*failure)
		msg := p.scrub(failure.Message)
		if msg == "" {
			msg = "response failed"
		}
		return res, &providers.APIError{Provider: p.typ, Kind: kind, StatusCode: http.StatusOK, Message: msg, Retryable: retry}
	}
	return res, nil
}

// String describes the provider without any configuration, so printing it with %v or %+v
// cannot show the key held by the go-openai client.
func (p *provider) String() string { return "openaicompat provider (" + string(p.typ) + ")" }

// GoString is String for %#v.
func (p *provider) GoString() string { return p.String() }

// LogValue is what slog records for the provider.
func (p *provider) LogValue() slog.Value {
	return slog.GroupValue(slog.String("provider", string(p.typ)))
}
