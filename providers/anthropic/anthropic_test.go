package anthropic

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pal-mcp/pal/providers"
	"github.com/pal-mcp/pal/providers/internal/providertest"
)

var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

func TestRequestWireFormat(t *testing.T) {
	t.Parallel()
	noTemp := sonnetCaps()
	noTemp.SupportsTemperature = providertest.Ptr(false)
	tests := []struct {
		name  string
		caps  *providers.Capabilities
		req   providers.Request
		check func(t *testing.T, body map[string]any)
	}{
		{
			name: "system, prompt, max_tokens from the catalogue, no temperature, no thinking",
			caps: sonnetCaps(),
			req:  providers.Request{Model: "claude-sonnet-4-5", SystemPrompt: "You are terse.", Prompt: "Say hi"},
			check: func(t *testing.T, body map[string]any) {
				if got := providertest.MustPath(t, body, "model"); got != "claude-sonnet-4-5" {
					t.Errorf("model = %v", got)
				}
				if got := providertest.MustPath(t, body, "max_tokens"); got != float64(64000) {
					t.Errorf("max_tokens = %v", got)
				}
				if got := providertest.MustPath(t, body, "system", 0, "text"); got != "You are terse." {
					t.Errorf("system = %v", got)
				}
				if got := providertest.MustPath(t, body, "system", 0, "type"); got != "text" {
					t.Errorf("system block type = %v", got)
				}
				if got := providertest.MustPath(t, body, "messages", 0, "role"); got != "user" {
					t.Errorf("role = %v", got)
				}
				if got := providertest.MustPath(t, body, "messages", 0, "content", 0, "type"); got != "text" {
					t.Errorf("content type = %v", got)
				}
				if got := providertest.MustPath(t, body, "messages", 0, "content", 0, "text"); got != "Say hi" {
					t.Errorf("text = %v", got)
				}
				for _, absent := range []string{"temperature", "thinking", "stream", "top_p", "top_k"} {
					if _, ok := providertest.Path(body, absent); ok {
						t.Errorf("%s sent", absent)
					}
				}
			},
		},
		{
			name: "temperature present",
			caps: sonnetCaps(),
			req:  providers.Request{Model: "claude-sonnet-4-5", Prompt: "p", Temperature: providertest.Ptr(0.3)},
			check: func(t *testing.T, body map[string]any) {
				if got := providertest.MustPath(t, body, "temperature"); got != 0.3 {
					t.Errorf("temperature = %v", got)
				}
				if _, ok := providertest.Path(body, "system"); ok {
					t.Error("system sent without a system prompt")
				}
			},
		},
		{
			name: "temperature clamped to the API's 0..1",
			caps: sonnetCaps(),
			req:  providers.Request{Model: "claude-sonnet-4-5", Prompt: "p", Temperature: providertest.Ptr(1.5)},
			check: func(t *testing.T, body map[string]any) {
				if got := providertest.MustPath(t, body, "temperature"); got != 1.0 {
					t.Errorf("temperature = %v", got)
				}
			},
		},
		{
			name: "temperature dropped for a model that takes none",
			caps: noTemp,
			req:  providers.Request{Model: "claude-sonnet-4-5", Prompt: "p", Temperature: providertest.Ptr(0.5)},
			check: func(t *testing.T, body map[string]any) {
				if _, ok := providertest.Path(body, "temperature"); ok {
					t.Error("temperature sent")
				}
			},
		},
		{
			name: "thinking drops the temperature",
			caps: sonnetCaps(),
			req:  providers.Request{Model: "claude-sonnet-4-5", Prompt: "p", Temperature: providertest.Ptr(0.3), ThinkingMode: "high"},
			check: func(t *testing.T, body map[string]any) {
				if _, ok := providertest.Path(body, "temperature"); ok {
					t.Error("temperature sent with thinking")
				}
				if got := providertest.MustPath(t, body, "thinking", "type"); got != "enabled" {
					t.Errorf("thinking.type = %v", got)
				}
			},
		},
		{
			name: "images as base64 blocks before the text",
			caps: sonnetCaps(),
			req: providers.Request{Model: "claude-sonnet-4-5", Prompt: "describe", Images: []providers.Image{
				{MIMEType: "image/png", Data: pngBytes},
				{MIMEType: "image/jpeg", Data: []byte{0xff, 0xd8, 0xff, 0xe0}},
			}},
			check: func(t *testing.T, body map[string]any) {
				content := providertest.MustPath(t, body, "messages", 0, "content").([]any)
				if len(content) != 3 {
					t.Fatalf("content blocks = %d, want 3", len(content))
				}
				want := []struct{ media, data string }{
					{"image/png", base64.StdEncoding.EncodeToString(pngBytes)},
					{"image/jpeg", base64.StdEncoding.EncodeToString([]byte{0xff, 0xd8, 0xff, 0xe0})},
				}
				for i, w := range want {
					if got := providertest.MustPath(t, content[i], "type"); got != "image" {
						t.Errorf("block %d type = %v", i, got)
					}
					if got := providertest.MustPath(t, content[i], "source", "type"); got != "base64" {
						t.Errorf("block %d source.type = %v", i, got)
					}
					if got := providertest.MustPath(t, content[i], "source", "media_type"); got != w.media {
						t.Errorf("block %d media_type = %v", i, got)
					}
					if got := providertest.MustPath(t, content[i], "source", "data"); got != w.data {
						t.Errorf("block %d data = %v", i, got)
					}
				}
				if got := providertest.MustPath(t, content[2], "text"); got != "describe" {
					t.Errorf("last block text = %v", got)
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
			if r.Method != http.MethodPost || r.Path != "/v1/messages" || r.RawQuery != "" {
				t.Errorf("request line = %s %s ?%s", r.Method, r.Path, r.RawQuery)
			}
			if got := r.Header.Get("x-api-key"); got != testKey {
				t.Errorf("x-api-key = %q", got)
			}
			if got := r.Header.Get("anthropic-version"); got != "2023-06-01" {
				t.Errorf("anthropic-version = %q", got)
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

func TestThinkingOnTheWire(t *testing.T) {
	t.Parallel()
	noThinking := sonnetCaps()
	noThinking.SupportsThinking = false
	noBase := sonnetCaps()
	noBase.MaxThinkingTokens = 0
	unknownMax := sonnetCaps()
	unknownMax.MaxOutputTokens = 0
	smallMax := sonnetCaps()
	smallMax.MaxOutputTokens = 4096
	tinyMax := sonnetCaps()
	tinyMax.MaxOutputTokens = 1500
	tests := []struct {
		name          string
		caps          *providers.Capabilities
		mode          string
		wantMaxTokens int
		wantBudget    int // 0: no thinking field
	}{
		{"minimal raised to 1024", sonnetCaps(), "minimal", 64000, 1024}, // int(32000×0.005)=160
		{"low", sonnetCaps(), "low", 64000, 2560},
		{"medium", sonnetCaps(), "medium", 64000, 10560},
		{"high", sonnetCaps(), "high", 64000, 21440},
		{"max", sonnetCaps(), "max", 64000, 32000},
		{"no mode", sonnetCaps(), "", 64000, 0},
		{"model without thinking", noThinking, "high", 64000, 0},
		{"no max_thinking_tokens", noBase, "high", 64000, 0},
		{"no max_output_tokens: default plus budget", unknownMax, "high", 21440 + DefaultMaxTokens, 21440},
		{"no max_output_tokens, no thinking: default", unknownMax, "", DefaultMaxTokens, 0},
		{"budget lowered below max_tokens", smallMax, "max", 4096, 4096 - 1024},
		{"too little room: thinking off", tinyMax, "max", 1500, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t, reply{Status: 200, Body: okBody})
			p := newTestProvider(t, f, &providertest.Sleeps{}, nil)
			req := providers.Request{Model: "claude-sonnet-4-5", Prompt: "think", ThinkingMode: tc.mode}
			if _, err := p.Generate(context.Background(), tc.caps, req); err != nil {
				t.Fatalf("Generate: %v", err)
			}
			body := f.Requests()[0].Body
			if got := providertest.MustPath(t, body, "max_tokens"); got != float64(tc.wantMaxTokens) {
				t.Errorf("max_tokens = %v, want %d", got, tc.wantMaxTokens)
			}
			if tc.wantBudget == 0 {
				if v, ok := providertest.Path(body, "thinking"); ok {
					t.Fatalf("thinking sent: %v", v)
				}
				return
			}
			if got := providertest.MustPath(t, body, "thinking", "type"); got != "enabled" {
				t.Errorf("thinking.type = %v", got)
			}
			got := providertest.MustPath(t, body, "thinking", "budget_tokens")
			if got != float64(tc.wantBudget) {
				t.Errorf("budget_tokens = %v, want %d", got, tc.wantBudget)
			}
			if b := got.(float64); b < MinThinkingBudget || b >= providertest.MustPath(t, body, "max_tokens").(float64) {
				t.Errorf("budget %v breaks the API's rules (>=1024, < max_tokens)", b)
			}
		})
	}
}

func TestResponseParsing(t *testing.T) {
	t.Parallel()
	thinkingBody := `{"id":"msg_01T","type":"message","role":"assistant","model":"claude-opus-4-5-20251101",
	  "content":[
	    {"type":"thinking","thinking":"The user wants a greeting. I must not leak this.","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"},
	    {"type":"redacted_thinking","data":"EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"},
	    {"type":"text","text":"Hi "},
	    {"type":"text","text":"there.","citations":null}],
	  "stop_reason":"end_turn","stop_sequence":null,
	  "usage":{"input_tokens":20,"cache_creation_input_tokens":5,"cache_read_input_tokens":7,"output_tokens":300}}`
	lengthBody := `{"id":"msg_01L","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
	  "content":[{"type":"text","text":"Partial answ"}],"stop_reason":"max_tokens","stop_sequence":null,
	  "usage":{"input_tokens":7,"output_tokens":100}}`
	stopSeqBody := `{"id":"msg_01S","type":"message","role":"assistant","model":"",
	  "content":[{"type":"text","text":"Done"}],"stop_reason":"stop_sequence","stop_sequence":"END",
	  "usage":{"input_tokens":1,"output_tokens":1}}`
	tests := []providertest.ResponseCase{
		{Name: "end_turn with usage", Body: okBody, Want: providers.Response{
			Content: "Hello from Claude.", Model: "claude-sonnet-4-5-20250929", Provider: providers.Anthropic, FinishReason: "stop",
			Usage: providers.Usage{InputTokens: 12, OutputTokens: 6, TotalTokens: 18},
		}},
		{Name: "thinking blocks left out, cache tokens counted as input", Body: thinkingBody, Want: providers.Response{
			Content: "Hi there.", Model: "claude-opus-4-5-20251101", Provider: providers.Anthropic, FinishReason: "stop",
			Usage: providers.Usage{InputTokens: 32, OutputTokens: 300, TotalTokens: 332},
		}},
		{Name: "max_tokens is length", Body: lengthBody, Want: providers.Response{
			Content: "Partial answ", Model: "claude-sonnet-4-5-20250929", Provider: providers.Anthropic, FinishReason: "length",
			Usage: providers.Usage{InputTokens: 7, OutputTokens: 100, TotalTokens: 107},
		}},
		{Name: "stop_sequence is stop; model falls back to the request's", Body: stopSeqBody, Want: providers.Response{
			Content: "Done", Model: "claude-sonnet-4-5", Provider: providers.Anthropic, FinishReason: "stop",
			Usage: providers.Usage{InputTokens: 1, OutputTokens: 1, TotalTokens: 2},
		}},
	}
	harness.CheckResponses(t, tests)
}

func TestEmptyEndTurnAskedAgainOnce(t *testing.T) {
	t.Parallel()
	harness.CheckEmptyAnswerAskedAgainOnce(t, reply{Status: 200, Body: emptyEndTurnBody}, reply{Status: 200, Body: okBody}, "Hello from Claude.")
}

func TestBlockedAnswers(t *testing.T) {
	t.Parallel()
	tests := []providertest.BlockedCase{
		{Name: "refusal", Body: `{"id":"msg_01R","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
			"content":[{"type":"text","text":"I can't help with that."}],"stop_reason":"refusal","stop_sequence":null,
			"stop_details":{"type":"refusal","category":"cyber","explanation":"Request for malware."},
			"usage":{"input_tokens":10,"output_tokens":8}}`, WantIn: []string{"refused", "cyber", "Request for malware."}},
		{Name: "refusal without details", Body: `{"id":"msg_01R","type":"message","role":"assistant","model":"m","content":[],
			"stop_reason":"refusal","usage":{"input_tokens":10,"output_tokens":0}}`, WantIn: []string{"refused"}},
		{Name: "max_tokens spent on thinking", Body: `{"id":"msg_01M","type":"message","role":"assistant","model":"m",
			"content":[{"type":"thinking","thinking":"long...","signature":"x"}],"stop_reason":"max_tokens",
			"usage":{"input_tokens":10,"output_tokens":64000}}`, WantIn: []string{"max_tokens"}},
		{Name: "tool use without text", Body: `{"id":"msg_01U","type":"message","role":"assistant","model":"m",
			"content":[{"type":"tool_use","id":"toolu_01","name":"x","input":{}}],"stop_reason":"tool_use",
			"usage":{"input_tokens":10,"output_tokens":5}}`, WantIn: []string{"tool_use"}},
	}
	harness.CheckBlocked(t, tests)
}

func TestRetryDecisions(t *testing.T) {
	t.Parallel()
	second := time.Second
	tests := []providertest.RetryCase{
		{Name: "429 rate_limit_error is retried", Replies: []reply{
			{Status: 429, Body: errBody("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit. Please try again later.")},
			{Status: 200, Body: okBody},
		}, WantCalls: 2, WantDelays: []time.Duration{second}},
		{Name: "529 overloaded_error is retried", Replies: []reply{
			{Status: 529, Body: errBody("overloaded_error", "Overloaded")},
			{Status: 200, Body: okBody},
		}, WantCalls: 2, WantDelays: []time.Duration{second}},
		{Name: "500 api_error every time uses all four attempts", Replies: []reply{
			{Status: 500, Body: errBody("api_error", "Internal server error")},
		}, WantErr: true, Kind: providers.KindTransient, Retryable: true, WantCalls: 4, WantDelays: []time.Duration{second, 3 * second, 5 * second}},
		{Name: "504 timeout_error is retried", Replies: []reply{
			{Status: 504, Body: errBody("timeout_error", "Request timed out")},
			{Status: 200, Body: okBody},
		}, WantCalls: 2, WantDelays: []time.Duration{second}},
		{Name: "502 html page is retried", Replies: []reply{
			{Status: 502, Body: "<html><body>Bad Gateway</body></html>", ContentType: "text/html"},
			{Status: 200, Body: okBody},
		}, WantCalls: 2, WantDelays: []time.Duration{second}},
		{Name: "400 prompt too long is context length", Replies: []reply{
			{Status: 400, Body: errBody("invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum")},
		}, WantErr: true, Kind: providers.KindContextLength, WantCalls: 1},
		{Name: "400 context limit is context length", Replies: []reply{
			{Status: 400, Body: errBody("invalid_request_error", "input length and `max_tokens` exceed context limit: 187254 + 20000 > 200000, decrease input length or `max_tokens` and try again")},
		}, WantErr: true, Kind: providers.KindContextLength, WantCalls: 1},
		{Name: "400 other is invalid", Replies: []reply{
			{Status: 400, Body: errBody("invalid_request_error", "temperature: range: 0..1")},
		}, WantErr: true, Kind: providers.KindInvalid, WantCalls: 1},
		{Name: "401 authentication_error", Replies: []reply{
			{Status: 401, Body: errBody("authentication_error", "invalid x-api-key")},
		}, WantErr: true, Kind: providers.KindAuth, WantCalls: 1},
		{Name: "403 permission_error", Replies: []reply{
			{Status: 403, Body: errBody("permission_error", "Your API key does not have permission to use the specified resource.")},
		}, WantErr: true, Kind: providers.KindAuth, WantCalls: 1},
		{Name: "402 billing_error", Replies: []reply{
			{Status: 402, Body: errBody("billing_error", "Your credit balance is too low.")},
		}, WantErr: true, Kind: providers.KindQuota, WantCalls: 1},
		{Name: "404 not_found_error", Replies: []reply{
			{Status: 404, Body: errBody("not_found_error", "model: claude-9")},
		}, WantErr: true, Kind: providers.KindInvalid, WantCalls: 1},
		{Name: "413 request_too_large", Replies: []reply{
			{Status: 413, Body: errBody("request_too_large", "Request exceeds the maximum allowed number of bytes.")},
		}, WantErr: true, Kind: providers.KindInvalid, WantCalls: 1},
	}
	harness.CheckRetryDecisions(t, tests, func(t *testing.T, i int, r providertest.Request) {
		if got := r.Header.Get("X-Stainless-Retry-Count"); got != "0" {
			t.Errorf("request %d: X-Stainless-Retry-Count = %q, want 0", i, got)
		}
	})
}

func TestErrorMessageKeepsTypeAndRequestID(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, reply{Status: 400, Body: errBody("invalid_request_error", "messages: at least one message is required")})
	p := newTestProvider(t, f, &providertest.Sleeps{}, nil)
	_, err := p.Generate(context.Background(), sonnetCaps(), providers.Request{Model: "claude-sonnet-4-5", Prompt: "p"})
	want := "invalid_request_error: messages: at least one message is required (request-id req_011CSHoEeqs5C35K2UUqR7Fy)"
	var apiErr *providers.APIError
	if !errors.As(err, &apiErr) || apiErr.Message != want || apiErr.StatusCode != 400 {
		t.Fatalf("err = %v\nwant message %q", err, want)
	}
}

func TestConnectionFailureIsRetried(t *testing.T) {
	t.Parallel()
	harness.CheckConnectionFailureIsRetried(t)
}

func TestCancelStopsRetriesAtOnce(t *testing.T) {
	t.Parallel()
	harness.CheckCancelStopsRetriesAtOnce(t, reply{Status: 529, Body: errBody("overloaded_error", "Overloaded")})
}

func TestKeyNeverLeaks(t *testing.T) {
	t.Parallel()
	echo := "invalid x-api-key " + testKey + " (sent to https://api.anthropic.com/v1/messages?api_key=" + testKey + ")"
	tests := []providertest.ReplyCase{
		{Name: "success", Replies: []reply{{Status: 200, Body: okBody}}},
		{Name: "401 echoing the key", Replies: []reply{{Status: 401, Body: errBody("authentication_error", echo)}}},
		{Name: "400 echoing the key", Replies: []reply{{Status: 400, Body: errBody("invalid_request_error", echo)}}},
		{Name: "529 echoing the key", Replies: []reply{{Status: 529, Body: errBody("overloaded_error", echo)}}},
		{Name: "plain-text 403 echoing the key", Replies: []reply{{Status: 403, Body: echo, ContentType: "text/plain"}}},
		{Name: "429 echoing the key, then success", Replies: []reply{{Status: 429, Body: errBody("rate_limit_error", echo)}, {Status: 200, Body: okBody}}},
		{Name: "refusal echoing the key", Replies: []reply{{Status: 200, Body: `{"id":"m","type":"message","role":"assistant","model":"m","content":[],
			"stop_reason":"refusal","stop_details":{"type":"refusal","category":"cyber","explanation":"` + echo + `"},"usage":{"input_tokens":1,"output_tokens":0}}`}}},
		{Name: "odd stop reason echoing the key", Replies: []reply{{Status: 200, Body: `{"id":"m","type":"message","role":"assistant","model":"m","content":[],
			"stop_reason":"` + testKey + `","usage":{"input_tokens":1,"output_tokens":0}}`}}},
		{Name: "non-JSON success echoing the key", Replies: []reply{{Status: 200, Body: "not json " + echo}}},
	}
	harness.CheckKeyNeverLeaks(t, providers.Request{Model: "claude-sonnet-4-5", Prompt: "p", ThinkingMode: "low"}, tests)
}

func TestNewRefusesBadSettings(t *testing.T) {
	t.Parallel()
	tests := []providertest.SettingsCase{
		{Name: "no key", Settings: providers.Settings{Type: providers.Anthropic}},
		{Name: "blank key", Settings: providers.Settings{Type: providers.Anthropic, APIKey: " \t"}},
		{Name: "placeholder key", Settings: providers.Settings{Type: providers.Anthropic, APIKey: "your_anthropic_api_key_here"}},
		{Name: "wrong type", Settings: providers.Settings{Type: providers.Google, APIKey: testKey}},
	}
	harness.CheckNewRefuses(t, tests)
}

func TestBadRequestsAreNotSent(t *testing.T) {
	t.Parallel()
	noImages := sonnetCaps()
	noImages.SupportsImages = false
	img := []providers.Image{{MIMEType: "image/png", Data: pngBytes}}
	tests := []providertest.RequestCase{
		{Name: "no capabilities", Request: providers.Request{Model: "claude-sonnet-4-5", Prompt: "p"}},
		{Name: "no model name", Caps: &providers.Capabilities{}, Request: providers.Request{Prompt: "p"}},
		{Name: "model name with a newline", Caps: sonnetCaps(), Request: providers.Request{Model: "claude\nx", Prompt: "p"}},
		{Name: "model name too long", Caps: sonnetCaps(), Request: providers.Request{Model: strings.Repeat("c", 200), Prompt: "p"}},
		{Name: "images for a text-only model", Caps: noImages, Request: providers.Request{Model: "claude-sonnet-4-5", Prompt: "p", Images: img}},
		{Name: "unknown image type", Caps: sonnetCaps(), Request: providers.Request{Model: "claude-sonnet-4-5", Prompt: "p", Images: []providers.Image{{MIMEType: "image/svg+xml", Data: []byte("<svg/>")}}}},
		{Name: "image bytes are not the claimed type", Caps: sonnetCaps(), Request: providers.Request{Model: "claude-sonnet-4-5", Prompt: "p", Images: []providers.Image{{MIMEType: "image/jpeg", Data: pngBytes}}}},
		{Name: "unknown thinking mode", Caps: sonnetCaps(), Request: providers.Request{Model: "claude-sonnet-4-5", Prompt: "p", ThinkingMode: "ultra"}},
	}
	harness.CheckNotSent(t, reply{Status: 200, Body: okBody}, tests)
}

func TestRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	err := harness.GenerateThroughRedirect(t, reply{Status: 200, Body: okBody})
	var apiErr *providers.APIError
	if !errors.As(err, &apiErr) || apiErr.Kind != providers.KindInvalid || apiErr.Retryable || !strings.Contains(apiErr.Message, "redirect") {
		t.Fatalf("err = %v, want a non-retryable redirect APIError", err)
	}
}

// TestEnvironmentIsIgnored: the SDK's defaults read ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY,
// ANTHROPIC_AUTH_TOKEN and ANTHROPIC_CUSTOM_HEADERS; the provider takes only Settings.
func TestEnvironmentIsIgnored(t *testing.T) {
	elsewhere := newFakeAPI(t, reply{Status: 200, Body: okBody})
	t.Setenv("ANTHROPIC_BASE_URL", elsewhere.Server.URL)
	t.Setenv("ANTHROPIC_API_KEY", "env-key")
	t.Setenv("ANTHROPIC_AUTH_TOKEN", "env-token")
	t.Setenv("ANTHROPIC_CUSTOM_HEADERS", "X-Injected: yes")
	f := newFakeAPI(t, reply{Status: 200, Body: okBody})
	p := newTestProvider(t, f, &providertest.Sleeps{}, nil)
	if _, err := p.Generate(context.Background(), sonnetCaps(), providers.Request{Model: "claude-sonnet-4-5", Prompt: "p"}); err != nil {
		t.Fatal(err)
	}
	if len(elsewhere.Requests()) != 0 || len(f.Requests()) != 1 {
		t.Fatalf("requests: configured %d, environment's %d", len(f.Requests()), len(elsewhere.Requests()))
	}
	h := f.Requests()[0].Header
	if h.Get("x-api-key") != testKey || h.Get("Authorization") != "" || h.Get("X-Injected") != "" {
		t.Fatalf("headers = %v", h)
	}
}

func TestExtraHeadersCannotReplaceAuth(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, reply{Status: 200, Body: okBody})
	p, err := New(providers.Settings{
		APIKey: testKey, BaseURL: f.Server.URL + "/proxy", HTTPClient: f.Server.Client(), Retry: providertest.PALRetry(&providertest.Sleeps{}),
		Headers: map[string]string{"X-Api-Key": "other", "Anthropic-Version": "1999-01-01", "Authorization": "Bearer x", "X-Trace": "t1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Generate(context.Background(), sonnetCaps(), providers.Request{Model: "claude-sonnet-4-5", Prompt: "p"}); err != nil {
		t.Fatal(err)
	}
	r := f.Requests()[0]
	if r.Path != "/proxy/v1/messages" {
		t.Errorf("path = %q", r.Path)
	}
	if r.Header.Get("x-api-key") != testKey || r.Header.Get("anthropic-version") != "2023-06-01" ||
		r.Header.Get("Authorization") != "" || r.Header.Get("X-Trace") != "t1" {
		t.Errorf("headers = %v", r.Header)
	}
	if p.Type() != providers.Anthropic {
		t.Errorf("Type = %q", p.Type())
	}
}

// TestConcurrentUse runs generations side by side on one provider (meaningful under -race).
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	harness.CheckConcurrentUse(t, reply{Status: 200, Body: okBody}, providers.Request{Model: "claude-sonnet-4-5", Prompt: "p", ThinkingMode: "high"})
}
