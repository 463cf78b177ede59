package openaicompat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/providers"
	"github.com/pal-mcp/pal/providers/internal/providertest"
	"github.com/pal-mcp/pal/providers/openaicompat"
)

// echoAuth answers with an error body that quotes the request's credentials back, as some
// gateways do.
func echoAuth(status int) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, r *http.Request) {
		msg := fmt.Sprintf("invalid credentials: Authorization: %s; api-key=%s; raw %s%s",
			r.Header.Get("Authorization"), r.Header.Get("Api-Key"), r.Header.Get("Api-Key"),
			strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error", "code": "invalid_api_key"}})
		jsonReply(w, status, string(b))
	}
}

func TestKeyNeverInErrorsOrLogs(t *testing.T) {
	cases := []struct {
		name  string
		typ   providers.Type
		base  string
		caps  providers.Capabilities
		reply func(int, http.ResponseWriter, *http.Request)
		// echoed: the server quoted the key, so the redaction marker must show up.
		echoed bool
	}{
		{"openai 401 echoes Authorization", providers.OpenAI, "", providers.Capabilities{}, echoAuth(401), true},
		{"dial 401 echoes Api-Key", providers.DIAL, "", providers.Capabilities{}, echoAuth(401), true},
		{"azure 403 echoes api-key", providers.Azure, "https://r.openai.azure.com", providers.Capabilities{Deployment: "d"}, echoAuth(403), true},
		{"openrouter 429 echoes key on every retry", providers.OpenRouter, "", providers.Capabilities{}, echoAuth(429), true},
		{"custom 500 plain-text body with the key", providers.Custom, "http://localhost:8000/v1", providers.Capabilities{},
			func(_ int, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(500)
				fmt.Fprintf(w, "upstream failed for request with headers %v", r.Header)
			}, true},
		{"openai masked key echo", providers.OpenAI, "", providers.Capabilities{},
			func(_ int, w http.ResponseWriter, _ *http.Request) { jsonReply(w, 401, errAuth) }, true},
		{"responses failed status quoting the key", providers.OpenAI, "", providers.Capabilities{UseResponsesAPI: true},
			func(_ int, w http.ResponseWriter, r *http.Request) {
				b, _ := json.Marshal(map[string]any{"id": "resp_x", "object": "response", "created_at": 1, "status": "failed", "model": "o3-pro", "output": []any{},
					"error": map[string]any{"code": "invalid_prompt", "message": "bad header " + r.Header.Get("Authorization")}})
				jsonReply(w, 200, string(b))
			}, true},
		{"refusal quoting the key", providers.XAI, "", providers.Capabilities{},
			func(_ int, w http.ResponseWriter, _ *http.Request) {
				jsonReply(w, 200, `{"id":"c","object":"chat.completion","created":1,"model":"grok-4","choices":[{"index":0,"message":{"role":"assistant","content":"","refusal":"I will not repeat `+testKey+`"},"finish_reason":"stop"}]}`)
			}, true},
		{"success", providers.OpenAI, "", providers.Capabilities{},
			func(_ int, w http.ResponseWriter, _ *http.Request) { jsonReply(w, 200, openAIChatOK) }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t, tc.reply)
			var logs providertest.SyncBuffer
			s := &providertest.Sleeps{}
			p, err := openaicompat.New(providers.Settings{Type: tc.typ, APIKey: testKey, BaseURL: tc.base, HTTPClient: api.client(),
				Logger: providertest.DebugLogger(&logs), Retry: providertest.PALRetry(s)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Generate(context.Background(), &tc.caps, providers.Request{Model: "some-model", Prompt: "p"})
			if api.count() == 0 {
				t.Fatal("no request reached the server")
			}
			if tc.echoed {
				if err == nil {
					t.Fatal("want an error")
				}
				if !strings.Contains(err.Error(), "[redacted]") {
					t.Errorf("error %q shows no redaction marker; did the echo reach it?", err)
				}
			}
			if err != nil && strings.Contains(err.Error(), testKey) {
				t.Errorf("error leaks the key: %v", err)
			}
			if strings.Contains(logs.String(), testKey) {
				t.Errorf("logs leak the key:\n%s", logs.String())
			}
			if !strings.Contains(logs.String(), "level=DEBUG") {
				t.Errorf("no debug output captured; the check above proved nothing:\n%s", logs.String())
			}
		})
	}
}

func TestKeyNeverInTransportErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	var logs providertest.SyncBuffer
	s := &providertest.Sleeps{}
	p, _ := openaicompat.New(providers.Settings{Type: providers.Custom, APIKey: testKey, BaseURL: base + "/v1", Logger: providertest.DebugLogger(&logs), Retry: providertest.PALRetry(s)})
	_, err := p.Generate(context.Background(), &providers.Capabilities{}, providers.Request{Model: "m", Prompt: "p"})
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), testKey) || strings.Contains(logs.String(), testKey) {
		t.Errorf("key leaked: err %v\nlogs %s", err, logs.String())
	}
}

func TestPrintingTheProviderShowsNoKey(t *testing.T) {
	var logs providertest.SyncBuffer
	p, err := openaicompat.New(providers.Settings{Type: providers.Azure, APIKey: testKey, BaseURL: "https://r.openai.azure.com", Logger: providertest.DebugLogger(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(verb, p); strings.Contains(out, testKey) {
			t.Errorf("%s prints the key: %s", verb, out)
		}
	}
	providertest.DebugLogger(&logs).Info("provider", "p", p)
	if strings.Contains(logs.String(), testKey) {
		t.Errorf("slog prints the key: %s", logs.String())
	}
	if !strings.Contains(logs.String(), "azure") {
		t.Errorf("slog output lacks the provider type: %s", logs.String())
	}
}
