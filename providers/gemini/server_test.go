package gemini

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

// fakeAPI is a loopback Gemini API: it records requests and answers from a queue; the last
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
	rep := reply{status: 500, body: `{"error":{"code":500,"message":"no reply queued","status":"INTERNAL"}}`}
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
		ct = "application/json; charset=UTF-8"
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
		Type:       providers.Google,
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

// okBody is a recorded-shape successful generateContent answer.
const okBody = `{
  "candidates": [
    {
      "content": {"parts": [{"text": "Hello from Gemini."}], "role": "model"},
      "finishReason": "STOP",
      "index": 0,
      "safetyRatings": [
        {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "NEGLIGIBLE"}
      ]
    }
  ],
  "usageMetadata": {
    "promptTokenCount": 12,
    "candidatesTokenCount": 5,
    "totalTokenCount": 40,
    "thoughtsTokenCount": 23,
    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 12}]
  },
  "modelVersion": "gemini-2.5-flash",
  "responseId": "mJ3xZ6a2L9yW1MkP0oLq8Qs"
}`

// emptyStopBody: the model stopped normally with no text at all.
const emptyStopBody = `{
  "candidates": [{"content": {"role": "model"}, "finishReason": "STOP", "index": 0}],
  "usageMetadata": {"promptTokenCount": 12, "totalTokenCount": 12},
  "modelVersion": "gemini-2.5-flash"
}`

func errBody(code int, status, message string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": message, "status": status}})
	return string(b)
}

func flashCaps() *providers.Capabilities {
	return &providers.Capabilities{
		Provider: providers.Google, ModelName: "gemini-2.5-flash", ContextWindow: 1048576,
		MaxOutputTokens: 65536, MaxThinkingTokens: 24576, SupportsThinking: true, SupportsImages: true,
		MaxImageSizeMB: 20,
	}
}

func proCaps(name string) *providers.Capabilities {
	return &providers.Capabilities{
		Provider: providers.Google, ModelName: name, ContextWindow: 1048576,
		MaxOutputTokens: 65536, MaxThinkingTokens: 32768, SupportsThinking: true, SupportsImages: true,
	}
}
