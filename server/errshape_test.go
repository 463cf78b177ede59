package server

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pal-mcp/pal/hostfns"
	"github.com/pal-mcp/pal/internal/testwasm"
	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/providers"
	"github.com/pal-mcp/pal/runtime"
	"github.com/pal-mcp/pal/runtime/abi"
)

const errshapePkg = "tools-wasm/testdata/errshape"

// failingModels is a model registry whose provider always fails.
type failingModels struct{ fakeModels }

func (f *failingModels) Generate(context.Context, string, providers.Category, providers.Request) (*providers.Response, hostfns.ModelInfo, error) {
	return nil, f.info(), fmt.Errorf("%w: openai answered HTTP 503 three times", providers.ErrUpstream)
}

// shape is the error shape (docs/abi.md, "What a tool's caller sees when a call fails").
type shape struct {
	Status      string `json:"status"`
	Code        string `json:"code"`
	Content     string `json:"content"`
	ContentType string `json:"content_type"`
	Metadata    struct {
		ToolName string `json:"tool_name"`
	} `json:"metadata"`
}

// callCtx sends one tools/call under ctx and returns the result's text items and isError.
func callCtx(t *testing.T, ctx context.Context, s *Server, tool string, args any) ([]string, bool) {
	t.Helper()
	msg, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call",
		"params": map[string]any{"name": tool, "arguments": args}})
	raw, err := json.Marshal(s.MCP().HandleMessage(ctx, msg))
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Result struct {
			Content []struct{ Type, Text string } `json:"content"`
			IsError bool                          `json:"isError"`
		} `json:"result"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	var texts []string
	for _, c := range resp.Result.Content {
		if c.Type == "text" {
			texts = append(texts, c.Text)
		}
	}
	return texts, resp.Result.IsError
}

// TestOneErrorShape drives each kind of failure a tool's caller can see through the real
// server (host refusals, runtime limits, the Go kit's handler errors, a plain-text error of a
// module without the kit) and checks that every one is an isError result with one text item in
// the one error shape, each kind with its own code, and the human text first in content.
func TestOneErrorShape(t *testing.T) {
	e, err := runtime.New(context.Background(), runtime.Config{CacheDir: sharedCache, CacheKey: testCacheKey,
		CallTimeout: 3 * time.Second, MemoryLimitBytes: 64 << 20, OutputLimitBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	errshape := load(t, e, "errshape", errshapePkg, true)
	if err := errshape.Module.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	raw, err := e.LoadModule(context.Background(), "raw",
		testwasm.ABIModuleResult(`{"content":[{"type":"text","text":"raw failure <b>"}],"isError":true}`), "")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "a.txt"), []byte("a"), 0o600); err != nil {
		t.Fatal(err)
	}
	paths, err := policy.NewPaths([]string{root}, policy.DefaultDeny, policy.Caps{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { paths.Close() })
	env := testEnv(&failingModels{}, nil)
	env.Paths = paths
	s := newServer(t, Options{Modules: []LoadedModule{errshape, {Module: raw, Builtin: true}}, Env: env})
	unavailable := newServer(t, Options{Modules: []LoadedModule{errshape}, Env: env,
		Unavailable: "no provider key is set: set GEMINI_API_KEY or OPENAI_API_KEY"})

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		kind    string
		srv     *Server
		ctx     context.Context
		tool    string
		args    any
		code    string
		content string // a substring of content
	}{
		{"arguments refused by the schema", s, nil, "args", map[string]any{"n": "two"}, abi.FailInvalidArguments, "invalid arguments: n:"},
		{"capability not granted", s, nil, "undeclared", nil, abi.FailNotGranted, `"model.list"`},
		{"path refused", s, nil, "read", map[string]any{"path": "/etc/passwd"}, abi.FailDenied, "outside every allowed root"},
		{"path relative", s, nil, "read", map[string]any{"path": "a.txt"}, abi.FailDenied, "not an absolute path"},
		{"file missing", s, nil, "read", map[string]any{"path": filepath.Join(root, "none.txt")}, abi.FailNotFound, "none.txt"},
		{"provider failure", s, nil, "generate", nil, abi.FailProviderError, "HTTP 503"},
		{"handler error", s, nil, "fail", nil, abi.FailToolError, "the tool failed on purpose"},
		{"plain ErrorResult", s, nil, "plain", nil, abi.FailToolError, "a plain-text failure"},
		{"plain text from a module without the kit", s, nil, "wordcount", nil, abi.FailToolError, "raw failure <b>"},
		{"time limit", s, nil, "spin", nil, abi.FailTimeLimit, "time limit"},
		{"memory cap", s, nil, "grow", nil, abi.FailMemoryCap, "memory cap"},
		{"output cap", s, nil, "big", nil, abi.FailOutputCap, "output cap"},
		{"module trap", s, nil, "exit", nil, abi.FailTrap, "crashed"},
		{"cancelled", s, cancelled, "spin", nil, abi.FailCancelled, "cancelled"},
		{"server busy", s, nil, "fail", nil, abi.FailBusy, "server busy"},
		{"server unavailable", unavailable, nil, "fail", nil, abi.FailUnavailable, "no provider key"},
	}
	seen := map[string]string{}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			ctx := c.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			if c.code == abi.FailBusy {
				// Every call slot taken and no room to wait.
				for range cap(s.callSlots) {
					s.callSlots <- struct{}{}
				}
				maxWaiting := s.maxWaiting
				s.maxWaiting = 0
				defer func() {
					s.maxWaiting = maxWaiting
					for range cap(s.callSlots) {
						<-s.callSlots
					}
				}()
			}
			texts, isErr := callCtx(t, ctx, c.srv, c.tool, c.args)
			if !isErr || len(texts) != 1 {
				t.Fatalf("want one isError text item, got isError=%v %q", isErr, texts)
			}
			var got shape
			dec := json.NewDecoder(strings.NewReader(texts[0]))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("not the error shape (%v): %s", err, texts[0])
			}
			if got.Status != "error" || got.Code != c.code || got.ContentType != "text" || got.Metadata.ToolName != c.tool {
				t.Fatalf("got %s; want status error, code %s, tool %s", texts[0], c.code, c.tool)
			}
			if !strings.Contains(got.Content, c.content) {
				t.Fatalf("content %q lacks %q", got.Content, c.content)
			}
			if !strings.HasPrefix(texts[0], `{"status":"error","code":"`+c.code+`","content":`) {
				t.Errorf("keys out of order (status, code, content first): %s", texts[0])
			}
			seen[c.code] = c.kind
		})
	}
	// Each kind of failure has its own code, except the ones that are the same to a caller.
	if len(seen) != 13 {
		t.Errorf("%d distinct codes, want 13: %v", len(seen), seen)
	}
	// The server keeps serving after each of them.
	if texts, isErr := callCtx(t, context.Background(), s, "args", map[string]any{"n": 2}); isErr || len(texts) != 1 || texts[0] != "ok" {
		t.Fatalf("after the failures: %v %q", isErr, texts)
	}
}

// TestHandlerContextEnds: a Go kit handler's context ends when its call runs past its deadline
// (a loop that only checks ctx.Err() sees context.DeadlineExceeded and returns in the grace
// the runtime gives it) and when the client cancels the call (the host answers the guest's
// next op cancelled, and ctx.Err() is context.Canceled), through the real server and wasm.
func TestHandlerContextEnds(t *testing.T) {
	const timeout = 2 * time.Second
	e, err := runtime.New(context.Background(), runtime.Config{CacheDir: sharedCache, CacheKey: testCacheKey, CallTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	errshape := load(t, e, "errshape", errshapePkg, true)
	if err := errshape.Module.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	audit := newChanAuditor()
	s := newServer(t, Options{Modules: []LoadedModule{errshape}, Env: testEnv(&fakeModels{}, audit)})

	t.Run("past its deadline", func(t *testing.T) {
		start := time.Now()
		texts, isErr := callCtx(t, context.Background(), s, "watch", nil)
		took := time.Since(start)
		if isErr || len(texts) != 1 || !strings.Contains(texts[0], "ctx.Err: context deadline exceeded; deadline set: true (true); iterations > 0: true") {
			t.Fatalf("isError=%v %q", isErr, texts)
		}
		if took < timeout-100*time.Millisecond || took > timeout+runtime.DefaultCancelGrace+5*time.Second {
			t.Fatalf("returned after %v; the call's limit is %v", took, timeout)
		}
	})
	t.Run("cancelled by the client", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			// Cancel once the guest is running: its first host call is audited.
			for r := range audit.ch {
				if r.Tool == "watchhost" && r.Op == "host.info" {
					cancel()
					return
				}
			}
		}()
		texts, isErr := callCtx(t, ctx, s, "watchhost", nil)
		if isErr || len(texts) != 1 || !strings.Contains(texts[0], "ctx.Err: context canceled; last host call: cancelled: the call was cancelled") {
			t.Fatalf("isError=%v %q", isErr, texts)
		}
	})
}
