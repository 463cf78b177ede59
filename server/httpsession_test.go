package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/internal/sessions"
	"github.com/pal-mcp/pal/internal/testredis"
	"github.com/pal-mcp/pal/memory"
)

// replica is one pal server over HTTP on a shared Redis, as `serve -http` wires it.
type replica struct {
	url      string
	threads  *memory.RedisStore
	sessions *sessions.Redis
}

func redisReplicas(t *testing.T, n int) []replica {
	t.Helper()
	srv := testredis.Start(t, testredis.Options{Password: "replica-test-secret"})
	tokens := testTokens(t)
	out := make([]replica, n)
	for i := range out {
		rs, err := memory.OpenRedis(memory.Config{}, memory.RedisOptions{Addr: srv.Addr, Password: srv.Password, Prefix: "pal-test:"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rs.Close() })
		env := testEnv(&fakeModels{}, nil)
		env.Threads = rs
		e := newEngine(t)
		s := newServer(t, Options{Modules: builtins(t, e), Env: env})
		store := sessions.NewRedis(rs.Client(), rs.Prefix(), 0)
		out[i] = replica{url: httpServe(t, s, HTTPOptions{Tokens: tokens, Sessions: store}), threads: rs, sessions: store}
	}
	return out
}

// TestHTTPReplicasShareSessions: a session opened on replica A is served by replica B with
// what its initialize said (the client's name reaches the tool), its thread continues there,
// its log level set on B is kept for A; on B too another client's id and a forged id are
// unknown, for POST, GET and DELETE; and A's idle sweeper does not end a session in use on B.
func TestHTTPReplicasShareSessions(t *testing.T) {
	r := redisReplicas(t, 2)
	a, b := r[0], r[1]
	alice := &hclient{t: t, url: a.url, token: aliceToken}
	alice.initialize()
	text, isErr := alice.callTool(2, "chat", map[string]any{"prompt": "first on A", "model": "fake-model"})
	if isErr {
		t.Fatalf("chat on A: %s", text)
	}
	var out struct {
		ContinuationOffer *struct {
			ContinuationID string `json:"continuation_id"`
		} `json:"continuation_offer"`
	}
	if err := json.Unmarshal([]byte(text), &out); err != nil || out.ContinuationOffer == nil {
		t.Fatalf("chat result: %v %s", err, text)
	}
	thread := out.ContinuationOffer.ContinuationID

	onB := &hclient{t: t, url: b.url, token: aliceToken, session: alice.session}
	if text, isErr := onB.callTool(3, "version", map[string]any{}); isErr || !strings.Contains(text, "http-test") {
		t.Fatalf("version on B does not know the client A saw initialize: isError %v: %s", isErr, text)
	}
	if text, isErr := onB.callTool(4, "chat", map[string]any{"prompt": "second on B", "model": "fake-model", "continuation_id": thread}); isErr {
		t.Fatalf("continuing A's thread on B: %s", text)
	}
	th, err := a.threads.Get("http:token:alice/session:"+alice.session, thread)
	if err != nil || len(th.Turns) != 4 {
		t.Fatalf("thread after A then B: %v, %+v", err, th)
	}
	if r := onB.rpc(5, "logging/setLevel", map[string]any{"level": "debug"}); r.status != http.StatusOK {
		t.Fatalf("setLevel on B: %d %s", r.status, r.body)
	}
	got, err := a.sessions.Get(context.Background(), alice.session)
	if err != nil || got.Client != "token:alice" || !strings.Contains(string(got.State), `"level":"debug"`) || !strings.Contains(string(got.State), "http-test") {
		t.Fatalf("stored session: %+v %v (state %s)", got, err, got.State)
	}

	for name, c := range map[string]*hclient{
		"bob with alice's id": {t: t, url: b.url, token: bobToken, session: alice.session},
		"a forged id":         {t: t, url: b.url, token: aliceToken, session: sessions.NewID()},
		"a malformed id":      {t: t, url: b.url, token: aliceToken, session: alice.session + "*"},
	} {
		if r := c.rpc(6, "tools/list", nil); r.status != http.StatusNotFound {
			t.Errorf("%s, POST: %d %s", name, r.status, r.body)
		}
		for _, method := range []string{http.MethodGet, http.MethodDelete} {
			req, _ := http.NewRequest(method, b.url, nil)
			req.Header.Set("Authorization", "Bearer "+c.token)
			req.Header.Set("Mcp-Session-Id", c.session)
			req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
			req.Header.Set("Accept", "text/event-stream")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s, %s: %d, want 404 as for an unknown id", name, method, resp.StatusCode)
			}
		}
	}

	// What A's idle sweeper and shutdown call: no client, so only a dead session may end.
	sweeper := sessionManager{store: a.sessions, ttl: 0}
	if _, err := sweeper.Terminate(alice.session); err != nil {
		t.Fatal(err)
	}
	if text, isErr := onB.callTool(7, "version", map[string]any{}); isErr {
		t.Fatalf("A's sweeper ended a session in use on B: %s", text)
	}
	if _, err := sweeper.Validate(alice.session); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("a manager without a client validated a session: %v", err)
	}
}
