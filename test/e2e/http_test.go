package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const httpToken = "e2e-http-token-3c9a5e71d0b24f86"

// gatedProvider is a loopback OpenAI endpoint that answers each request only when the test
// releases it, and reports a request whose connection the client closed first.
type gatedProvider struct {
	*provider
	started chan struct{}
	release chan struct{}
	closed  chan struct{}
}

func newGatedProvider(t *testing.T) *gatedProvider {
	g := &gatedProvider{started: make(chan struct{}, 8), release: make(chan struct{}, 8), closed: make(chan struct{}, 8)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		g.started <- struct{}{}
		select {
		case <-g.release:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1764000000,"model":"gpt-5.2",
"choices":[{"index":0,"message":{"role":"assistant","content":"the slow answer"},"finish_reason":"stop"}],
"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
		case <-r.Context().Done():
			g.closed <- struct{}{} // pal aborted the request
		}
	}))
	t.Cleanup(srv.Close)
	g.provider = &provider{srv: srv}
	return g
}

// bearer adds the token to every request.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// startHTTP runs pal serve -http on a free loopback port with a token and 100 ms heartbeats,
// and returns the endpoint once it answers.
func startHTTP(t *testing.T, w *workspace, p *provider) string {
	t.Helper()
	conf := filepath.Join(w.outside, "pal.toml")
	if err := os.WriteFile(conf, []byte("[limits]\nheartbeat_interval = \"100ms\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	url, _, _ := startHTTPServer(t, w, p, "PAL_CONFIG="+conf)
	return url
}

// startHTTPServer runs pal serve -http on a free loopback port with the token httpToken and
// extraEnv, and returns the endpoint once it answers, the process and its stderr. At cleanup
// it stops the server and checks no secret reached its log.
func startHTTPServer(t *testing.T, w *workspace, p *provider, extraEnv ...string) (string, *exec.Cmd, *lockedBuffer) {
	t.Helper()
	return startHTTPProcess(t, w, p, []string{"-http-token-env", "PAL_HTTP_TOKEN"}, append([]string{"PAL_HTTP_TOKEN=" + httpToken}, extraEnv...)...)
}

// startHTTPProcess runs pal serve -http on a free loopback port with the extra serve
// arguments args and the environment extraEnv, and returns the endpoint once it answers, the
// process and its stderr. At cleanup it stops the server and checks no secret reached its log.
func startHTTPProcess(t *testing.T, w *workspace, p *provider, args []string, extraEnv ...string) (string, *exec.Cmd, *lockedBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(palBin, append([]string{"serve", "-http", addr}, args...)...)
	cmd.Dir = w.root
	cmd.Env = serverEnv(w, p, extraEnv...)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		for _, secret := range []string{apiKey, httpToken} {
			if strings.Contains(stderr.String(), secret) {
				t.Errorf("a secret appeared in the server log")
			}
		}
		if t.Failed() {
			t.Logf("server %s stderr:\n%s", addr, stderr.String())
		}
	})
	url := "http://" + addr + "/mcp"
	for deadline := time.Now().Add(2 * time.Minute); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return url, cmd, stderr
		}
		if time.Now().After(deadline) {
			t.Fatalf("pal serve -http did not listen on %s:\n%s", addr, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestHTTPWithGoSDK drives the binary over streamable HTTP with the official Go SDK client:
// no token is 401; initialize and tools/list; a chat whose provider answers only after three
// heartbeats reached the client; a cancelled chat whose provider request pal aborts (the
// provider sees the connection closed).
func TestHTTPWithGoSDK(t *testing.T) {
	w := newWorkspace(t)
	g := newGatedProvider(t)
	url := startHTTP(t, w, g.provider)

	resp, err := http.Post(url, "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: %d", resp.StatusCode)
	}

	var mu sync.Mutex
	var beats []string
	beat := make(chan struct{}, 64)
	client := mcp.NewClient(&mcp.Implementation{Name: "pal-e2e-http", Version: "1"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			if strings.Contains(r.Params.Message, "elapsed") {
				mu.Lock()
				beats = append(beats, r.Params.Message)
				mu.Unlock()
				beat <- struct{}{}
			}
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: bearer{httpToken}}},
		&mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer cs.Close()
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, tl := range tools.Tools {
		names[tl.Name] = true
	}
	if !names["chat"] || !names["thinkdeep"] {
		t.Fatalf("tools/list over HTTP: %v", names)
	}

	// A slow model: released only after three heartbeats arrived.
	go func() {
		<-g.started
		for range 3 {
			<-beat
		}
		g.release <- struct{}{}
	}()
	params := &mcp.CallToolParams{Name: "chat", Arguments: map[string]any{"prompt": "a slow question", "model": "gpt-5.2"}}
	params.SetProgressToken("slow-1")
	res, err := cs.CallTool(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError {
		t.Fatalf("slow chat: %+v", res.Content)
	}
	mu.Lock()
	got := append([]string(nil), beats...)
	mu.Unlock()
	if len(got) < 3 || !strings.HasPrefix(got[0], "waiting for gpt-5.2: ") {
		t.Fatalf("heartbeats before the result: %q", got)
	}
	t.Logf("heartbeats: %q", got)

	// A cancelled call: pal aborts the provider request.
	cctx, ccancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		_, err := cs.CallTool(cctx, &mcp.CallToolParams{Name: "chat", Arguments: map[string]any{"prompt": "never answered", "model": "gpt-5.2"}})
		errc <- err
	}()
	<-g.started
	ccancel()
	select {
	case <-g.closed:
	case <-time.After(time.Minute):
		t.Fatal("the provider request was not aborted within a minute of the cancellation")
	}
	if err := <-errc; err == nil {
		t.Fatal("the cancelled call returned a result")
	}
	// The session still works.
	if _, err := cs.ListTools(ctx, nil); err != nil {
		t.Fatalf("after the cancellation: %v", err)
	}
}
