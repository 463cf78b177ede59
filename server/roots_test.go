package server

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pal-mcp/pal/policy"
)

// rootsServer is a server with a trusted root holding sub/ and other/, client roots on, and
// an auditor the test reads.
func rootsServer(t *testing.T) (*Server, string, *chanAuditor) {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"sub", "other"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	paths, err := policy.NewPaths([]string{dir}, policy.DefaultDeny, policy.Caps{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { paths.Close() })
	audit := newChanAuditor()
	env := testEnv(&fakeModels{}, audit)
	env.Paths = paths
	s := newServer(t, Options{Env: env, Policy: policy.Default()})
	if s.roots == nil {
		t.Fatal("client roots are off by default")
	}
	return s, dir, audit
}

// stdioCtx is a context whose session is the stdio session, as a tool call's is.
func stdioCtx(s *Server) context.Context {
	return s.mcp.WithContext(context.Background(), newStdioSession(func(any) error { return nil }))
}

// handshake initializes the session, declaring the roots capability or not, at log level
// debug, and returns once notifications/initialized is sent.
func handshake(w *wire, withRoots bool) {
	caps := map[string]any{}
	if withRoots {
		caps["roots"] = map[string]any{"listChanged": true}
	}
	w.Request("init", "initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": caps,
		"clientInfo": map[string]any{"name": "roots-test", "version": "1"}})
	w.Until(`"init"`)
	w.Request("lvl", "logging/setLevel", map[string]any{"level": "debug"})
	w.Until(`"lvl"`)
	w.Notify("notifications/initialized", map[string]any{})
}

// rootsRequest reads until pal asks roots/list and returns the request's id.
func rootsRequest(w *wire) json.RawMessage {
	return w.UntilMatch(func(m message) bool { return m.Method == "roots/list" }).ID
}

func answerRoots(w *wire, id json.RawMessage, uris ...string) {
	roots := []map[string]any{}
	for _, u := range uris {
		roots = append(roots, map[string]any{"uri": u})
	}
	w.Send(map[string]any{"jsonrpc": "2.0", "id": id, "result": map[string]any{"roots": roots}})
}

// logText reads until a log notification whose text holds want.
func logText(w *wire, want string) string {
	m := w.UntilMatch(func(m message) bool {
		return m.Method == "notifications/message" && strings.Contains(string(m.Params), want)
	})
	return string(m.Params)
}

func fileURL(p string) string { return (&url.URL{Scheme: "file", Path: p}).String() }

// TestClientRootsOnStdio: pal asks roots/list after initialized and again on list_changed; a
// tool call waits for the answer; a later answer replaces the earlier; an empty list means
// the trusted roots; a root outside them is ignored and audited.
func TestClientRootsOnStdio(t *testing.T) {
	s, dir, audit := rootsServer(t)
	w := serve(t, s)
	handshake(w, true)
	answerRoots(w, rootsRequest(w), fileURL(filepath.Join(dir, "sub")), "file:///etc")
	ctx := stdioCtx(s)
	if got := s.roots.paths(ctx); got == nil || !slices.Equal(got.Roots(), []string{filepath.Join(dir, "sub")}) {
		t.Fatalf("after the first answer: %v", got)
	}
	var ignored bool
	for len(audit.ch) > 0 {
		r := <-audit.ch
		ignored = ignored || (r.Op == "client.roots" && r.Decision == "deny" && r.Path == "file:///etc")
	}
	if !ignored {
		t.Error("the ignored root file:///etc was not audited")
	}

	w.Notify("notifications/roots/list_changed", map[string]any{})
	answerRoots(w, rootsRequest(w), fileURL(filepath.Join(dir, "other")))
	if got := s.roots.paths(ctx); got == nil || !slices.Equal(got.Roots(), []string{filepath.Join(dir, "other")}) {
		t.Fatalf("after list_changed: %v", got)
	}

	w.Notify("notifications/roots/list_changed", map[string]any{})
	answerRoots(w, rootsRequest(w))
	if got := s.roots.paths(ctx); got != nil {
		t.Fatalf("no client roots must mean the trusted roots, got %v", got.Roots())
	}

	// An answer to no request of ours is dropped; the session goes on.
	w.Send(map[string]any{"jsonrpc": "2.0", "id": 999, "result": map[string]any{"roots": []any{}}})
	w.Request(5, "ping", nil)
	if m := w.Until("5"); m.Error != nil {
		t.Fatal(m.Raw)
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	s.roots.mu.Lock()
	left := len(s.roots.sessions)
	s.roots.mu.Unlock()
	if left != 0 {
		t.Errorf("%d session states left after the session ended", left)
	}
}

// TestClientRootsFailures: an error answer, an oversized answer or no answer within the
// timeout keep the allowlist in force, and the session is told once.
func TestClientRootsFailures(t *testing.T) {
	s, dir, _ := rootsServer(t)
	s.roots.timeout = 200 * time.Millisecond
	w := serve(t, s)
	handshake(w, true)
	id := rootsRequest(w)
	w.Send(map[string]any{"jsonrpc": "2.0", "id": id, "error": map[string]any{"code": -32601, "message": "no roots here"}})
	if text := logText(w, "roots/list failed"); !strings.Contains(text, "no roots here") || !strings.Contains(text, dir) {
		t.Errorf("failure notice: %s", text)
	}
	ctx := stdioCtx(s)
	if got := s.roots.paths(ctx); got != nil {
		t.Fatalf("after a failure: %v", got.Roots())
	}

	// Narrowed, then an answer too large: the narrowing stays.
	w.Notify("notifications/roots/list_changed", map[string]any{})
	answerRoots(w, rootsRequest(w), fileURL(filepath.Join(dir, "sub")))
	if got := s.roots.paths(ctx); got == nil {
		t.Fatal("the answer did not narrow")
	}
	w.Notify("notifications/roots/list_changed", map[string]any{})
	id = rootsRequest(w)
	huge := `{"jsonrpc":"2.0","id":` + string(id) + `,"result":{"roots":[{"uri":"file:///` + strings.Repeat("x", maxRootsReplyBytes) + `"}]}}`
	w.SendRaw(huge)
	if got := s.roots.paths(ctx); got == nil || !slices.Equal(got.Roots(), []string{filepath.Join(dir, "sub")}) {
		t.Fatalf("an oversized answer changed the allowlist: %v", got)
	}

	// No answer at all: the tool call waits at most the timeout and keeps the narrowing.
	w.Notify("notifications/roots/list_changed", map[string]any{})
	rootsRequest(w)
	if got := s.roots.paths(ctx); got == nil || !slices.Equal(got.Roots(), []string{filepath.Join(dir, "sub")}) {
		t.Fatalf("an unanswered roots/list changed the allowlist: %v", got)
	}
	w.Request(7, "ping", nil)
	w.Until("7")
	for _, m := range w.Seen {
		if m.Method == "notifications/message" && strings.Count(m.Raw, "roots/list failed") > 0 && !strings.Contains(m.Raw, "no roots here") {
			t.Errorf("told more than once: %s", m.Raw)
		}
	}
}

// TestClientRootsWithoutCapability: a client that did not declare roots is never asked, keeps
// the trusted roots and is told once.
func TestClientRootsWithoutCapability(t *testing.T) {
	s, dir, _ := rootsServer(t)
	w := serve(t, s)
	handshake(w, false)
	if text := logText(w, "did not declare the roots capability"); !strings.Contains(text, dir) || !strings.Contains(text, `"notice"`) {
		t.Errorf("notice: %s", text)
	}
	w.Notify("notifications/roots/list_changed", map[string]any{})
	w.Request(3, "ping", nil)
	w.Until("3")
	for _, m := range w.Seen {
		if m.Method == "roots/list" {
			t.Fatal("pal asked roots/list of a client without the capability")
		}
	}
	if got := s.roots.paths(stdioCtx(s)); got != nil {
		t.Fatalf("without the capability: %v", got.Roots())
	}
}

// TestClientRootsOff: with paths.client_roots = "off" pal never asks.
func TestClientRootsOff(t *testing.T) {
	_, dir, _ := rootsServer(t)
	paths, err := policy.NewPaths([]string{dir}, nil, policy.Caps{})
	if err != nil {
		t.Fatal(err)
	}
	defer paths.Close()
	env := testEnv(&fakeModels{}, nil)
	env.Paths = paths
	p := policy.Default()
	p.Paths.ClientRoots = policy.ClientRootsOff
	s := newServer(t, Options{Env: env, Policy: p})
	if s.roots != nil {
		t.Fatal("client roots on with client_roots = off")
	}
	w := serve(t, s)
	handshake(w, true)
	w.Request(3, "ping", nil)
	w.Until("3")
	for _, m := range w.Seen {
		if m.Method == "roots/list" {
			t.Fatal("pal asked roots/list with client_roots = off")
		}
	}
}

// TestClientRootsFlood: however many list_changed notifications arrive, one roots/list is in
// flight at a time, and one more is asked after it so that the last change is not missed.
func TestClientRootsFlood(t *testing.T) {
	s, dir, _ := rootsServer(t)
	w := serve(t, s)
	handshake(w, true)
	answerRoots(w, rootsRequest(w))
	for range 200 {
		w.Notify("notifications/roots/list_changed", map[string]any{})
	}
	w.Request(9, "ping", nil) // served after the 200 notifications were read
	w.Until("9")
	first := rootsRequest(w)
	answerRoots(w, first, fileURL(filepath.Join(dir, "other"))) // stale: changed meanwhile
	second := rootsRequest(w)
	answerRoots(w, second, fileURL(filepath.Join(dir, "sub")))
	if got := s.roots.paths(stdioCtx(s)); got == nil || !slices.Equal(got.Roots(), []string{filepath.Join(dir, "sub")}) {
		t.Fatalf("after the flood: %v", got)
	}
	w.Request(10, "ping", nil)
	w.Until("10")
	asked := 0
	for _, m := range w.Seen {
		if m.Method == "roots/list" {
			asked++
		}
	}
	if asked != 3 { // the first after initialized, then two for the flood
		t.Fatalf("pal asked roots/list %d times for 200 changes, want 3", asked)
	}
}
