package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pal-mcp/pal/hostfns"
	"github.com/pal-mcp/pal/providers"
)

// gatedModels is a model registry whose Generate answers only when the test releases it (or
// its context ends, which it reports on stopped).
type gatedModels struct {
	fakeModels
	started chan struct{}
	release chan struct{}
	stopped chan error
}

func newGatedModels() *gatedModels {
	return &gatedModels{started: make(chan struct{}, 16), release: make(chan struct{}), stopped: make(chan error, 16)}
}

func (g *gatedModels) Generate(ctx context.Context, name string, cat providers.Category, req providers.Request) (*providers.Response, hostfns.ModelInfo, error) {
	g.started <- struct{}{}
	select {
	case <-g.release:
		return g.fakeModels.Generate(ctx, name, cat, req)
	case <-ctx.Done():
		g.stopped <- ctx.Err()
		return nil, hostfns.ModelInfo{}, ctx.Err()
	}
}

// heartbeatServer serves the built-in tools over a gated model, with heartbeats every 50 ms.
func heartbeatServer(t *testing.T) (*Server, *gatedModels) {
	e := newEngine(t)
	models := newGatedModels()
	env := testEnv(models, nil)
	env.Heartbeat = 50 * time.Millisecond
	return newServer(t, Options{Modules: builtins(t, e), Env: env}), models
}

// heartbeatCheck follows one call's messages: it counts the heartbeats (progress whose message
// says "elapsed"), releases the model after the third, and checks that every progress
// notification came before the response, with increasing progress.
type heartbeatCheck struct {
	t        *testing.T
	models   *gatedModels
	beats    int
	last     float64
	answered bool
	released bool
	messages []string
}

func (h *heartbeatCheck) see(method string, params json.RawMessage, isResponse bool) {
	h.t.Helper()
	switch {
	case method == "notifications/progress":
		var p progressParams
		if err := json.Unmarshal(params, &p); err != nil {
			h.t.Fatalf("progress params: %v", err)
		}
		if h.answered {
			h.t.Errorf("progress after the response: %+v", p)
		}
		if len(h.messages) > 0 && p.Progress <= h.last {
			h.t.Errorf("progress went from %v to %v", h.last, p.Progress)
		}
		h.last = p.Progress
		h.messages = append(h.messages, p.Message)
		if strings.Contains(p.Message, "elapsed") {
			h.beats++
			if !strings.HasPrefix(p.Message, "waiting for fake-model: ") {
				h.t.Errorf("heartbeat message %q", p.Message)
			}
		}
		if h.beats == 3 && !h.released {
			h.released = true
			close(h.models.release) // the model answers only after several intervals
		}
	case isResponse:
		h.answered = true
	}
}

func (h *heartbeatCheck) done() {
	h.t.Helper()
	if !h.answered || h.beats < 3 {
		h.t.Fatalf("answered %v after %d heartbeats; progress messages: %q", h.answered, h.beats, h.messages)
	}
	h.t.Logf("%d progress notifications before the response, %d of them heartbeats: %q", len(h.messages), h.beats, h.messages)
}

// TestHeartbeatsOverStdio: while the model call runs, heartbeats arrive at the interval, in
// order, before the result; without a progress token there are none.
func TestHeartbeatsOverStdio(t *testing.T) {
	s, models := heartbeatServer(t)
	w := serve(t, s)
	w.Initialize("heartbeat-test", "1")
	w.Request(2, "tools/call", map[string]any{"name": "chat", "arguments": map[string]any{"prompt": "slow", "model": "fake-model"},
		"_meta": map[string]any{"progressToken": "hb"}})
	h := &heartbeatCheck{t: t, models: models}
	for !h.answered {
		m := w.Next()
		h.see(m.Method, m.Params, m.IsResponse("2"))
		if m.IsResponse("2") {
			if text, isErr := toolText(t, m); isErr {
				t.Fatalf("chat: %s", text)
			}
		}
	}
	h.done()
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
}

// TestHeartbeatsOverHTTP: the same over streamable HTTP: the POST's SSE stream carries the
// heartbeats, in order, then the result.
func TestHeartbeatsOverHTTP(t *testing.T) {
	s, models := heartbeatServer(t)
	url := httpServe(t, s, HTTPOptions{})
	c := &hclient{t: t, url: url}
	c.initialize()
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": map[string]any{
		"name": "chat", "arguments": map[string]any{"prompt": "slow", "model": "fake-model"}, "_meta": map[string]any{"progressToken": "hb"}}})
	resp := c.open(body)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d, %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	h := &heartbeatCheck{t: t, models: models}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for !h.answered && sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
			Result json.RawMessage `json:"result"`
		}
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			t.Fatalf("SSE data: %v: %s", err, data)
		}
		h.see(m.Method, m.Params, m.Method == "" && bytes.Equal(m.ID, []byte("2")))
		if h.answered && bytes.Contains(m.Result, []byte(`"isError":true`)) {
			t.Fatalf("chat: %s", m.Result)
		}
	}
	h.done()
}

// TestCancelOverHTTP: a running call stops, and its model request is aborted, when the client
// sends notifications/cancelled for it, and when it drops the connection of the request.
func TestCancelOverHTTP(t *testing.T) {
	s, models := heartbeatServer(t)
	url := httpServe(t, s, HTTPOptions{})
	c := &hclient{t: t, url: url}
	c.initialize()
	call := func(id int) []byte {
		b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": map[string]any{
			"name": "chat", "arguments": map[string]any{"prompt": "slow", "model": "fake-model"}}})
		return b
	}

	t.Run("notifications/cancelled", func(t *testing.T) {
		done := make(chan hresp, 1)
		go func() { done <- c.post(call(7)) }()
		<-models.started
		if r := c.rpc(nil, "notifications/cancelled", map[string]any{"requestId": 7, "reason": "user"}); r.status != http.StatusAccepted {
			t.Fatalf("cancel: %d %s", r.status, r.body)
		}
		if err := <-models.stopped; !errors.Is(err, context.Canceled) {
			t.Fatalf("model call ended with %v", err)
		}
		<-done
	})
	t.Run("connection closed", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(call(8)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Session-Id", c.session)
		req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
		errc := make(chan error, 1)
		go func() {
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			errc <- err
		}()
		<-models.started
		cancel()
		if err := <-models.stopped; !errors.Is(err, context.Canceled) {
			t.Fatalf("model call ended with %v", err)
		}
		<-errc
	})
	if r := c.rpc(9, "ping", nil); r.status != http.StatusOK {
		t.Fatalf("the session after the cancellations: %d %s", r.status, r.body)
	}
}
