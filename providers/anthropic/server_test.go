package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/pal-mcp/pal/providers"
)

const testKey = "sk-test-KEY-7f3a9c"

// reply is one canned HTTP answer.
type reply struct {
	status int
	body   string
	ctype  string // default application/json
}

// seen is one request as the fake API received it.
type seen struct {
	method, path, rawQuery string
	header                 http.Header
	body                   map[string]any
}

// fakeAPI is a loopback Messages API: it records requests and answers from a queue; the last
// reply repeats once the queue is down to one.
type fakeAPI struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	replies []reply
	reqs    []seen
	// onRequest, when set, runs before the reply is written (used to cancel a context).
	onRequest func(r *http.Request)
}

func newFakeAPI(t *testing.T, replies ...reply) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, replies: replies}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			f.t.Errorf("request body is not JSON: %v", err)
		}
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, seen{method: r.Method, path: r.URL.Path, rawQuery: r.URL.RawQuery, header: r.Header.Clone(), body: body})
	rep := reply{status: 500, body: errBody("api_error", "no reply queued")}
	if len(f.replies) > 0 {
		rep = f.replies[0]
		if len(f.replies) > 1 {
			f.replies = f.replies[1:]
		}
	}
	hook := f.onRequest
	f.mu.Unlock()
	if hook != nil {
		hook(r)
	}
	ct := rep.ctype
	if ct == "" {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)
}

func (f *fakeAPI) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

// sleepRecorder is a RetryPolicy.Sleep that records the delays and does not wait.
type sleepRecorder struct {
	mu     sync.Mutex
	delays []time.Duration
	hook   func() // runs inside Sleep, before ctx is checked
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.delays = append(s.delays, d)
	hook := s.hook
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	return ctx.Err()
}

func (s *sleepRecorder) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.delays...)
}

// palDelays is PAL's spacing, as a policy with a recording sleep.
func palPolicy(rec *sleepRecorder) providers.RetryPolicy {
	return providers.RetryPolicy{Delays: []time.Duration{time.Second, 3 * time.Second, 5 * time.Second}, Sleep: rec.sleep}
}

// newTestProvider points a provider at f with a recording retry policy and a debug logger
// writing into logs.
func newTestProvider(t *testing.T, f *fakeAPI, rec *sleepRecorder, logs *bytes.Buffer) providers.Provider {
	t.Helper()
	var logger *slog.Logger
	if logs != nil {
		logger = slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	p, err := New(providers.Settings{
		Type:       providers.Anthropic,
		APIKey:     testKey,
		BaseURL:    f.srv.URL,
		HTTPClient: f.srv.Client(),
		Retry:      palPolicy(rec),
		Logger:     logger,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// okBody is a recorded-shape successful Messages API answer.
const okBody = `{
  "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
  "type": "message",
  "role": "assistant",
  "model": "claude-sonnet-4-5-20250929",
  "content": [{"type": "text", "text": "Hello from Claude."}],
  "stop_reason": "end_turn",
  "stop_sequence": null,
  "usage": {
    "input_tokens": 12,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
    "output_tokens": 6,
    "service_tier": "standard"
  }
}`

// emptyEndTurnBody: the turn ended normally with no text block.
const emptyEndTurnBody = `{
  "id": "msg_01EmptyEmptyEmptyEmpty0000",
  "type": "message",
  "role": "assistant",
  "model": "claude-sonnet-4-5-20250929",
  "content": [],
  "stop_reason": "end_turn",
  "stop_sequence": null,
  "usage": {"input_tokens": 12, "output_tokens": 1}
}`

// errBody is the Messages API error envelope.
func errBody(errType, message string) string {
	b, _ := json.Marshal(map[string]any{
		"type":       "error",
		"error":      map[string]any{"type": errType, "message": message},
		"request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
	})
	return string(b)
}

// sonnetCaps is the shipped catalogue entry for claude-sonnet-4-5.
func sonnetCaps() *providers.Capabilities {
	return &providers.Capabilities{
		Provider: providers.Anthropic, ModelName: "claude-sonnet-4-5", ContextWindow: 200000,
		MaxOutputTokens: 64000, MaxThinkingTokens: 32000, SupportsThinking: true, SupportsImages: true,
		MaxImageSizeMB: 20,
	}
}
