package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pal-mcp/pal/internal/mcpwire"
)

// logRecorder keeps the log messages (notifications/message) a client receives.
type logRecorder struct {
	mu   sync.Mutex
	msgs []*mcp.LoggingMessageParams
	got  chan struct{} // signalled on each message
}

func newLogRecorder() *logRecorder { return &logRecorder{got: make(chan struct{}, 1)} }

func (r *logRecorder) handle(_ context.Context, req *mcp.LoggingMessageRequest) {
	r.mu.Lock()
	r.msgs = append(r.msgs, req.Params)
	r.mu.Unlock()
	select {
	case r.got <- struct{}{}:
	default:
	}
}

// waitFor waits until a message whose data contains want arrives, and returns it.
func (r *logRecorder) waitFor(t *testing.T, want string) *mcp.LoggingMessageParams {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		r.mu.Lock()
		for _, m := range r.msgs {
			if s, _ := m.Data.(string); strings.Contains(s, want) {
				r.mu.Unlock()
				return m
			}
		}
		r.mu.Unlock()
		select {
		case <-r.got:
		case <-deadline:
			t.Fatalf("no log message containing %q reached the client", want)
		}
	}
}

// startDegraded runs pal serve in dir with only env (no provider key unless env has one) and
// connects the go-sdk client, recording log messages.
func startDegraded(t *testing.T, dir string, env []string, args ...string) (*mcp.ClientSession, *logRecorder, *lockedBuffer) {
	t.Helper()
	home := t.TempDir()
	seedCacheKey(t, filepath.Join(home, "state"))
	cmd := exec.Command(palBin, append([]string{"serve"}, args...)...)
	cmd.Dir = dir
	cmd.Env = homeEnv(home, filepath.Join(home, "state"), env...)
	logs := newLogRecorder()
	cs, stderr := connectCmd(t, cmd, &mcp.ClientOptions{LoggingMessageHandler: logs.handle})
	return cs, logs, stderr
}

// TestDegradedStartReachesTheClient: when pal cannot serve tools it still answers initialize
// and tools/list, every call is an isError result saying what is wrong and what to set, and
// the same message arrives as an error log message; clients that hide stderr show it instead
// of "Connection closed". No key value appears anywhere.
func TestDegradedStartReachesTheClient(t *testing.T) {
	const secret = "sk-live-written-in-a-file-3c1d"
	badConfig := filepath.Join(t.TempDir(), "custom.toml")
	if err := os.WriteFile(badConfig, []byte("[providers.openai]\napi_key = \""+secret+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	project := func(t *testing.T, toml string) string {
		dir := filepath.Join(t.TempDir(), "project")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if toml != "" {
			if err := os.WriteFile(filepath.Join(dir, "pal.toml"), []byte(toml), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	cases := []struct {
		name string
		dir  string
		env  []string
		args []string
		want []string
	}{
		{"no provider key", project(t, ""), nil, nil,
			[]string{"no model provider is configured", "GEMINI_API_KEY", "OPENAI_API_KEY", "env block"}},
		{"refused project file", project(t, "[paths]\ndeny = []\n"), []string{"OPENAI_API_KEY=" + apiKey}, nil,
			[]string{"pal.toml", "paths.deny", "pal trust"}},
		{"key written in a config file", project(t, ""), []string{"OPENAI_API_KEY=" + apiKey}, []string{"-config", badConfig},
			[]string{badConfig, "providers.openai.api_key"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cs, logs, stderr := startDegraded(t, tc.dir, tc.env, tc.args...)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			tools, err := cs.ListTools(ctx, nil)
			if err != nil {
				t.Fatalf("tools/list: %v", err)
			}
			names := map[string]bool{}
			for _, tl := range tools.Tools {
				names[tl.Name] = true
			}
			if !names["chat"] || !names["version"] {
				t.Fatalf("tools/list of a degraded server lacks chat or version: %v", names)
			}
			for _, tool := range []string{"chat", "version"} {
				res, text := callTool(t, cs, tool, map[string]any{"prompt": "hello"})
				if !res.IsError {
					t.Errorf("%s: not an isError result: %s", tool, text)
				}
				for _, w := range append([]string{"pal cannot serve tools"}, tc.want...) {
					if !strings.Contains(text, w) {
						t.Errorf("%s: result lacks %q:\n%s", tool, w, text)
					}
				}
				for _, leak := range []string{apiKey, secret} {
					if strings.Contains(text, leak) || strings.Contains(stderr.String(), leak) {
						t.Errorf("a key value was printed")
					}
				}
			}
			m := logs.waitFor(t, "pal cannot serve tools")
			if m.Level != "error" || m.Logger != "pal" {
				t.Errorf("log message level %q logger %q, want error from pal", m.Level, m.Logger)
			}
			if s, _ := m.Data.(string); strings.Contains(s, secret) || strings.Contains(s, apiKey) {
				t.Errorf("a key value was sent in a log message")
			}
		})
	}
}

// TestWarningsAndSetLevelOnTheWire: a start-up warning reaches the client as a log message once,
// after the handshake; logging/setLevel decides which later records are sent (a call's INFO
// record after "debug", nothing after "error"); a bad level is refused. On the raw wire.
func TestWarningsAndSetLevelOnTheWire(t *testing.T) {
	w := newWorkspace(t)
	s := startRaw(t, w, newProvider(t), "DISABLED_TOOLS=not a tool!")
	isLog := func(sub, level string) func(mcpwire.Message) bool {
		return func(m mcpwire.Message) bool {
			var p struct {
				Level string `json:"level"`
				Data  any    `json:"data"`
			}
			if m.Method != "notifications/message" || json.Unmarshal(m.Params, &p) != nil {
				return false
			}
			d, _ := p.Data.(string)
			return p.Level == level && strings.Contains(d, sub)
		}
	}
	s.Request(1, "logging/setLevel", map[string]any{"level": "debug"})
	if m := s.Until("1"); m.Error != nil {
		t.Fatalf("logging/setLevel: %s", m.Raw)
	}
	s.UntilMatch(isLog("DISABLED_TOOLS", "warning")) // logged before the client came
	s.Request(2, "tools/call", map[string]any{"name": "version", "arguments": map[string]any{}})
	s.Until("2")
	s.UntilMatch(isLog("tool call", "info"))

	s.Request(3, "logging/setLevel", map[string]any{"level": "error"})
	s.Until("3")
	from := len(s.Seen)
	s.Request(4, "tools/call", map[string]any{"name": "version", "arguments": map[string]any{}})
	s.Until("4")
	s.Request(5, "logging/setLevel", map[string]any{"level": "bogus"})
	if m := s.Until("5"); m.Error == nil {
		t.Errorf("logging/setLevel bogus accepted: %s", m.Raw)
	}
	for _, m := range s.Seen[from:] {
		if isLog("tool call", "info")(m) {
			t.Errorf("an info record was sent at level error: %s", m.Raw)
		}
	}
	warned := 0
	for _, m := range s.Seen {
		if isLog("DISABLED_TOOLS", "warning")(m) {
			warned++
		}
	}
	if warned != 1 {
		t.Errorf("the start-up warning reached the client %d times, want once", warned)
	}
}

// TestDegradedOverHTTP: serve -http without a provider key (and a bearer token from a
// variable) serves as stdio does: initialize and tools/list work, a call is an isError result
// saying what to set, and the process exits 1 when stopped. It used to panic on start.
func TestDegradedOverHTTP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	home := t.TempDir()
	seedCacheKey(t, filepath.Join(home, "state"))
	cmd := exec.Command(palBin, "serve", "-http", addr, "-http-token-env", "PAL_HTTP_TOKEN")
	cmd.Dir = t.TempDir()
	cmd.Env = homeEnv(home, filepath.Join(home, "state"), "PAL_HTTP_TOKEN="+httpToken)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		if t.Failed() {
			t.Logf("server stderr:\n%s", stderr.String())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("pal serve -http exited before listening: %v", err)
		case <-ctx.Done():
			t.Fatal("pal serve -http did not listen")
		case <-time.After(50 * time.Millisecond):
		}
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "pal-e2e-http", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + addr + "/mcp",
		HTTPClient: &http.Client{Transport: bearer{httpToken}}}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	if len(tools.Tools) == 0 {
		t.Fatal("a degraded server listed no tools over HTTP")
	}
	res, text := callTool(t, cs, "chat", map[string]any{"prompt": "hello"})
	if !res.IsError || !strings.Contains(text, "pal cannot serve tools") || !strings.Contains(text, "OPENAI_API_KEY") {
		t.Errorf("chat on a degraded HTTP server: isError %v: %s", res.IsError, text)
	}
	cs.Close()
	cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("a degraded serve -http stopped with %v, want exit status 1", err)
		}
	case <-ctx.Done():
		t.Fatal("pal serve -http did not stop on interrupt")
	}
	if strings.Contains(stderr.String(), httpToken) {
		t.Error("the bearer token appeared in the server log")
	}
}
