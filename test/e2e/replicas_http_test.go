package e2e

import (
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pal-mcp/pal/internal/testredis"
)

// balancer is a reverse proxy standing in for a load balancer in front of pal replicas: it
// sends every request to the replica it is pinned to (the test moves it, as a balancer does
// when a replica dies or by its own rotation), and records which replica saw which session id.
type balancer struct {
	srv      *httptest.Server
	mu       sync.Mutex
	backends []*url.URL
	current  int
	seen     map[int]map[string]bool // replica -> Mcp-Session-Id values it received
}

func newBalancer(t *testing.T, endpoints ...string) *balancer {
	t.Helper()
	b := &balancer{seen: map[int]map[string]bool{}}
	for _, e := range endpoints {
		u, err := url.Parse(e)
		if err != nil {
			t.Fatal(err)
		}
		b.backends = append(b.backends, u)
	}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		b.mu.Lock()
		i := b.current
		if id := pr.In.Header.Get("Mcp-Session-Id"); id != "" {
			if b.seen[i] == nil {
				b.seen[i] = map[string]bool{}
			}
			b.seen[i][id] = true
		}
		b.mu.Unlock()
		pr.SetURL(b.backends[i])
		pr.Out.URL.Path = b.backends[i].Path
	}, FlushInterval: -1}
	b.srv = httptest.NewServer(rp)
	t.Cleanup(b.srv.Close)
	return b
}

func (b *balancer) pin(i int) {
	b.mu.Lock()
	b.current = i
	b.mu.Unlock()
}

func (b *balancer) sessions(i int) map[string]bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string]bool{}
	for k := range b.seen[i] {
		out[k] = true
	}
	return out
}

// TestHTTPReplicasShareSessionsInRedis: two `pal serve -http` processes (each with its own
// workspace and state) share one Redis, behind a balancer. The official Go SDK client opens
// one session through the balancer: its chat on A continues on B under the same session id,
// with A's exchange in B's prompt. A is killed with SIGKILL while its provider call is in
// flight (the provider sees the connection close); the client's retry, in the same session,
// goes to B and succeeds; a last call shows every exchange exactly once. The Redis password
// is in no log and no file either replica wrote.
func TestHTTPReplicasShareSessionsInRedis(t *testing.T) {
	srv := testredis.Start(t, testredis.Options{Password: redisPassword})
	started, closed := make(chan struct{}), make(chan struct{})
	var hung atomic.Bool
	p := newHookedProvider(t, func(r *http.Request, user string) bool {
		if !strings.Contains(user, "HANG-ON-A") || hung.Swap(true) {
			return true
		}
		close(started)
		<-r.Context().Done() // A was killed: its connection closes
		close(closed)
		return false
	})
	wa, wb := newWorkspace(t), newWorkspace(t)
	env := redisConfig(t, t.TempDir(), srv, "e2e-http-team:")
	urlA, cmdA, logA := startHTTPServer(t, wa, p, env...)
	urlB, _, logB := startHTTPServer(t, wb, p, env...)
	lb := newBalancer(t, urlA, urlB)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "pal-e2e-replicas", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: lb.srv.URL + "/mcp", HTTPClient: &http.Client{Transport: bearer{httpToken}}},
		&mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatalf("connect through the balancer: %v", err)
	}
	defer cs.Close()
	session := cs.ID()
	if session == "" {
		t.Fatal("no session id")
	}

	res, text := callTool(t, cs, "chat", map[string]any{"prompt": "FIRST-QUESTION on A.", "model": "gpt-5.2"})
	if res.IsError {
		t.Fatalf("chat on A: %s", text)
	}
	id := continuationID(t, text)

	lb.pin(1)
	res, text = callTool(t, cs, "chat", map[string]any{"prompt": "SECOND-QUESTION on B.", "continuation_id": id, "model": "gpt-5.2"})
	if res.IsError {
		t.Fatalf("chat on B continuing A's thread in A's session: %s", text)
	}
	if body := p.requests()[1].Body; !strings.Contains(body, "FIRST-QUESTION on A.") || !strings.Contains(body, "answer number 1 from the loopback model") {
		t.Fatalf("B's prompt lacks the exchange A had:\n%s", body)
	}
	if a, b := lb.sessions(0), lb.sessions(1); !a[session] || !b[session] || len(b) != 1 {
		t.Fatalf("session ids seen: A %v, B %v; want %s on both", a, b, session)
	}

	// A call on A hangs in the provider; A dies.
	lb.pin(0)
	third := map[string]any{"prompt": "THIRD HANG-ON-A question.", "continuation_id": id, "model": "gpt-5.2"}
	errA := make(chan error, 1)
	go func() {
		_, err := callToolErr(ctx, cs, "chat", third)
		errA <- err
	}()
	select {
	case <-started:
	case err := <-errA:
		t.Fatalf("the call on A ended before reaching the provider: %v", err)
	case <-ctx.Done():
		t.Fatal("the call on A never reached the provider")
	}
	lb.pin(1) // the balancer sends everything to B from now on
	if err := cmdA.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-closed
	res, err = func() (*mcp.CallToolResult, error) {
		select {
		case err := <-errA:
			if err == nil {
				t.Fatal("the call on the killed replica succeeded")
			}
			t.Logf("the call on A failed: %v", err)
		case <-ctx.Done():
			t.Fatal("the call on the killed replica never ended")
		}
		// The client retries, in the same session: B serves it.
		return callToolErr(ctx, cs, "chat", third)
	}()
	if err != nil {
		t.Fatalf("the retry through the balancer (now to B): %v", err)
	}
	if res.IsError {
		t.Fatalf("the retry on B: %+v", res.Content)
	}
	res, text = callTool(t, cs, "chat", map[string]any{"prompt": "FOURTH-QUESTION on B.", "continuation_id": id, "model": "gpt-5.2"})
	if res.IsError {
		t.Fatalf("chat after the retry: %s", text)
	}
	if b := lb.sessions(1); !b[session] || len(b) != 1 {
		t.Fatalf("B saw session ids %v, want only %s", b, session)
	}
	reqs := p.requests()
	last := reqs[len(reqs)-1].Body
	for _, want := range []string{"FIRST-QUESTION on A.", "SECOND-QUESTION on B.", "THIRD HANG-ON-A question.", "FOURTH-QUESTION on B.",
		"answer number 1 from", "answer number 2 from", "answer number 3 from"} {
		if c := strings.Count(last, want); c != 1 {
			t.Errorf("%q appears %d times in the last prompt, want 1", want, c)
		}
	}
	if t.Failed() {
		t.Logf("last prompt:\n%s", last)
	}

	for name, log := range map[string]string{"A": logA.String(), "B": logB.String()} {
		if strings.Contains(log, redisPassword) {
			t.Errorf("replica %s's log holds the Redis password", name)
		}
	}
	for _, w := range []*workspace{wa, wb} {
		filepath.WalkDir(w.stateDir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			if data, err := os.ReadFile(path); err == nil && strings.Contains(string(data), redisPassword) {
				t.Errorf("%s holds the Redis password", path)
			}
			return nil
		})
	}
}
