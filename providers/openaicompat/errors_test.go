package openaicompat_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pal-mcp/pal/providers"
	"github.com/pal-mcp/pal/providers/internal/providertest"
	"github.com/pal-mcp/pal/providers/openaicompat"
)

func TestErrorClassificationAndRetries(t *testing.T) {
	allDelays := []time.Duration{1 * time.Second, 3 * time.Second, 5 * time.Second}
	cases := []struct {
		name         string
		status       int
		body         string
		contentType  string
		wantKind     providers.ErrorKind
		wantRetry    bool
		wantAttempts int
		wantInMsg    string
	}{
		{"429 rate limit retried", 429, errRateLimit, "", providers.KindRateLimit, true, 4, "Rate limit reached"},
		{"429 type tokens not retried", 429, errTokens, "", providers.KindContextLength, false, 1, "Request too large"},
		{"429 insufficient_quota not retried", 429, errQuota, "", providers.KindQuota, false, 1, "exceeded your current quota"},
		{"429 context_length_exceeded not retried", 429, errContext, "", providers.KindContextLength, false, 1, "maximum context length"},
		{"429 code invalid_request_error not retried", 429, errInvalidRQ, "", providers.KindContextLength, false, 1, "Request was rejected"},
		{"500 retried", 500, errServer, "", providers.KindTransient, true, 4, "server had an error"},
		{"503 openrouter shape retried", 503, errORUnavail, "", providers.KindTransient, true, 4, "No instances available"},
		{"503 html retried", 503, errHTML503, "text/html", providers.KindTransient, true, 4, "503 Service Temporarily Unavailable"},
		{"502 empty body retried", 502, "", "text/plain", providers.KindTransient, true, 4, "Bad Gateway"},
		{"401 not retried", 401, errAuth, "", providers.KindAuth, false, 1, "Incorrect API key provided"},
		{"403 not retried", 403, `{"error":{"message":"Project does not have access to model o3-pro","type":"invalid_request_error","code":"model_not_found"}}`, "", providers.KindAuth, false, 1, "does not have access"},
		{"400 context length", 400, errContext, "", providers.KindContextLength, false, 1, "maximum context length"},
		{"404 model not found", 404, errBadModel, "", providers.KindInvalid, false, 1, "does not exist"},
		{"404 ollama string error", 404, errOllama404, "", providers.KindInvalid, false, 1, `model "llama3.2" not found`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				if tc.contentType != "" {
					w.Header().Set("Content-Type", tc.contentType)
					w.WriteHeader(tc.status)
					_, _ = w.Write([]byte(tc.body))
					return
				}
				jsonReply(w, tc.status, tc.body)
			})
			s := &providertest.Sleeps{}
			p, err := openaicompat.New(providers.Settings{Type: providers.OpenAI, APIKey: testKey, HTTPClient: api.client(), Retry: providertest.PALRetry(s)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Generate(context.Background(), &providers.Capabilities{ModelName: "gpt-4.1"}, providers.Request{Model: "gpt-4.1", Prompt: "p"})
			var apiErr *providers.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *providers.APIError", err)
			}
			if !errors.Is(err, providers.ErrUpstream) {
				t.Errorf("err does not wrap ErrUpstream")
			}
			if apiErr.Kind != tc.wantKind || apiErr.Retryable != tc.wantRetry || apiErr.StatusCode != tc.status || apiErr.Provider != providers.OpenAI {
				t.Errorf("APIError = %+v, want kind %v retryable %v status %d", *apiErr, tc.wantKind, tc.wantRetry, tc.status)
			}
			if !strings.Contains(apiErr.Message, tc.wantInMsg) {
				t.Errorf("message %q does not contain %q", apiErr.Message, tc.wantInMsg)
			}
			if got := api.count(); got != tc.wantAttempts {
				t.Errorf("attempts = %d, want %d", got, tc.wantAttempts)
			}
			wantDelays := allDelays[:tc.wantAttempts-1]
			if got := s.Recorded(); !reflect.DeepEqual(got, wantDelays) && !(len(got) == 0 && len(wantDelays) == 0) {
				t.Errorf("delays = %v, want %v", got, wantDelays)
			}
			msg := err.Error()
			if !strings.Contains(msg, "openai") || !strings.Contains(msg, "gpt-4.1") {
				t.Errorf("error %q does not name provider and model", msg)
			}
			if tc.wantAttempts > 1 && !strings.Contains(msg, fmt.Sprintf("after %d attempts", tc.wantAttempts)) {
				t.Errorf("error %q does not name the attempts", msg)
			}
		})
	}
}

func TestRateLimitThenSuccess(t *testing.T) {
	api := newFakeAPI(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n < 2 {
			jsonReply(w, 429, errRateLimit)
			return
		}
		jsonReply(w, 200, openAIChatOK)
	})
	s := &providertest.Sleeps{}
	p, _ := openaicompat.New(providers.Settings{Type: providers.OpenAI, APIKey: testKey, HTTPClient: api.client(), Retry: providertest.PALRetry(s)})
	got, err := p.Generate(context.Background(), &providers.Capabilities{}, providers.Request{Model: "gpt-4.1", Prompt: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Content == "" || api.count() != 3 {
		t.Errorf("content %q after %d requests", got.Content, api.count())
	}
	if want := []time.Duration{time.Second, 3 * time.Second}; !reflect.DeepEqual(s.Recorded(), want) {
		t.Errorf("delays = %v, want %v", s.Recorded(), want)
	}
}

func TestAzureContentFilterIsBlocked(t *testing.T) {
	api := newFakeAPI(t, func(_ int, w http.ResponseWriter, _ *http.Request) { jsonReply(w, 400, errAzureCF) })
	s := &providertest.Sleeps{}
	p, _ := openaicompat.New(providers.Settings{Type: providers.Azure, APIKey: testKey, BaseURL: "https://r.openai.azure.com", HTTPClient: api.client(), Retry: providertest.PALRetry(s)})
	_, err := p.Generate(context.Background(), &providers.Capabilities{Deployment: "d"}, providers.Request{Model: "gpt-4o", Prompt: "p"})
	var apiErr *providers.APIError
	if !errors.Is(err, providers.ErrBlocked) || !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Retryable {
		t.Fatalf("err = %v, want ErrBlocked wrapping a non-retryable 400 APIError", err)
	}
	if api.count() != 1 {
		t.Errorf("requests = %d, want 1", api.count())
	}
}

func TestEmptyAndFilteredAnswers(t *testing.T) {
	cases := []struct {
		name        string
		replies     []string
		wantErr     error
		wantContent string
		wantReqs    int
	}{
		{"empty stop twice is blocked after one extra ask", []string{chatWith("", "stop"), chatWith("", "stop")}, providers.ErrBlocked, "", 2},
		{"empty stop then content succeeds", []string{chatWith("", "stop"), chatWith("second try", "stop")}, nil, "second try", 2},
		{"whitespace-only stop counts as empty", []string{chatWith(" \n ", "stop"), chatWith("ok", "stop")}, nil, "ok", 2},
		{"content_filter is blocked at once", []string{chatWith("partial", "content_filter")}, providers.ErrBlocked, "", 1},
		{"empty length is blocked at once", []string{chatWith("", "length")}, providers.ErrBlocked, "", 1},
		{"refusal is blocked", []string{`{"id":"c","object":"chat.completion","created":1,"model":"gpt-4.1","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I'm sorry, I can't assist with that."},"finish_reason":"stop"}]}`}, providers.ErrBlocked, "", 1},
		{"upper-case finish reason is lowered", []string{chatWith("fine", "STOP")}, nil, "fine", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t, func(n int, w http.ResponseWriter, _ *http.Request) {
				jsonReply(w, 200, tc.replies[min(n, len(tc.replies)-1)])
			})
			s := &providertest.Sleeps{}
			p, _ := openaicompat.New(providers.Settings{Type: providers.OpenAI, APIKey: testKey, HTTPClient: api.client(), Retry: providertest.PALRetry(s)})
			got, err := p.Generate(context.Background(), &providers.Capabilities{}, providers.Request{Model: "gpt-4.1", Prompt: "p"})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if got.Content != tc.wantContent || got.FinishReason != "stop" {
					t.Errorf("got %+v", *got)
				}
			}
			if api.count() != tc.wantReqs {
				t.Errorf("requests = %d, want %d", api.count(), tc.wantReqs)
			}
			if d := s.Recorded(); len(d) != 0 {
				t.Errorf("retry schedule used (%v); the empty-answer retry must not count against it", d)
			}
		})
	}
}

func TestNoChoicesIsRetried(t *testing.T) {
	api := newFakeAPI(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 0 {
			jsonReply(w, 200, `{"id":"gen-1","object":"chat.completion","created":1,"model":"x","choices":[]}`)
			return
		}
		jsonReply(w, 200, openRouterChatOK)
	})
	s := &providertest.Sleeps{}
	p, _ := openaicompat.New(providers.Settings{Type: providers.OpenRouter, APIKey: testKey, HTTPClient: api.client(), Retry: providertest.PALRetry(s)})
	got, err := p.Generate(context.Background(), &providers.Capabilities{}, providers.Request{Model: "x/y", Prompt: "p"})
	if err != nil || got.Content != "Routed answer." || api.count() != 2 {
		t.Fatalf("got %v, %v after %d requests", got, err, api.count())
	}
}

func TestMalformedSuccessBodyIsNotRetried(t *testing.T) {
	api := newFakeAPI(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>captive portal</html>"))
	})
	s := &providertest.Sleeps{}
	p, _ := openaicompat.New(providers.Settings{Type: providers.OpenAI, APIKey: testKey, HTTPClient: api.client(), Retry: providertest.PALRetry(s)})
	_, err := p.Generate(context.Background(), &providers.Capabilities{}, providers.Request{Model: "gpt-4.1", Prompt: "p"})
	var apiErr *providers.APIError
	if !errors.As(err, &apiErr) || apiErr.Retryable || !strings.Contains(apiErr.Message, "malformed response") {
		t.Fatalf("err = %v, want a non-retryable malformed-response APIError", err)
	}
	if api.count() != 1 {
		t.Errorf("requests = %d, want 1", api.count())
	}
}

func TestCancelDuringRetryWaitStopsAtOnce(t *testing.T) {
	api := newFakeAPI(t, func(_ int, w http.ResponseWriter, _ *http.Request) { jsonReply(w, 429, errRateLimit) })
	entered := make(chan time.Duration, 1)
	blockingSleep := func(ctx context.Context, d time.Duration) error {
		entered <- d
		<-ctx.Done()
		return ctx.Err()
	}
	p, _ := openaicompat.New(providers.Settings{Type: providers.OpenAI, APIKey: testKey, HTTPClient: api.client(),
		Retry: providers.RetryPolicy{Delays: []time.Duration{time.Hour, time.Hour}, Sleep: blockingSleep}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := p.Generate(ctx, &providers.Capabilities{}, providers.Request{Model: "gpt-4.1", Prompt: "p"})
		done <- err
	}()
	if d := <-entered; d != time.Hour {
		t.Errorf("first wait = %v, want 1h", d)
	}
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := api.count(); n != 1 {
		t.Errorf("server saw %d requests, want 1 (nothing after the cancel)", n)
	}
}

func TestCancelDuringRequestStopsAtOnce(t *testing.T) {
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	api := newFakeAPI(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	s := &providertest.Sleeps{}
	p, _ := openaicompat.New(providers.Settings{Type: providers.XAI, APIKey: testKey, HTTPClient: api.client(), Retry: providertest.PALRetry(s)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.Generate(ctx, &providers.Capabilities{}, providers.Request{Model: "grok-4", Prompt: "p"})
		done <- err
	}()
	<-arrived
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if api.count() != 1 || len(s.Recorded()) != 0 {
		t.Errorf("requests %d, sleeps %v; want 1 request and no retry", api.count(), s.Recorded())
	}
}

func TestReadTimeoutIsTransientAndRetried(t *testing.T) {
	var mu sync.Mutex
	hits := 0
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		select { // never answers; the client must give up on its own
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	s := &providertest.Sleeps{}
	p, err := openaicompat.New(providers.Settings{Type: providers.Custom, BaseURL: srv.URL + "/v1",
		ConnectTimeout: time.Second, ReadTimeout: 50 * time.Millisecond,
		Retry: providers.RetryPolicy{Delays: []time.Duration{time.Second}, Sleep: s.Sleep}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Generate(context.Background(), &providers.Capabilities{}, providers.Request{Model: "llama3.2", Prompt: "p"})
	var apiErr *providers.APIError
	if !errors.As(err, &apiErr) || apiErr.Kind != providers.KindTransient || !apiErr.Retryable {
		t.Fatalf("err = %v, want a retryable transient APIError", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if hits != 2 {
		t.Errorf("server hits = %d, want 2 (one retry)", hits)
	}
}

func TestConnectionRefusedIsTransient(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	s := &providertest.Sleeps{}
	p, _ := openaicompat.New(providers.Settings{Type: providers.Custom, BaseURL: url + "/v1", Retry: providertest.PALRetry(s)})
	_, err := p.Generate(context.Background(), &providers.Capabilities{}, providers.Request{Model: "m", Prompt: "p"})
	var apiErr *providers.APIError
	if !errors.As(err, &apiErr) || apiErr.Kind != providers.KindTransient || !apiErr.Retryable || apiErr.StatusCode != 0 {
		t.Fatalf("err = %v, want transient APIError without status", err)
	}
	if len(s.Recorded()) != 3 {
		t.Errorf("delays = %v, want the full schedule", s.Recorded())
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	var mu sync.Mutex
	var leaked []string
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		leaked = append(leaked, r.Header.Get("Api-Key")+r.Header.Get("Authorization"))
		mu.Unlock()
		jsonReply(w, 200, azureChatOK)
	}))
	defer elsewhere.Close()
	api := newFakeAPI(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/steal", http.StatusTemporaryRedirect)
	})
	s := &providertest.Sleeps{}
	p, _ := openaicompat.New(providers.Settings{Type: providers.Azure, APIKey: testKey, BaseURL: api.srv.URL,
		HTTPClient: api.srv.Client(), Retry: providertest.PALRetry(s)})
	_, err := p.Generate(context.Background(), &providers.Capabilities{Deployment: "d"}, providers.Request{Model: "gpt-4o", Prompt: "p"})
	var apiErr *providers.APIError
	if !errors.As(err, &apiErr) || apiErr.Retryable || apiErr.Kind != providers.KindInvalid {
		t.Fatalf("err = %v, want a non-retryable invalid APIError", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(leaked) != 0 {
		t.Errorf("redirect target received %d requests", len(leaked))
	}
	if api.count() != 1 {
		t.Errorf("requests = %d, want 1", api.count())
	}
}

func TestNewRejectsBadSettings(t *testing.T) {
	cases := []struct {
		name string
		s    providers.Settings
	}{
		{"unknown type", providers.Settings{Type: providers.Google, APIKey: testKey}},
		{"anthropic type", providers.Settings{Type: providers.Anthropic, APIKey: testKey}},
		{"openai without key", providers.Settings{Type: providers.OpenAI}},
		{"xai without key", providers.Settings{Type: providers.XAI}},
		{"openrouter without key", providers.Settings{Type: providers.OpenRouter}},
		{"dial without key", providers.Settings{Type: providers.DIAL}},
		{"azure without endpoint", providers.Settings{Type: providers.Azure, APIKey: testKey}},
		{"azure without key", providers.Settings{Type: providers.Azure, BaseURL: "https://r.openai.azure.com"}},
		{"custom without url", providers.Settings{Type: providers.Custom}},
		{"ftp scheme", providers.Settings{Type: providers.Custom, BaseURL: "ftp://h/v1"}},
		{"no scheme", providers.Settings{Type: providers.Custom, BaseURL: "localhost:11434/v1"}},
		{"no host", providers.Settings{Type: providers.Custom, BaseURL: "http:///v1"}},
		{"port zero", providers.Settings{Type: providers.Custom, BaseURL: "http://h:0/v1"}},
		{"port too big", providers.Settings{Type: providers.Custom, BaseURL: "http://h:70000/v1"}},
		{"empty port", providers.Settings{Type: providers.Custom, BaseURL: "http://h:/v1"}},
		{"credentials in url", providers.Settings{Type: providers.Custom, BaseURL: "http://user:" + testKey + "@h/v1"}},
		{"query in url", providers.Settings{Type: providers.OpenAI, APIKey: testKey, BaseURL: "https://h/v1?key=" + testKey}},
		{"fragment in url", providers.Settings{Type: providers.OpenAI, APIKey: testKey, BaseURL: "https://h/v1#x"}},
		{"api-version injection", providers.Settings{Type: providers.Azure, APIKey: testKey, BaseURL: "https://r", APIVersion: "1&x=2"}},
		{"authorization header override", providers.Settings{Type: providers.OpenRouter, APIKey: testKey, Headers: map[string]string{"authorization": "Bearer x"}}},
		{"api-key header override", providers.Settings{Type: providers.OpenRouter, APIKey: testKey, Headers: map[string]string{"API-KEY": "x"}}},
		{"header value with newline", providers.Settings{Type: providers.OpenRouter, APIKey: testKey, Headers: map[string]string{"X-Title": "a\r\nAuthorization: x"}}},
		{"bad header name", providers.Settings{Type: providers.OpenRouter, APIKey: testKey, Headers: map[string]string{"X Title": "a"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := openaicompat.New(tc.s)
			if err == nil || p != nil {
				t.Fatalf("New = %v, %v; want an error", p, err)
			}
			if !errors.Is(err, providers.ErrNotConfigured) {
				t.Errorf("err = %v, want ErrNotConfigured", err)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error leaks the key: %v", err)
			}
		})
	}
}
