// Package providertest holds the test doubles the provider packages share: a loopback API
// that answers from a queue of canned replies and records what it received, a retry sleeper
// that records instead of waiting, a log sink safe for concurrent writers, and small helpers
// for reading decoded JSON. Only tests import it.
package providertest

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

// Reply is one canned HTTP answer. An empty ContentType means the API's default.
type Reply struct {
	Status      int
	Body        string
	ContentType string
}

// Request is one request as a FakeAPI received it; Body is the decoded JSON body (nil when
// the request had none).
type Request struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   map[string]any
}

// API describes a fake API: the content type of replies that name none, and the reply sent
// when nothing is queued.
type API struct {
	ContentType string
	NoReply     Reply
}

// FakeAPI is a loopback server that records requests and answers from a queue; the last reply
// repeats once the queue is down to one. Every request body must be JSON.
type FakeAPI struct {
	Server *httptest.Server
	// OnRequest, when set before the first request, runs before the reply is written (used to
	// cancel a context mid-request).
	OnRequest func(r *http.Request)

	t           *testing.T
	contentType string
	noReply     Reply
	mu          sync.Mutex
	replies     []Reply
	reqs        []Request
}

// Start runs a FakeAPI for the test, closed by t.Cleanup.
func (a API) Start(t *testing.T, replies ...Reply) *FakeAPI {
	t.Helper()
	f := &FakeAPI{t: t, contentType: a.ContentType, noReply: a.NoReply, replies: replies}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Server.Close)
	return f
}

func (f *FakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			f.t.Errorf("request body is not JSON: %v", err)
		}
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
	rep := f.noReply
	if len(f.replies) > 0 {
		rep = f.replies[0]
		if len(f.replies) > 1 {
			f.replies = f.replies[1:]
		}
	}
	hook := f.OnRequest
	f.mu.Unlock()
	if hook != nil {
		hook(r)
	}
	ct := rep.ContentType
	if ct == "" {
		ct = f.contentType
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(rep.Status)
	_, _ = io.WriteString(w, rep.Body)
}

// Requests returns the requests received so far, in order.
func (f *FakeAPI) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.reqs...)
}

// Sleeps is a RetryPolicy.Sleep that records the delays and does not wait.
type Sleeps struct {
	// Hook, when set, runs inside Sleep before ctx is checked (used to cancel while waiting).
	Hook func()

	mu     sync.Mutex
	delays []time.Duration
}

// Sleep records d and returns ctx.Err().
func (s *Sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.delays = append(s.delays, d)
	hook := s.Hook
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	return ctx.Err()
}

// Recorded returns the delays slept so far.
func (s *Sleeps) Recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.delays...)
}

// PALRetry is PAL's retry spacing (1 s, 3 s, 5 s: four attempts) sleeping through s.
func PALRetry(s *Sleeps) providers.RetryPolicy {
	return providers.RetryPolicy{Delays: []time.Duration{time.Second, 3 * time.Second, 5 * time.Second}, Sleep: s.Sleep}
}

// SyncBuffer is a log sink safe for concurrent writers.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Len is the number of bytes written so far.
func (s *SyncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

// Ptr returns a pointer to v.
func Ptr[T any](v T) *T { return &v }

// Path walks decoded JSON: string steps index objects, int steps index arrays. ok is false
// when a step does not exist.
func Path(v any, steps ...any) (got any, ok bool) {
	for _, s := range steps {
		switch k := s.(type) {
		case string:
			m, isMap := v.(map[string]any)
			if !isMap {
				return nil, false
			}
			if v, ok = m[k]; !ok {
				return nil, false
			}
		case int:
			a, isArray := v.([]any)
			if !isArray || k < 0 || k >= len(a) {
				return nil, false
			}
			v = a[k]
		}
	}
	return v, true
}

// MustPath is Path that fails the test when a step does not exist.
func MustPath(t *testing.T, v any, steps ...any) any {
	t.Helper()
	got, ok := Path(v, steps...)
	if !ok {
		t.Fatalf("body has no %v: %v", steps, v)
	}
	return got
}

// DebugLogger logs at debug level into buf as text; nil buf gives a nil logger (the provider's
// default, which discards).
func DebugLogger(buf *SyncBuffer) *slog.Logger {
	if buf == nil {
		return nil
	}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
