package gemini

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/pal-mcp/pal/providers"
	"github.com/pal-mcp/pal/providers/internal/providertest"
)

func TestRequestWireFormat(t *testing.T) {
	t.Parallel()
	png := []byte{0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3}
	noSystem := flashCaps()
	noSystem.SupportsSystemPrompts = providertest.Ptr(false)
	noTemp := flashCaps()
	noTemp.SupportsTemperature = providertest.Ptr(false)

	tests := []struct {
		name  string
		caps  *providers.Capabilities
		req   providers.Request
		check func(t *testing.T, body map[string]any)
	}{
		{
			name: "plain prompt with system instruction, no temperature, no thinking",
			caps: flashCaps(),
			req:  providers.Request{Model: "gemini-2.5-flash", SystemPrompt: "You are terse.", Prompt: "Say hi"},
			check: func(t *testing.T, body map[string]any) {
				if got := providertest.MustPath(t, body, "contents", 0, "role"); got != "user" {
					t.Errorf("role = %v", got)
				}
				if got := providertest.MustPath(t, body, "contents", 0, "parts", 0, "text"); got != "Say hi" {
					t.Errorf("user text = %q", got)
				}
				if got := providertest.MustPath(t, body, "systemInstruction", "parts", 0, "text"); got != "You are terse." {
					t.Errorf("system instruction = %q", got)
				}
				if got := providertest.MustPath(t, body, "generationConfig", "candidateCount"); got != float64(1) {
					t.Errorf("candidateCount = %v", got)
				}
				if _, ok := providertest.Path(body, "generationConfig", "temperature"); ok {
					t.Error("temperature sent although the request has none")
				}
				if _, ok := providertest.Path(body, "generationConfig", "thinkingConfig"); ok {
					t.Error("thinkingConfig sent without a thinking mode")
				}
			},
		},
		{
			name: "temperature present",
			caps: flashCaps(),
			req:  providers.Request{Model: "gemini-2.5-flash", Prompt: "p", Temperature: providertest.Ptr(0.3)},
			check: func(t *testing.T, body map[string]any) {
				got, ok := providertest.MustPath(t, body, "generationConfig", "temperature").(float64)
				if !ok || float32(got) != float32(0.3) {
					t.Errorf("temperature = %v, want 0.3", got)
				}
				if _, ok := providertest.Path(body, "systemInstruction"); ok {
					t.Error("systemInstruction sent without a system prompt")
				}
			},
		},
		{
			name: "temperature dropped for a model that takes none",
			caps: noTemp,
			req:  providers.Request{Model: "gemini-2.5-flash", Prompt: "p", Temperature: providertest.Ptr(0.7)},
			check: func(t *testing.T, body map[string]any) {
				if _, ok := providertest.Path(body, "generationConfig", "temperature"); ok {
					t.Error("temperature sent to a model without temperature support")
				}
			},
		},
		{
			name: "system prompt concatenated when the model takes no system prompt",
			caps: noSystem,
			req:  providers.Request{Model: "gemini-2.5-flash", SystemPrompt: "SYS", Prompt: "USER"},
			check: func(t *testing.T, body map[string]any) {
				if got := providertest.MustPath(t, body, "contents", 0, "parts", 0, "text"); got != "SYS\n\nUSER" {
					t.Errorf("user text = %q", got)
				}
				if _, ok := providertest.Path(body, "systemInstruction"); ok {
					t.Error("systemInstruction sent to a model without system prompts")
				}
			},
		},
		{
			name: "images as inline data after the text",
			caps: flashCaps(),
			req: providers.Request{Model: "gemini-2.5-flash", Prompt: "describe", Images: []providers.Image{
				{MIMEType: "image/png", Data: png}, {MIMEType: "image/jpeg", Data: []byte{0xff, 0xd8, 0xff}},
			}},
			check: func(t *testing.T, body map[string]any) {
				parts := providertest.MustPath(t, body, "contents", 0, "parts").([]any)
				if len(parts) != 3 {
					t.Fatalf("parts = %d, want 3", len(parts))
				}
				if got := providertest.MustPath(t, parts[1], "inlineData", "mimeType"); got != "image/png" {
					t.Errorf("mimeType = %v", got)
				}
				if got := providertest.MustPath(t, parts[1], "inlineData", "data"); got != base64.StdEncoding.EncodeToString(png) {
					t.Errorf("data = %v", got)
				}
				if got := providertest.MustPath(t, parts[2], "inlineData", "mimeType"); got != "image/jpeg" {
					t.Errorf("second mimeType = %v", got)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t, reply{Status: 200, Body: okBody})
			p := newTestProvider(t, f, &providertest.Sleeps{}, nil)
			if _, err := p.Generate(context.Background(), tc.caps, tc.req); err != nil {
				t.Fatalf("Generate: %v", err)
			}
			reqs := f.Requests()
			if len(reqs) != 1 {
				t.Fatalf("requests = %d, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodPost {
				t.Errorf("method = %s", r.Method)
			}
			if r.Path != "/v1beta/models/gemini-2.5-flash:generateContent" {
				t.Errorf("path = %q", r.Path)
			}
			if r.RawQuery != "" {
				t.Errorf("query = %q, want none (the key belongs in a header)", r.RawQuery)
			}
			if got := r.Header.Get("x-goog-api-key"); got != testKey {
				t.Errorf("x-goog-api-key = %q", got)
			}
			if got := r.Header.Get("Authorization"); got != "" {
				t.Errorf("Authorization = %q, want none", got)
			}
			if got := r.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			tc.check(t, r.Body)
		})
	}
}

func TestThinkingBudgetOnTheWire(t *testing.T) {
	t.Parallel()
	noThinking := flashCaps()
	noThinking.SupportsThinking = false
	zeroBase := flashCaps()
	zeroBase.MaxThinkingTokens = 0
	tests := []struct {
		caps *providers.Capabilities
		mode string
		want int // 0: no thinkingConfig at all
	}{
		{proCaps("gemini-2.5-pro"), "minimal", 163},
		{proCaps("gemini-2.5-pro"), "low", 2621},
		{proCaps("gemini-2.5-pro"), "medium", 10813},
		{proCaps("gemini-2.5-pro"), "high", 21954},
		{proCaps("gemini-2.5-pro"), "max", 32768},
		{flashCaps(), "minimal", 122},
		{flashCaps(), "low", 1966},
		{flashCaps(), "medium", 8110},
		{flashCaps(), "high", 16465},
		{flashCaps(), "max", 24576},
		{proCaps("gemini-3-pro-preview"), "medium", 21954}, // medium upgraded to high
		{proCaps("gemini-3-pro-preview"), "low", 2621},
		{proCaps("gemini-3-pro-preview"), "max", 32768},
		{noThinking, "high", 0},
		{zeroBase, "high", 0},
		{flashCaps(), "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.caps.ModelName+"/"+tc.mode, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t, reply{Status: 200, Body: okBody})
			p := newTestProvider(t, f, &providertest.Sleeps{}, nil)
			req := providers.Request{Model: tc.caps.ModelName, Prompt: "think", ThinkingMode: tc.mode}
			if _, err := p.Generate(context.Background(), tc.caps, req); err != nil {
				t.Fatalf("Generate: %v", err)
			}
			body := f.Requests()[0].Body
			got, ok := providertest.Path(body, "generationConfig", "thinkingConfig", "thinkingBudget")
			if tc.want == 0 {
				if _, present := providertest.Path(body, "generationConfig", "thinkingConfig"); present {
					t.Fatalf("thinkingConfig sent: %v", got)
				}
				return
			}
			if !ok || got != float64(tc.want) {
				t.Fatalf("thinkingBudget = %v, want %d", got, tc.want)
			}
		})
	}
}

func TestResponseParsing(t *testing.T) {
	t.Parallel()
	thoughtBody := `{"candidates":[{"content":{"role":"model","parts":[
	  {"text":"**Planning** I should greet.","thought":true},
	  {"text":"Hi "},{"text":"there."}]},"finishReason":"STOP"}],
	  "usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2,"thoughtsTokenCount":9,"totalTokenCount":14},
	  "modelVersion":"gemini-2.5-pro"}`
	lengthBody := `{"candidates":[{"content":{"role":"model","parts":[{"text":"Partial answ"}]},"finishReason":"MAX_TOKENS"}],
	  "usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":100,"totalTokenCount":107}}`
	tests := []providertest.ResponseCase{
		{Name: "stop with usage", Body: okBody, Want: providers.Response{
			Content: "Hello from Gemini.", Model: "gemini-2.5-flash", Provider: providers.Google, FinishReason: "stop",
			Usage: providers.Usage{InputTokens: 12, OutputTokens: 5, TotalTokens: 40},
		}},
		{Name: "thought parts skipped", Body: thoughtBody, Want: providers.Response{
			Content: "Hi there.", Model: "gemini-2.5-pro", Provider: providers.Google, FinishReason: "stop",
			Usage: providers.Usage{InputTokens: 3, OutputTokens: 2, TotalTokens: 14},
		}},
		{Name: "max tokens is length; model falls back to the request's", Body: lengthBody, Want: providers.Response{
			Content: "Partial answ", Model: "gemini-2.5-flash", Provider: providers.Google, FinishReason: "length",
			Usage: providers.Usage{InputTokens: 7, OutputTokens: 100, TotalTokens: 107},
		}},
	}
	harness.CheckResponses(t, tests)
}

func TestEmptyStopAskedAgainOnce(t *testing.T) {
	t.Parallel()
	harness.CheckEmptyAnswerAskedAgainOnce(t, reply{Status: 200, Body: emptyStopBody}, reply{Status: 200, Body: okBody}, "Hello from Gemini.")
}

func TestBlockedAnswers(t *testing.T) {
	t.Parallel()
	tests := []providertest.BlockedCase{
		{Name: "safety finish", Body: `{"candidates":[{"content":{"role":"model","parts":[{"text":"I will expl"}]},"finishReason":"SAFETY","safetyRatings":[
			{"category":"HARM_CATEGORY_DANGEROUS_CONTENT","probability":"HIGH","blocked":true},
			{"category":"HARM_CATEGORY_HARASSMENT","probability":"NEGLIGIBLE"}]}],
			"usageMetadata":{"promptTokenCount":9,"totalTokenCount":9}}`,
			WantIn: []string{"SAFETY", "HARM_CATEGORY_DANGEROUS_CONTENT=HIGH"}},
		{Name: "prohibited content", Body: `{"candidates":[{"finishReason":"PROHIBITED_CONTENT"}]}`, WantIn: []string{"PROHIBITED_CONTENT"}},
		{Name: "recitation", Body: `{"candidates":[{"finishReason":"RECITATION"}]}`, WantIn: []string{"RECITATION"}},
		{Name: "prompt blocked", Body: `{"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[{"category":"HARM_CATEGORY_HATE_SPEECH","probability":"HIGH"}]},
			"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8}}`, WantIn: []string{"prompt was blocked", "SAFETY"}},
		{Name: "no candidates", Body: `{"usageMetadata":{"promptTokenCount":8}}`, WantIn: []string{"no candidate"}},
		{Name: "max tokens without text", Body: `{"candidates":[{"content":{"role":"model"},"finishReason":"MAX_TOKENS"}]}`, WantIn: []string{"output token limit"}},
		{Name: "other without text", Body: `{"candidates":[{"finishReason":"MALFORMED_FUNCTION_CALL"}]}`, WantIn: []string{"MALFORMED_FUNCTION_CALL"}},
	}
	harness.CheckBlocked(t, tests)
}

func TestRetryDecisions(t *testing.T) {
	t.Parallel()
	second := time.Second
	tests := []providertest.RetryCase{
		{Name: "429 rate limit is retried", Replies: []reply{
			{Status: 429, Body: errBody(429, "RESOURCE_EXHAUSTED", "Too many requests, please slow down.")},
			{Status: 200, Body: okBody},
		}, WantCalls: 2, WantDelays: []time.Duration{second}},
		{Name: "429 quota is not retried", Replies: []reply{
			{Status: 429, Body: errBody(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and billing details.")},
		}, WantErr: true, Kind: providers.KindQuota, WantCalls: 1},
		{Name: "429 resource exhausted is not retried", Replies: []reply{
			{Status: 429, Body: errBody(429, "RESOURCE_EXHAUSTED", "Resource exhausted for this project.")},
		}, WantErr: true, Kind: providers.KindQuota, WantCalls: 1},
		{Name: "429 token limit is not retried", Replies: []reply{
			{Status: 429, Body: errBody(429, "RESOURCE_EXHAUSTED", "Request exceeds the token limit for this model.")},
		}, WantErr: true, Kind: providers.KindContextLength, WantCalls: 1},
		{Name: "400 input token count is context length", Replies: []reply{
			{Status: 400, Body: errBody(400, "INVALID_ARGUMENT", "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).")},
		}, WantErr: true, Kind: providers.KindContextLength, WantCalls: 1},
		{Name: "400 other is invalid", Replies: []reply{
			{Status: 400, Body: errBody(400, "INVALID_ARGUMENT", "Invalid value at 'generation_config.temperature'.")},
		}, WantErr: true, Kind: providers.KindInvalid, WantCalls: 1},
		{Name: "401 is auth", Replies: []reply{
			{Status: 401, Body: errBody(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")},
		}, WantErr: true, Kind: providers.KindAuth, WantCalls: 1},
		{Name: "403 is auth", Replies: []reply{
			{Status: 403, Body: errBody(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers.")},
		}, WantErr: true, Kind: providers.KindAuth, WantCalls: 1},
		{Name: "404 is invalid", Replies: []reply{
			{Status: 404, Body: errBody(404, "NOT_FOUND", "models/gemini-9 is not found for API version v1beta.")},
		}, WantErr: true, Kind: providers.KindInvalid, WantCalls: 1},
		{Name: "503 then success", Replies: []reply{
			{Status: 503, Body: errBody(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")},
			{Status: 200, Body: okBody},
		}, WantCalls: 2, WantDelays: []time.Duration{second}},
		{Name: "500 every time uses all four attempts", Replies: []reply{
			{Status: 500, Body: errBody(500, "INTERNAL", "An internal error has occurred.")},
		}, WantErr: true, Kind: providers.KindTransient, Retryable: true, WantCalls: 4, WantDelays: []time.Duration{second, 3 * second, 5 * second}},
		{Name: "502 html page is retried", Replies: []reply{
			{Status: 502, Body: "<html><body>Bad Gateway</body></html>", ContentType: "text/html"},
			{Status: 200, Body: okBody},
		}, WantCalls: 2, WantDelays: []time.Duration{second}},
		{Name: "504 deadline is retried", Replies: []reply{
			{Status: 504, Body: errBody(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.")},
			{Status: 200, Body: okBody},
		}, WantCalls: 2, WantDelays: []time.Duration{second}},
	}
	harness.CheckRetryDecisions(t, tests, nil)
}

func TestConnectionFailureIsRetried(t *testing.T) {
	t.Parallel()
	harness.CheckConnectionFailureIsRetried(t)
}

func TestCancelStopsRetriesAtOnce(t *testing.T) {
	t.Parallel()
	harness.CheckCancelStopsRetriesAtOnce(t, reply{Status: 503, Body: errBody(503, "UNAVAILABLE", "overloaded")})
}

func TestKeyNeverLeaks(t *testing.T) {
	t.Parallel()
	echo := "API key " + testKey + " not valid. Called https://generativelanguage.googleapis.com/v1beta/models/x:generateContent?key=" + testKey
	tests := []providertest.ReplyCase{
		{Name: "success", Replies: []reply{{Status: 200, Body: okBody}}},
		{Name: "400 echoing the key", Replies: []reply{{Status: 400, Body: errBody(400, "INVALID_ARGUMENT", echo)}}},
		{Name: "500 echoing the key", Replies: []reply{{Status: 500, Body: errBody(500, "INTERNAL", echo)}}},
		{Name: "plain-text 401 echoing the key", Replies: []reply{{Status: 401, Body: echo, ContentType: "text/plain"}}},
		{Name: "429 echoing the key", Replies: []reply{{Status: 429, Body: errBody(429, "RESOURCE_EXHAUSTED", echo)}, {Status: 200, Body: okBody}}},
		{Name: "blocked answer echoing the key", Replies: []reply{{Status: 200, Body: `{"candidates":[{"finishReason":"SAFETY","finishMessage":"` + echo + `"}]}`}}},
		{Name: "prompt block echoing the key", Replies: []reply{{Status: 200, Body: `{"promptFeedback":{"blockReason":"OTHER","blockReasonMessage":"` + echo + `"}}`}}},
		{Name: "non-JSON success echoing the key", Replies: []reply{{Status: 200, Body: "not json " + echo}}},
	}
	harness.CheckKeyNeverLeaks(t, providers.Request{Model: "gemini-2.5-flash", Prompt: "p", ThinkingMode: "low"}, tests)
}

func TestNewRefusesBadSettings(t *testing.T) {
	t.Parallel()
	tests := []providertest.SettingsCase{
		{Name: "no key", Settings: providers.Settings{Type: providers.Google}},
		{Name: "blank key", Settings: providers.Settings{Type: providers.Google, APIKey: "  "}},
		{Name: "placeholder key", Settings: providers.Settings{Type: providers.Google, APIKey: "your_gemini_api_key_here"}},
		{Name: "wrong type", Settings: providers.Settings{Type: providers.OpenAI, APIKey: testKey}},
	}
	harness.CheckNewRefuses(t, tests)
}

func TestBadRequestsAreNotSent(t *testing.T) {
	t.Parallel()
	noImages := flashCaps()
	noImages.SupportsImages = false
	small := flashCaps()
	small.MaxImageSizeMB = 0.000001
	img := []providers.Image{{MIMEType: "image/png", Data: []byte("\x89PNG\r\n\x1a\n0123")}}
	tests := []providertest.RequestCase{
		{Name: "no capabilities", Request: providers.Request{Model: "gemini-2.5-flash", Prompt: "p"}},
		{Name: "model with a slash", Caps: flashCaps(), Request: providers.Request{Model: "../files/x", Prompt: "p"}},
		{Name: "model with a query", Caps: flashCaps(), Request: providers.Request{Model: "gemini?alt=sse", Prompt: "p"}},
		{Name: "model with a colon", Caps: flashCaps(), Request: providers.Request{Model: "gemini:streamGenerateContent", Prompt: "p"}},
		{Name: "images for a text-only model", Caps: noImages, Request: providers.Request{Model: "gemini-2.5-flash", Prompt: "p", Images: img}},
		{Name: "unknown image type", Caps: flashCaps(), Request: providers.Request{Model: "gemini-2.5-flash", Prompt: "p", Images: []providers.Image{{MIMEType: "text/html", Data: []byte("<p>")}}}},
		{Name: "image bytes are not the claimed type", Caps: flashCaps(), Request: providers.Request{Model: "gemini-2.5-flash", Prompt: "p", Images: []providers.Image{{MIMEType: "image/png", Data: []byte("GIF89a....")}}}},
		{Name: "empty image", Caps: flashCaps(), Request: providers.Request{Model: "gemini-2.5-flash", Prompt: "p", Images: []providers.Image{{MIMEType: "image/png"}}}},
		{Name: "images over the size limit", Caps: small, Request: providers.Request{Model: "gemini-2.5-flash", Prompt: "p", Images: img}},
		{Name: "unknown thinking mode", Caps: flashCaps(), Request: providers.Request{Model: "gemini-2.5-flash", Prompt: "p", ThinkingMode: "extreme"}},
	}
	harness.CheckNotSent(t, reply{Status: 200, Body: okBody}, tests)
}

// TestRedirectIsNotFollowed: with the provider's own HTTP client a redirect is an error, and
// the key header never reaches the redirect target.
func TestRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	err := harness.GenerateThroughRedirect(t, reply{Status: 200, Body: okBody})
	var apiErr *providers.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTemporaryRedirect || apiErr.Retryable {
		t.Fatalf("err = %v, want a non-retryable 307 APIError", err)
	}
}

// TestEnvironmentCannotRedirect: the genai SDK reads GOOGLE_GEMINI_BASE_URL and
// GOOGLE_GENAI_USE_VERTEXAI; the provider pins both so the key goes only to Settings.BaseURL.
func TestEnvironmentCannotRedirect(t *testing.T) {
	elsewhere := newFakeAPI(t, reply{Status: 200, Body: okBody})
	t.Setenv("GOOGLE_GEMINI_BASE_URL", elsewhere.Server.URL)
	t.Setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
	t.Setenv("GOOGLE_API_KEY", "other-key")
	f := newFakeAPI(t, reply{Status: 200, Body: okBody})
	p := newTestProvider(t, f, &providertest.Sleeps{}, nil)
	if _, err := p.Generate(context.Background(), flashCaps(), providers.Request{Model: "gemini-2.5-flash", Prompt: "p"}); err != nil {
		t.Fatal(err)
	}
	if len(elsewhere.Requests()) != 0 || len(f.Requests()) != 1 {
		t.Fatalf("requests: configured %d, environment's %d", len(f.Requests()), len(elsewhere.Requests()))
	}
	if got := f.Requests()[0].Header.Get("x-goog-api-key"); got != testKey {
		t.Fatalf("key header = %q", got)
	}
}

func TestDefaultBaseURLPath(t *testing.T) {
	t.Parallel()
	// A base URL with a path prefix keeps it: <base>/v1beta/models/<m>:generateContent.
	f := newFakeAPI(t, reply{Status: 200, Body: okBody})
	p, err := New(providers.Settings{APIKey: testKey, BaseURL: f.Server.URL + "/proxy/gemini/", HTTPClient: f.Server.Client(), Retry: providertest.PALRetry(&providertest.Sleeps{})})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Generate(context.Background(), flashCaps(), providers.Request{Model: "gemini-2.5-flash", Prompt: "p"}); err != nil {
		t.Fatal(err)
	}
	if got := f.Requests()[0].Path; got != "/proxy/gemini/v1beta/models/gemini-2.5-flash:generateContent" {
		t.Fatalf("path = %q", got)
	}
	if p.Type() != providers.Google {
		t.Fatalf("Type = %q", p.Type())
	}
}

// TestConcurrentUse runs generations side by side on one provider (meaningful under -race).
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	harness.CheckConcurrentUse(t, reply{Status: 200, Body: okBody}, providers.Request{Model: "gemini-2.5-flash", Prompt: "p", Temperature: providertest.Ptr(0.5), ThinkingMode: "high"})
}

func TestExtraHeadersCannotReplaceAuth(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, reply{Status: 200, Body: okBody})
	p, err := New(providers.Settings{
		APIKey: testKey, BaseURL: f.Server.URL, HTTPClient: f.Server.Client(), Retry: providertest.PALRetry(&providertest.Sleeps{}),
		Headers: map[string]string{"X-Goog-Api-Key": "other", "X-Trace": "t1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Generate(context.Background(), flashCaps(), providers.Request{Model: "gemini-2.5-flash", Prompt: "p"}); err != nil {
		t.Fatal(err)
	}
	h := f.Requests()[0].Header
	if got := h.Values("x-goog-api-key"); len(got) != 1 || got[0] != testKey || h.Get("X-Trace") != "t1" {
		t.Fatalf("headers = %v", h)
	}
}
