package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pal-mcp/pal/internal/sessions"
	"github.com/pal-mcp/pal/policy"
)

const (
	aliceToken = "alice-token-0123456789abcdef"
	bobToken   = "bob-token-0123456789abcdef"
)

func testTokens(t *testing.T) []policy.HTTPToken {
	t.Helper()
	dir := t.TempDir()
	f := dir + "/tokens"
	if err := writeFile(f, "# clients\nalice "+aliceToken+"\nbob "+bobToken+"\n"); err != nil {
		t.Fatal(err)
	}
	toks, err := policy.HTTPTokens(f, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return toks
}

// httpServe serves s over a loopback httptest server behind the guard and returns its URL.
func httpServe(t *testing.T, s *Server, opts HTTPOptions) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	opts.Addr = srv.Listener.Addr().String()
	if opts.Config.MaxBodyBytes == 0 {
		opts.Config = policy.DefaultHTTP()
	}
	h, shutdown, err := s.HTTPHandler(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(func() {
		shutdown(context.Background())
		srv.Close()
	})
	return srv.URL + HTTPPath
}

// hclient speaks JSON-RPC to the HTTP transport, raw.
type hclient struct {
	t       *testing.T
	url     string
	token   string
	session string
	header  map[string]string
}

type hresp struct {
	status int
	header http.Header
	body   []byte
	msgs   []map[string]any // JSON-RPC messages, from a JSON or an SSE body
}

// open posts body and returns the response unread, for streaming.
func (c *hclient) open(body []byte) *http.Response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.session != "" {
		req.Header.Set("Mcp-Session-Id", c.session)
		req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	}
	for k, v := range c.header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp
}

func (c *hclient) post(body []byte) hresp {
	c.t.Helper()
	resp := c.open(body)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	r := hresp{status: resp.StatusCode, header: resp.Header, body: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var m map[string]any
				if json.Unmarshal([]byte(data), &m) == nil {
					r.msgs = append(r.msgs, m)
				}
			}
		}
	} else if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		var m map[string]any
		if json.Unmarshal(raw, &m) == nil {
			r.msgs = append(r.msgs, m)
		}
	}
	return r
}

func (c *hclient) rpc(id any, method string, params any) hresp {
	c.t.Helper()
	msg := map[string]any{"jsonrpc": "2.0", "method": method}
	if id != nil {
		msg["id"] = id
	}
	if params != nil {
		msg["params"] = params
	}
	b, _ := json.Marshal(msg)
	return c.post(b)
}

// last is the response (the message with a result or an error) of r.
func (r hresp) last(t *testing.T) map[string]any {
	t.Helper()
	for _, m := range r.msgs {
		if _, ok := m["result"]; ok {
			return m
		}
		if _, ok := m["error"]; ok {
			return m
		}
	}
	t.Fatalf("no JSON-RPC response (status %d): %s", r.status, r.body)
	return nil
}

func (c *hclient) initialize() {
	c.t.Helper()
	r := c.rpc(1, "initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "http-test", "version": "1"}})
	if r.status != http.StatusOK {
		c.t.Fatalf("initialize: %d %s", r.status, r.body)
	}
	c.session = r.header.Get("Mcp-Session-Id")
	if c.session == "" {
		c.t.Fatalf("initialize: no session id: %v", r.header)
	}
	if r := c.rpc(nil, "notifications/initialized", nil); r.status != http.StatusAccepted {
		c.t.Fatalf("initialized: %d %s", r.status, r.body)
	}
}

// callTool calls a tool and returns its text and isError.
func (c *hclient) callTool(id int, name string, args map[string]any) (string, bool) {
	c.t.Helper()
	r := c.rpc(id, "tools/call", map[string]any{"name": name, "arguments": args})
	m := r.last(c.t)
	res, ok := m["result"].(map[string]any)
	if !ok {
		c.t.Fatalf("tools/call %s: %s", name, r.body)
	}
	var b strings.Builder
	for _, x := range res["content"].([]any) {
		if s, ok := x.(map[string]any)["text"].(string); ok {
			b.WriteString(s)
		}
	}
	isErr, _ := res["isError"].(bool)
	return b.String(), isErr
}

func versionServer(t *testing.T, audit policy.Auditor) *Server {
	e := newEngine(t)
	return newServer(t, Options{Modules: builtins(t, e), Env: testEnv(&fakeModels{}, audit)})
}

// TestHTTPAuthentication: with tokens, a request without one or with a wrong one is refused
// with 401 and a WWW-Authenticate challenge, audited without the token; the right token is
// admitted and names the client in the audit record of the call.
func TestHTTPAuthentication(t *testing.T) {
	audit := newChanAuditor()
	s := versionServer(t, audit)
	url := httpServe(t, s, HTTPOptions{Tokens: testTokens(t)})
	init := []byte(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}`)
	for _, tc := range []struct{ name, token, reason string }{
		{"no token", "", "no bearer token"},
		{"wrong token", "mallory-token-0123456789abcdef", "wrong bearer token"},
		{"prefix of a token", aliceToken[:20], "wrong bearer token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &hclient{t: t, url: url, token: tc.token}
			r := c.post(init)
			if r.status != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("status %d, WWW-Authenticate %q: %s", r.status, r.header.Get("WWW-Authenticate"), r.body)
			}
			rec := <-audit.ch
			if rec.Op != "http.request" || rec.Decision != "deny" || rec.Reason != tc.reason || rec.Remote == "" {
				t.Fatalf("audit record %+v", rec)
			}
			if tc.token != "" && strings.Contains(fmt.Sprintf("%+v", rec), tc.token) {
				t.Fatalf("the token is in the audit record: %+v", rec)
			}
		})
	}
	c := &hclient{t: t, url: url, token: aliceToken}
	c.initialize()
	if text, isErr := c.callTool(2, "version", map[string]any{}); isErr {
		t.Fatalf("version: %s", text)
	}
	rec := audit.waitCall(t, "version")
	if rec.Client != "token:alice" || rec.Session != c.session || !strings.HasPrefix(rec.Remote, "127.0.0.1:") {
		t.Fatalf("call record names %q %q %q, want token:alice, session %s, a loopback remote", rec.Client, rec.Session, rec.Remote, c.session)
	}
}

// TestHTTPHostAndOrigin: the DNS-rebinding defence. A Host or Origin outside the allowlist is
// refused with 403 before authentication; loopback names and origins, the configured ones and
// requests without Origin are admitted.
func TestHTTPHostAndOrigin(t *testing.T) {
	s := versionServer(t, nil)
	cfg := policy.DefaultHTTP()
	cfg.AllowedHosts = []string{"pal.internal"}
	cfg.AllowedOrigins = []string{"https://app.example.com"}
	url := httpServe(t, s, HTTPOptions{Config: cfg})
	init := []byte(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}`)
	for _, tc := range []struct {
		name   string
		header map[string]string
		status int
	}{
		{"loopback", nil, http.StatusOK},
		{"localhost", map[string]string{"Host": "localhost:9"}, http.StatusOK},
		{"configured host", map[string]string{"Host": "pal.internal:443"}, http.StatusOK},
		{"foreign host", map[string]string{"Host": "evil.example"}, http.StatusForbidden},
		{"rebinding name", map[string]string{"Host": "attacker.localhost.evil.example:80"}, http.StatusForbidden},
		{"loopback address, other port", map[string]string{"Host": "127.0.0.1:1"}, http.StatusOK},
		{"IPv6 loopback", map[string]string{"Host": "[::1]:9"}, http.StatusOK},
		{"other address", map[string]string{"Host": "10.0.0.1"}, http.StatusForbidden},
		{"foreign origin", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"null origin", map[string]string{"Origin": "null"}, http.StatusForbidden},
		{"loopback origin", map[string]string{"Origin": "http://localhost:5173"}, http.StatusOK},
		{"configured origin", map[string]string{"Origin": "https://app.example.com"}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &hclient{t: t, url: url, header: tc.header}
			if r := c.post(init); r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
		})
	}
}

// TestHTTPNeedsTokensOffLoopback: a non-loopback address without tokens is refused at start.
func TestHTTPNeedsTokensOffLoopback(t *testing.T) {
	s := versionServer(t, nil)
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:8080", "[::]:0", "pal.example.com:80"} {
		_, _, err := s.HTTPHandler(HTTPOptions{Addr: addr, Config: policy.DefaultHTTP()})
		if !errors.Is(err, ErrHTTPConfig) || !strings.Contains(err.Error(), "-http-token-file") {
			t.Errorf("%s without tokens: %v", addr, err)
		}
	}
	if _, _, err := s.HTTPHandler(HTTPOptions{Addr: "0.0.0.0:0", Config: policy.DefaultHTTP(), Tokens: testTokens(t)}); err != nil {
		t.Errorf("with tokens: %v", err)
	}
	cfg := policy.DefaultHTTP()
	cfg.TLSCert = "/x/cert.pem"
	if _, _, err := s.HTTPHandler(HTTPOptions{Addr: "127.0.0.1:0", Config: cfg}); !errors.Is(err, ErrHTTPConfig) {
		t.Errorf("a TLS cert without a key: %v", err)
	}
}

// TestHTTPRefusesBadMessages: an oversized body is refused with 413; malformed JSON,
// duplicate keys, huge numbers, deep nesting and batches get a JSON-RPC error naming the
// problem, and nothing runs: no tool call is audited and the model is never called.
func TestHTTPRefusesBadMessages(t *testing.T) {
	audit := newChanAuditor()
	models := &fakeModels{}
	e := newEngine(t)
	s := newServer(t, Options{Modules: builtins(t, e), Env: testEnv(models, audit)})
	cfg := policy.DefaultHTTP()
	cfg.MaxBodyBytes = 4096
	url := httpServe(t, s, HTTPOptions{Config: cfg})
	c := &hclient{t: t, url: url}
	c.initialize()

	big := []byte(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"chat","arguments":{"prompt":"` + strings.Repeat("x", 5000) + `","model":"fake-model"}}}`)
	if r := c.post(big); r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d %s", r.status, r.body)
	}
	chat := func(args string) string {
		return `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"chat","arguments":` + args + `}}`
	}
	for _, tc := range []struct {
		name, body string
		code       float64
		says       string
	}{
		{"not JSON", `{"jsonrpc":"2.0","id":3,`, -32700, "not JSON"},
		{"trailing data", `{"jsonrpc":"2.0","id":3,"method":"ping"} {}`, -32700, "more than one"},
		{"duplicate method", `{"jsonrpc":"2.0","id":3,"method":"ping","method":"tools/call","params":{"name":"chat","arguments":{"prompt":"p","model":"fake-model"}}}`, -32600, `"method" appears twice`},
		{"duplicate argument", chat(`{"prompt":"harmless","prompt":"other","model":"fake-model"}`), -32600, `"prompt" appears twice`},
		{"duplicate tool name", `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"version","name":"chat","arguments":{"prompt":"p","model":"fake-model"}}}`, -32600, `"name" appears twice`},
		{"huge number", chat(`{"prompt":"p","model":"fake-model","temperature":1e999}`), -32600, "out of range"},
		{"long number", chat(`{"prompt":"p","model":"fake-model","temperature":0.` + strings.Repeat("1", 100) + `}`), -32600, "characters"},
		{"huge id", `{"jsonrpc":"2.0","id":1e400,"method":"ping"}`, -32600, "out of range"},
		{"deep", chat(strings.Repeat(`{"a":`, 100) + `1` + strings.Repeat(`}`, 100)), -32600, "deeper"},
		{"batch", `[` + chat(`{"prompt":"p","model":"fake-model"}`) + `]`, -32600, "batches"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.post([]byte(tc.body))
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			m := r.last(t)
			e, _ := m["error"].(map[string]any)
			if e == nil || e["code"] != tc.code || !strings.Contains(e["message"].(string), tc.says) {
				t.Fatalf("error %v, want code %v saying %q", m, tc.code, tc.says)
			}
		})
	}
	// A well-formed call still works, and it is the only one that ran.
	if text, isErr := c.callTool(9, "version", map[string]any{}); isErr {
		t.Fatalf("version after the refusals: %s", text)
	}
	if n := models.count(); n != 0 {
		t.Fatalf("the model was called %d times", n)
	}
	close(audit.ch)
	calls := 0
	for rec := range audit.ch {
		if rec.Op == "tools/call" {
			calls++
			if rec.Tool != "version" {
				t.Errorf("a refused message ran: %+v", rec)
			}
		}
	}
	if calls != 1 {
		t.Fatalf("%d tools/call records, want 1 (version)", calls)
	}
}

// TestHTTPRateLimit: past a client's burst, its requests get 429 with Retry-After; another
// client (token) keeps its own budget.
func TestHTTPRateLimit(t *testing.T) {
	s := versionServer(t, nil)
	cfg := policy.DefaultHTTP()
	cfg.RatePerMinute = 1 // burst 10, then one a minute
	url := httpServe(t, s, HTTPOptions{Tokens: testTokens(t), Config: cfg})
	alice := &hclient{t: t, url: url, token: aliceToken}
	alice.initialize() // 2 requests
	for i := range 8 {
		if r := alice.rpc(10+i, "ping", nil); r.status != http.StatusOK {
			t.Fatalf("ping %d within the burst: %d %s", i, r.status, r.body)
		}
	}
	r := alice.rpc(30, "ping", nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("past the burst: %d %v %s", r.status, r.header, r.body)
	}
	bob := &hclient{t: t, url: url, token: bobToken}
	bob.initialize()
}

// TestHTTPConcurrencyLimit: with concurrent_per_client = 1, a second request while a call
// runs is refused with 429; once the call ends the client is admitted again.
func TestHTTPConcurrencyLimit(t *testing.T) {
	s := versionServer(t, nil)
	b := addBlockingTool(s)
	cfg := policy.DefaultHTTP()
	cfg.ConcurrentPerClient = 1
	url := httpServe(t, s, HTTPOptions{Tokens: testTokens(t), Config: cfg})
	alice := &hclient{t: t, url: url, token: aliceToken}
	alice.initialize()
	done := make(chan hresp, 1)
	go func() {
		done <- alice.rpc(5, "tools/call", map[string]any{"name": "block", "arguments": map[string]any{"n": 1}})
	}()
	<-b.started
	if r := alice.rpc(6, "ping", nil); r.status != http.StatusTooManyRequests {
		t.Fatalf("second request while one runs: %d %s", r.status, r.body)
	}
	bob := &hclient{t: t, url: url, token: bobToken}
	bob.initialize() // bob has his own limit
	close(b.release)
	if r := <-done; r.status != http.StatusOK {
		t.Fatalf("blocked call: %d %s", r.status, r.body)
	}
	if r := alice.rpc(7, "ping", nil); r.status != http.StatusOK {
		t.Fatalf("after the call ended: %d %s", r.status, r.body)
	}
}

// TestHTTPSessionsBelongToTheirClient: bob cannot use alice's session id (404, as if it did
// not exist), cannot end it, and cannot read the conversation thread alice's chat started,
// not even from his own session; alice continues it.
func TestHTTPSessionsBelongToTheirClient(t *testing.T) {
	audit := newChanAuditor()
	s := versionServer(t, audit)
	url := httpServe(t, s, HTTPOptions{Tokens: testTokens(t)})
	alice := &hclient{t: t, url: url, token: aliceToken}
	alice.initialize()
	text, isErr := alice.callTool(2, "chat", map[string]any{"prompt": "ALICE-SECRET-PLAN", "model": "fake-model"})
	if isErr {
		t.Fatalf("chat: %s", text)
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

	hijack := &hclient{t: t, url: url, token: bobToken, session: alice.session}
	if r := hijack.rpc(3, "tools/list", nil); r.status != http.StatusNotFound {
		t.Fatalf("bob with alice's session: %d %s", r.status, r.body)
	}
	req, _ := http.NewRequest(http.MethodDelete, url, nil)
	req.Header.Set("Authorization", "Bearer "+bobToken)
	req.Header.Set("Mcp-Session-Id", alice.session)
	req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("bob ended alice's session")
		}
	}

	bob := &hclient{t: t, url: url, token: bobToken}
	bob.initialize()
	text, isErr = bob.callTool(4, "chat", map[string]any{"prompt": "continue", "model": "fake-model", "continuation_id": thread})
	if !isErr || strings.Contains(text, "ALICE-SECRET-PLAN") || !strings.Contains(text, "not found") {
		t.Fatalf("bob continued alice's thread: isError %v: %s", isErr, text)
	}
	text, isErr = alice.callTool(5, "chat", map[string]any{"prompt": "continue", "model": "fake-model", "continuation_id": thread})
	if isErr {
		t.Fatalf("alice could not continue her own thread: %s", text)
	}
}

// TestHTTPSessionsExpire: a session unused for session_ttl is refused with 404; one in use
// stays.
func TestHTTPSessionsExpire(t *testing.T) {
	s := versionServer(t, nil)
	store := sessions.NewMemory(0)
	var skew time.Duration
	store.Now = func() time.Time { return time.Now().Add(skew) }
	cfg := policy.DefaultHTTP()
	cfg.SessionTTL = policy.Duration{Duration: time.Hour}
	url := httpServe(t, s, HTTPOptions{Config: cfg, Sessions: store})
	c := &hclient{t: t, url: url}
	c.initialize()
	skew = 50 * time.Minute
	if r := c.rpc(2, "ping", nil); r.status != http.StatusOK {
		t.Fatalf("within the TTL: %d %s", r.status, r.body)
	}
	skew = 100 * time.Minute // 50 minutes after the last use
	if r := c.rpc(3, "ping", nil); r.status != http.StatusOK {
		t.Fatalf("the TTL is counted from the last use: %d %s", r.status, r.body)
	}
	skew = 170 * time.Minute
	if r := c.rpc(4, "ping", nil); r.status != http.StatusNotFound {
		t.Fatalf("after the TTL: %d %s", r.status, r.body)
	}
	c.initialize()
	if r := c.rpc(5, "ping", nil); r.status != http.StatusOK {
		t.Fatalf("a new session: %d %s", r.status, r.body)
	}
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }

// TestHTTPGetStreamBelongsToItsClient: the GET stream of server messages is admitted only
// with the caller's own session (mcp-go does not validate a GET's session id, so the guard
// does): another client's session, or one that was never opened, is 404 and audited.
func TestHTTPGetStreamBelongsToItsClient(t *testing.T) {
	audit := newChanAuditor()
	s := versionServer(t, audit)
	url := httpServe(t, s, HTTPOptions{Tokens: testTokens(t)})
	alice := &hclient{t: t, url: url, token: aliceToken}
	alice.initialize()
	get := func(token, session string) int {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Mcp-Session-Id", session)
		req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(bobToken, alice.session); code != http.StatusNotFound {
		t.Errorf("bob opened the stream of alice's session: %d", code)
	}
	if code := get(aliceToken, "0123456789abcdef0123456789abcdef"); code != http.StatusNotFound {
		t.Errorf("a stream of a session never opened: %d", code)
	}
	if code := get(aliceToken, alice.session); code != http.StatusOK {
		t.Errorf("alice could not open the stream of her own session: %d", code)
	}
	for {
		select {
		case rec := <-audit.ch:
			if rec.Op == "http.request" && rec.Decision == "deny" && rec.Client == "token:bob" && rec.Path == "GET "+HTTPPath {
				return
			}
		default:
			t.Fatal("bob's GET of alice's session was not audited as a denial")
		}
	}
}

// TestHTTPSessionCaps: an initialize past the client's session cap is refused with 429, and
// past the server's with 503, each saying why (not a session id that never validates); the
// refusals are audited, another client is not held back by one client's sessions, and ending
// a session makes room.
func TestHTTPSessionCaps(t *testing.T) {
	audit := newChanAuditor()
	s := versionServer(t, audit)
	store := sessions.NewMemory(3)
	store.PerClient = 2
	cfg := policy.DefaultHTTP()
	url := httpServe(t, s, HTTPOptions{Tokens: testTokens(t), Config: cfg, Sessions: store})
	initialize := func(token string) hresp {
		c := &hclient{t: t, url: url, token: token}
		return c.rpc(1, "initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{},
			"clientInfo": map[string]any{"name": "caps-test", "version": "1"}})
	}
	var alice []*hclient
	for range 2 {
		c := &hclient{t: t, url: url, token: aliceToken}
		c.initialize()
		alice = append(alice, c)
	}
	r := initialize(aliceToken)
	if r.status != http.StatusTooManyRequests || !strings.Contains(string(r.body), "http.sessions_per_client") || r.header.Get("Mcp-Session-Id") != "" {
		t.Fatalf("alice's third session: %d %q %v", r.status, r.body, r.header)
	}
	bob := &hclient{t: t, url: url, token: bobToken}
	bob.initialize() // the third session of the server, bob's first
	r = initialize(bobToken)
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" || !strings.Contains(string(r.body), "as many sessions as it may") {
		t.Fatalf("a fourth session on a server capped at 3: %d %q", r.status, r.body)
	}
	if n := store.Len(); n != 3 {
		t.Fatalf("store holds %d sessions, want 3 (a refused initialize stores nothing)", n)
	}
	var denies int
	for len(audit.ch) > 0 {
		rec := <-audit.ch
		if rec.Op == "http.request" && rec.Decision == "deny" && strings.Contains(rec.Reason, "sessions") {
			denies++
		}
	}
	if denies != 2 {
		t.Fatalf("%d session refusals audited, want 2", denies)
	}
	for _, c := range []*hclient{alice[0], alice[1], bob} {
		if r := c.rpc(2, "ping", nil); r.status != http.StatusOK {
			t.Fatalf("a session minted by the guard does not validate: %d %s", r.status, r.body)
		}
	}
	req, _ := http.NewRequest(http.MethodDelete, url, nil)
	req.Header.Set("Authorization", "Bearer "+aliceToken)
	req.Header.Set("Mcp-Session-Id", alice[0].session)
	req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if r := initialize(aliceToken); r.status != http.StatusOK || r.header.Get("Mcp-Session-Id") == "" {
		t.Fatalf("after alice ended one: %d %s", r.status, r.body)
	}
}
