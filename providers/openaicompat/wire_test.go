package openaicompat_test

import (
	"context"
	"encoding/base64"
	"errors"
	"math"
	"net/http"
	"reflect"
	"testing"

	"github.com/pal-mcp/pal/providers"
	"github.com/pal-mcp/pal/providers/internal/providertest"
	"github.com/pal-mcp/pal/providers/openaicompat"
)

type wireCase struct {
	name     string
	settings providers.Settings
	caps     providers.Capabilities
	req      providers.Request
	reply    string

	wantURL       string
	authHeader    string // header that must carry the key
	authValue     string
	absent        []string // headers that must not be sent
	extraHeaders  map[string]string
	wantModel     string   // body "model"
	wantTemp      *float64 // nil: "temperature" must be absent
	wantResponse  providers.Response
	wantNoMessage bool
}

func TestChatCompletionsWire(t *testing.T) {
	sys, prompt := "You are a careful reviewer.", "Review this function."
	base := providers.Request{Model: "gpt-4.1", SystemPrompt: sys, Prompt: prompt, Temperature: providertest.Ptr(0.7)}
	cases := []wireCase{
		{
			name:       "openai default endpoint with temperature",
			settings:   providers.Settings{Type: providers.OpenAI, APIKey: testKey},
			caps:       providers.Capabilities{ModelName: "gpt-4.1"},
			req:        base,
			reply:      openAIChatOK,
			wantURL:    "https://api.openai.com/v1/chat/completions",
			authHeader: "Authorization", authValue: "Bearer " + testKey,
			absent:    []string{"Api-Key"},
			wantModel: "gpt-4.1", wantTemp: providertest.Ptr(0.7),
			wantResponse: providers.Response{Content: "The function leaks a file handle.", Model: "gpt-4.1-2025-04-14", Provider: providers.OpenAI,
				FinishReason: "stop", Usage: providers.Usage{InputTokens: 1117, OutputTokens: 46, TotalTokens: 1163}},
		},
		{
			name:       "openai model without temperature support omits it",
			settings:   providers.Settings{Type: providers.OpenAI, APIKey: testKey},
			caps:       providers.Capabilities{ModelName: "o3", SupportsTemperature: providertest.Ptr(false)},
			req:        providers.Request{Model: "o3", SystemPrompt: sys, Prompt: prompt, Temperature: providertest.Ptr(0.7)},
			reply:      openAIChatOK,
			wantURL:    "https://api.openai.com/v1/chat/completions",
			authHeader: "Authorization", authValue: "Bearer " + testKey,
			absent:    []string{"Api-Key"},
			wantModel: "o3",
			wantResponse: providers.Response{Content: "The function leaks a file handle.", Model: "gpt-4.1-2025-04-14", Provider: providers.OpenAI,
				FinishReason: "stop", Usage: providers.Usage{InputTokens: 1117, OutputTokens: 46, TotalTokens: 1163}},
		},
		{
			name:       "openai explicit zero temperature is sent",
			settings:   providers.Settings{Type: providers.OpenAI, APIKey: testKey, BaseURL: "https://proxy.example.com/v1/"},
			caps:       providers.Capabilities{ModelName: "gpt-4.1"},
			req:        providers.Request{Model: "gpt-4.1", SystemPrompt: sys, Prompt: prompt, Temperature: providertest.Ptr(0.0)},
			reply:      openAIChatOK,
			wantURL:    "https://proxy.example.com/v1/chat/completions",
			authHeader: "Authorization", authValue: "Bearer " + testKey,
			absent:    []string{"Api-Key"},
			wantModel: "gpt-4.1", wantTemp: providertest.Ptr(0.0),
			wantResponse: providers.Response{Content: "The function leaks a file handle.", Model: "gpt-4.1-2025-04-14", Provider: providers.OpenAI,
				FinishReason: "stop", Usage: providers.Usage{InputTokens: 1117, OutputTokens: 46, TotalTokens: 1163}},
		},
		{
			name:       "xai default endpoint",
			settings:   providers.Settings{Type: providers.XAI, APIKey: testKey},
			caps:       providers.Capabilities{ModelName: "grok-4"},
			req:        providers.Request{Model: "grok-4", SystemPrompt: sys, Prompt: prompt, Temperature: providertest.Ptr(0.3)},
			reply:      xaiChatOK,
			wantURL:    "https://api.x.ai/v1/chat/completions",
			authHeader: "Authorization", authValue: "Bearer " + testKey,
			absent:    []string{"Api-Key"},
			wantModel: "grok-4", wantTemp: providertest.Ptr(0.3),
			wantResponse: providers.Response{Content: "Grok answer.", Model: "grok-4-0709", Provider: providers.XAI,
				FinishReason: "stop", Usage: providers.Usage{InputTokens: 32, OutputTokens: 3, TotalTokens: 135}},
		},
		{
			name: "openrouter default endpoint with attribution headers",
			settings: providers.Settings{Type: providers.OpenRouter, APIKey: testKey,
				Headers: map[string]string{"HTTP-Referer": "https://github.com/pal-mcp/pal", "X-Title": "PAL MCP Server"}},
			caps:       providers.Capabilities{ModelName: "anthropic/claude-sonnet-4.5"},
			req:        providers.Request{Model: "anthropic/claude-sonnet-4.5", SystemPrompt: sys, Prompt: prompt, Temperature: providertest.Ptr(1.0)},
			reply:      openRouterChatOK,
			wantURL:    "https://openrouter.ai/api/v1/chat/completions",
			authHeader: "Authorization", authValue: "Bearer " + testKey,
			absent:       []string{"Api-Key"},
			extraHeaders: map[string]string{"HTTP-Referer": "https://github.com/pal-mcp/pal", "X-Title": "PAL MCP Server"},
			wantModel:    "anthropic/claude-sonnet-4.5", wantTemp: providertest.Ptr(1.0),
			wantResponse: providers.Response{Content: "Routed answer.", Model: "anthropic/claude-sonnet-4.5", Provider: providers.OpenRouter,
				FinishReason: "stop", Usage: providers.Usage{InputTokens: 14, OutputTokens: 4, TotalTokens: 18}},
		},
		{
			name:       "azure deployment path, api-key header, default api-version",
			settings:   providers.Settings{Type: providers.Azure, APIKey: testKey, BaseURL: "https://myres.openai.azure.com/"},
			caps:       providers.Capabilities{ModelName: "gpt-4o", Deployment: "gpt4o-prod"},
			req:        providers.Request{Model: "gpt-4o", SystemPrompt: sys, Prompt: prompt, Temperature: providertest.Ptr(0.5)},
			reply:      azureChatOK,
			wantURL:    "https://myres.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-02-15-preview",
			authHeader: "Api-Key", authValue: testKey,
			absent:    []string{"Authorization"},
			wantModel: "gpt4o-prod", wantTemp: providertest.Ptr(0.5),
			wantResponse: providers.Response{Content: "Azure says hello.", Model: "gpt-4o-2024-11-20", Provider: providers.Azure,
				FinishReason: "stop", Usage: providers.Usage{InputTokens: 20, OutputTokens: 5, TotalTokens: 25}},
		},
		{
			name:       "azure api-version override",
			settings:   providers.Settings{Type: providers.Azure, APIKey: testKey, BaseURL: "https://myres.openai.azure.com", APIVersion: "2025-01-01-preview"},
			caps:       providers.Capabilities{ModelName: "gpt-4o", Deployment: "gpt4o-prod"},
			req:        providers.Request{Model: "gpt-4o", Prompt: prompt},
			reply:      azureChatOK,
			wantURL:    "https://myres.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=2025-01-01-preview",
			authHeader: "Api-Key", authValue: testKey,
			absent:        []string{"Authorization"},
			wantModel:     "gpt4o-prod",
			wantNoMessage: true,
			wantResponse: providers.Response{Content: "Azure says hello.", Model: "gpt-4o-2024-11-20", Provider: providers.Azure,
				FinishReason: "stop", Usage: providers.Usage{InputTokens: 20, OutputTokens: 5, TotalTokens: 25}},
		},
		{
			name:       "dial default host, Api-Key and no Authorization",
			settings:   providers.Settings{Type: providers.DIAL, APIKey: testKey},
			caps:       providers.Capabilities{ModelName: "o3-2025-04-16", SupportsTemperature: providertest.Ptr(false)},
			req:        providers.Request{Model: "o3-2025-04-16", SystemPrompt: sys, Prompt: prompt},
			reply:      dialChatOK,
			wantURL:    "https://core.dialx.ai/openai/deployments/o3-2025-04-16/chat/completions?api-version=2024-12-01-preview",
			authHeader: "Api-Key", authValue: testKey,
			absent:    []string{"Authorization"},
			wantModel: "o3-2025-04-16",
			wantResponse: providers.Response{Content: "DIAL answer.", Model: "o3-2025-04-16", Provider: providers.DIAL,
				FinishReason: "stop", Usage: providers.Usage{InputTokens: 11, OutputTokens: 2, TotalTokens: 13}},
		},
		{
			name:       "dial host and version override, host given with /openai",
			settings:   providers.Settings{Type: providers.DIAL, APIKey: testKey, BaseURL: "https://dial.example.com/openai/", APIVersion: "2025-01-01-preview"},
			caps:       providers.Capabilities{ModelName: "anthropic.claude-opus-4.1-20250805-v1:0"},
			req:        providers.Request{Model: "anthropic.claude-opus-4.1-20250805-v1:0", SystemPrompt: sys, Prompt: prompt, Temperature: providertest.Ptr(0.2)},
			reply:      dialChatOK,
			wantURL:    "https://dial.example.com/openai/deployments/anthropic.claude-opus-4.1-20250805-v1:0/chat/completions?api-version=2025-01-01-preview",
			authHeader: "Api-Key", authValue: testKey,
			absent:    []string{"Authorization"},
			wantModel: "anthropic.claude-opus-4.1-20250805-v1:0", wantTemp: providertest.Ptr(0.2),
			wantResponse: providers.Response{Content: "DIAL answer.", Model: "o3-2025-04-16", Provider: providers.DIAL,
				FinishReason: "stop", Usage: providers.Usage{InputTokens: 11, OutputTokens: 2, TotalTokens: 13}},
		},
		{
			name:      "custom ollama without key sends no auth header",
			settings:  providers.Settings{Type: providers.Custom, BaseURL: "http://localhost:11434/v1"},
			caps:      providers.Capabilities{ModelName: "llama3.2"},
			req:       providers.Request{Model: "llama3.2", SystemPrompt: sys, Prompt: prompt, Temperature: providertest.Ptr(0.3)},
			reply:     ollamaChatOK,
			wantURL:   "http://localhost:11434/v1/chat/completions",
			absent:    []string{"Authorization", "Api-Key"},
			wantModel: "llama3.2", wantTemp: providertest.Ptr(0.3),
			wantResponse: providers.Response{Content: "Local answer.", Model: "llama3.2", Provider: providers.Custom,
				FinishReason: "stop", Usage: providers.Usage{InputTokens: 26, OutputTokens: 3, TotalTokens: 29}},
		},
		{
			name:       "custom vllm with key uses bearer",
			settings:   providers.Settings{Type: providers.Custom, APIKey: testKey, BaseURL: "http://10.0.0.5:8000/v1"},
			caps:       providers.Capabilities{ModelName: "llama3.2"},
			req:        providers.Request{Model: "llama3.2", Prompt: prompt},
			reply:      ollamaChatOK,
			wantURL:    "http://10.0.0.5:8000/v1/chat/completions",
			authHeader: "Authorization", authValue: "Bearer " + testKey,
			absent:        []string{"Api-Key"},
			wantModel:     "llama3.2",
			wantNoMessage: true,
			wantResponse: providers.Response{Content: "Local answer.", Model: "llama3.2", Provider: providers.Custom,
				FinishReason: "stop", Usage: providers.Usage{InputTokens: 26, OutputTokens: 3, TotalTokens: 29}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t, func(_ int, w http.ResponseWriter, _ *http.Request) { jsonReply(w, 200, tc.reply) })
			s := tc.settings
			s.HTTPClient = api.client()
			p, err := openaicompat.New(s)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if p.Type() != s.Type {
				t.Errorf("Type() = %q, want %q", p.Type(), s.Type)
			}
			got, err := p.Generate(context.Background(), &tc.caps, tc.req)
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			if !reflect.DeepEqual(*got, tc.wantResponse) {
				t.Errorf("response = %+v\nwant       %+v", *got, tc.wantResponse)
			}
			reqs := api.requests()
			if len(reqs) != 1 {
				t.Fatalf("server saw %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodPost {
				t.Errorf("method = %s, want POST", r.Method)
			}
			if r.URL.String() != tc.wantURL {
				t.Errorf("URL = %s\nwant  %s", r.URL, tc.wantURL)
			}
			if tc.authHeader != "" {
				if v := r.Header.Values(tc.authHeader); len(v) != 1 || v[0] != tc.authValue {
					t.Errorf("%s = %q, want exactly %q", tc.authHeader, v, tc.authValue)
				}
			}
			for _, h := range tc.absent {
				if v, ok := r.Header[http.CanonicalHeaderKey(h)]; ok {
					t.Errorf("header %s must be absent, got %q", h, v)
				}
			}
			for h, want := range tc.extraHeaders {
				if got := r.Header.Get(h); got != want {
					t.Errorf("header %s = %q, want %q", h, got, want)
				}
			}
			checkChatBody(t, r.Body, tc.wantModel, tc.req, tc.wantTemp)
		})
	}
}

// checkChatBody asserts model, messages, stream:false, temperature present/absent, and no
// token limit.
func checkChatBody(t *testing.T, body map[string]any, wantModel string, req providers.Request, wantTemp *float64) {
	t.Helper()
	if body["model"] != wantModel {
		t.Errorf("body model = %v, want %q", body["model"], wantModel)
	}
	if v, ok := body["stream"]; !ok || v != false {
		t.Errorf("body stream = %v (present %v), want false", v, ok)
	}
	for _, k := range []string{"max_tokens", "max_completion_tokens"} {
		if _, ok := body[k]; ok {
			t.Errorf("body has %s; token limits are never sent", k)
		}
	}
	temp, has := body["temperature"]
	switch {
	case wantTemp == nil && has:
		t.Errorf("temperature sent (%v), want absent", temp)
	case wantTemp != nil && !has:
		t.Errorf("temperature absent, want %v", *wantTemp)
	case wantTemp != nil:
		f, _ := temp.(float64)
		if math.Abs(f-*wantTemp) > 1e-6 {
			t.Errorf("temperature = %v, want %v", f, *wantTemp)
		}
	}
	var want []any
	if req.SystemPrompt != "" {
		want = append(want, map[string]any{"role": "system", "content": req.SystemPrompt})
	}
	want = append(want, map[string]any{"role": "user", "content": req.Prompt})
	if !reflect.DeepEqual(body["messages"], want) {
		t.Errorf("messages = %#v\nwant       %#v", body["messages"], want)
	}
}

func TestImagesAsDataURLs(t *testing.T) {
	api := newFakeAPI(t, func(_ int, w http.ResponseWriter, _ *http.Request) { jsonReply(w, 200, openAIChatOK) })
	p, err := openaicompat.New(providers.Settings{Type: providers.OpenAI, APIKey: testKey, HTTPClient: api.client()})
	if err != nil {
		t.Fatal(err)
	}
	png := []byte("\x89PNG\r\n\x1a\nfake-png-bytes")
	jpg := []byte("\xff\xd8\xff\xe0fake-jpeg")
	caps := &providers.Capabilities{ModelName: "gpt-4.1", SupportsImages: true}
	req := providers.Request{Model: "gpt-4.1", Prompt: "What is in these images?",
		Images: []providers.Image{{MIMEType: "image/png", Data: png}, {MIMEType: "image/jpeg", Data: jpg}}}
	if _, err := p.Generate(context.Background(), caps, req); err != nil {
		t.Fatal(err)
	}
	body := api.requests()[0].Body
	want := []any{map[string]any{"role": "user", "content": []any{
		map[string]any{"type": "text", "text": "What is in these images?"},
		map[string]any{"type": "image_url", "image_url": map[string]any{"url": "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)}},
		map[string]any{"type": "image_url", "image_url": map[string]any{"url": "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(jpg)}},
	}}}
	if !reflect.DeepEqual(body["messages"], want) {
		t.Errorf("messages = %#v\nwant       %#v", body["messages"], want)
	}
}

func TestBadRequestsNeverReachTheServer(t *testing.T) {
	api := newFakeAPI(t, func(_ int, w http.ResponseWriter, _ *http.Request) { jsonReply(w, 200, openAIChatOK) })
	img := []providers.Image{{MIMEType: "image/png", Data: []byte("x")}}
	cases := []struct {
		name string
		typ  providers.Type
		caps *providers.Capabilities
		req  providers.Request
	}{
		{"nil caps", providers.OpenAI, nil, providers.Request{Model: "m", Prompt: "p"}},
		{"empty prompt", providers.OpenAI, &providers.Capabilities{}, providers.Request{Model: "m"}},
		{"images to text-only model", providers.OpenAI, &providers.Capabilities{}, providers.Request{Model: "m", Prompt: "p", Images: img}},
		{"svg image", providers.OpenAI, &providers.Capabilities{SupportsImages: true}, providers.Request{Model: "m", Prompt: "p", Images: []providers.Image{{MIMEType: "image/svg+xml", Data: []byte("<svg/>")}}}},
		{"empty image", providers.OpenAI, &providers.Capabilities{SupportsImages: true}, providers.Request{Model: "m", Prompt: "p", Images: []providers.Image{{MIMEType: "image/png"}}}},
		{"azure without deployment", providers.Azure, &providers.Capabilities{ModelName: "gpt-4o"}, providers.Request{Model: "gpt-4o", Prompt: "p"}},
		{"deployment with slash", providers.Azure, &providers.Capabilities{Deployment: "../admin"}, providers.Request{Model: "x", Prompt: "p"}},
		{"deployment dot-dot", providers.DIAL, &providers.Capabilities{}, providers.Request{Model: "..", Prompt: "p"}},
		{"deployment with query", providers.DIAL, &providers.Capabilities{}, providers.Request{Model: "o3?x=1", Prompt: "p"}},
		{"deployment with space", providers.DIAL, &providers.Capabilities{}, providers.Request{Model: "o3 x", Prompt: "p"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := openaicompat.New(providers.Settings{Type: tc.typ, APIKey: testKey, BaseURL: "https://h.example.com", HTTPClient: api.client()})
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Generate(context.Background(), tc.caps, tc.req)
			if !errors.Is(err, providers.ErrInvalidRequest) {
				t.Errorf("err = %v, want ErrInvalidRequest", err)
			}
		})
	}
	if n := api.count(); n != 0 {
		t.Errorf("server saw %d requests, want 0", n)
	}
}

func TestResponsesAPIWire(t *testing.T) {
	cases := []struct {
		name       string
		settings   providers.Settings
		effort     string
		wantURL    string
		wantEffort string
		wantStore  bool
		authHeader string
		authValue  string
		absent     string
		wantModel  string
	}{
		{"openai catalogue effort", providers.Settings{Type: providers.OpenAI, APIKey: testKey}, "high",
			"https://api.openai.com/v1/responses", "high", true, "Authorization", "Bearer " + testKey, "Api-Key", "gpt-5-codex"},
		{"openai default effort", providers.Settings{Type: providers.OpenAI, APIKey: testKey}, "",
			"https://api.openai.com/v1/responses", "medium", true, "Authorization", "Bearer " + testKey, "Api-Key", "gpt-5-codex"},
		{"openrouter omits store", providers.Settings{Type: providers.OpenRouter, APIKey: testKey}, "high",
			"https://openrouter.ai/api/v1/responses", "high", false, "Authorization", "Bearer " + testKey, "Api-Key", "gpt-5-codex"},
		{"azure responses on the resource path", providers.Settings{Type: providers.Azure, APIKey: testKey, BaseURL: "https://myres.openai.azure.com", APIVersion: "2025-04-01-preview"}, "low",
			"https://myres.openai.azure.com/openai/responses?api-version=2025-04-01-preview", "low", true, "Api-Key", testKey, "Authorization", "codex-prod"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t, func(_ int, w http.ResponseWriter, _ *http.Request) { jsonReply(w, 200, responsesOK) })
			s := tc.settings
			s.HTTPClient = api.client()
			p, err := openaicompat.New(s)
			if err != nil {
				t.Fatal(err)
			}
			caps := &providers.Capabilities{ModelName: "gpt-5-codex", UseResponsesAPI: true, DefaultReasoningEffort: tc.effort,
				SupportsImages: true, TemperatureConstraint: providers.TemperatureFixed, Deployment: "codex-prod"}
			png := []byte("png-bytes")
			got, err := p.Generate(context.Background(), caps, providers.Request{Model: "gpt-5-codex", SystemPrompt: "sys", Prompt: "user prompt",
				Temperature: providertest.Ptr(1.0), Images: []providers.Image{{MIMEType: "image/png", Data: png}}})
			if err != nil {
				t.Fatal(err)
			}
			want := providers.Response{Content: "Codex answer.", Model: "gpt-5-codex", Provider: s.Type, FinishReason: "stop",
				Usage: providers.Usage{InputTokens: 36, OutputTokens: 87, TotalTokens: 123}}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("response = %+v\nwant       %+v", *got, want)
			}
			r := api.requests()[0]
			if r.Method != http.MethodPost || r.URL.String() != tc.wantURL {
				t.Errorf("request = %s %s, want POST %s", r.Method, r.URL, tc.wantURL)
			}
			if got := r.Header.Values(tc.authHeader); len(got) != 1 || got[0] != tc.authValue {
				t.Errorf("%s = %q, want %q", tc.authHeader, got, tc.authValue)
			}
			if got, ok := r.Header[tc.absent]; ok {
				t.Errorf("%s must be absent, got %q", tc.absent, got)
			}
			if r.Body["model"] != tc.wantModel {
				t.Errorf("model = %v", r.Body["model"])
			}
			if !reflect.DeepEqual(r.Body["reasoning"], map[string]any{"effort": tc.wantEffort}) {
				t.Errorf("reasoning = %#v, want effort %q", r.Body["reasoning"], tc.wantEffort)
			}
			store, has := r.Body["store"]
			if tc.wantStore && store != true {
				t.Errorf("store = %v (present %v), want true", store, has)
			}
			if !tc.wantStore && has {
				t.Errorf("store = %v, want absent", store)
			}
			for _, k := range []string{"temperature", "max_output_tokens", "max_tokens", "messages", "stream"} {
				if _, ok := r.Body[k]; ok {
					t.Errorf("body has %q; the responses request must not", k)
				}
			}
			wantInput := []any{
				map[string]any{"role": "user", "content": []any{map[string]any{"type": "input_text", "text": "sys"}}},
				map[string]any{"role": "user", "content": []any{
					map[string]any{"type": "input_text", "text": "user prompt"},
					map[string]any{"type": "input_image", "image_url": "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)},
				}},
			}
			if !reflect.DeepEqual(r.Body["input"], wantInput) {
				t.Errorf("input = %#v\nwant    %#v", r.Body["input"], wantInput)
			}
		})
	}
}

func TestResponsesAPIOutcomes(t *testing.T) {
	incompleteLength := `{"id":"resp_1","object":"response","created_at":1,"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"model":"o3-pro",
	  "output":[{"type":"message","id":"msg_1","status":"incomplete","role":"assistant","content":[{"type":"output_text","text":"Partial","annotations":[]}]}],
	  "usage":{"input_tokens":10,"output_tokens":5,"total_tokens":15}}`
	incompleteFilter := `{"id":"resp_2","object":"response","created_at":1,"status":"incomplete","incomplete_details":{"reason":"content_filter"},"model":"o3-pro","output":[],"usage":null}`
	refusal := `{"id":"resp_3","object":"response","created_at":1,"status":"completed","model":"o3-pro",
	  "output":[{"type":"message","id":"msg_3","status":"completed","role":"assistant","content":[{"type":"refusal","refusal":"I can't help with that."}]}]}`
	failed := `{"id":"resp_4","object":"response","created_at":1,"status":"failed","error":{"code":"server_error","message":"The model failed to generate a response."},"model":"o3-pro","output":[]}`

	caps := &providers.Capabilities{ModelName: "o3-pro", UseResponsesAPI: true}
	req := providers.Request{Model: "o3-pro", Prompt: "p"}

	t.Run("incomplete max_output_tokens is finish length", func(t *testing.T) {
		api := newFakeAPI(t, func(_ int, w http.ResponseWriter, _ *http.Request) { jsonReply(w, 200, incompleteLength) })
		p, _ := openaicompat.New(providers.Settings{Type: providers.OpenAI, APIKey: testKey, HTTPClient: api.client()})
		got, err := p.Generate(context.Background(), caps, req)
		if err != nil {
			t.Fatal(err)
		}
		if got.Content != "Partial" || got.FinishReason != "length" || got.Usage.TotalTokens != 15 {
			t.Errorf("got %+v", *got)
		}
	})
	for name, body := range map[string]string{"incomplete content_filter": incompleteFilter, "refusal": refusal} {
		t.Run(name+" is blocked", func(t *testing.T) {
			api := newFakeAPI(t, func(_ int, w http.ResponseWriter, _ *http.Request) { jsonReply(w, 200, body) })
			s := &providertest.Sleeps{}
			p, _ := openaicompat.New(providers.Settings{Type: providers.OpenAI, APIKey: testKey, HTTPClient: api.client(), Retry: providertest.PALRetry(s)})
			_, err := p.Generate(context.Background(), caps, req)
			if !errors.Is(err, providers.ErrBlocked) {
				t.Fatalf("err = %v, want ErrBlocked", err)
			}
			if api.count() != 1 {
				t.Errorf("requests = %d, want 1", api.count())
			}
		})
	}
	t.Run("failed with server_error is retried", func(t *testing.T) {
		api := newFakeAPI(t, func(n int, w http.ResponseWriter, _ *http.Request) {
			if n == 0 {
				jsonReply(w, 200, failed)
				return
			}
			jsonReply(w, 200, responsesOK)
		})
		s := &providertest.Sleeps{}
		p, _ := openaicompat.New(providers.Settings{Type: providers.OpenAI, APIKey: testKey, HTTPClient: api.client(), Retry: providertest.PALRetry(s)})
		got, err := p.Generate(context.Background(), caps, req)
		if err != nil {
			t.Fatal(err)
		}
		if got.Content != "Codex answer." || api.count() != 2 || len(s.Recorded()) != 1 {
			t.Errorf("content %q, requests %d, sleeps %v", got.Content, api.count(), s.Recorded())
		}
	})
}
