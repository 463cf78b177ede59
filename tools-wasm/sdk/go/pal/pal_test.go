//go:build !wasip1

package pal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/paltest"
)

// probe is the handler of the test tools; each test sets it.
var probe func(context.Context, *pal.Call, json.RawMessage) (*pal.Result, error)

func init() {
	pal.SetModule("sdktest", "1.2.3")
	handler := func(ctx context.Context, c *pal.Call, args json.RawMessage) (*pal.Result, error) {
		return probe(ctx, c, args)
	}
	pal.Register(pal.Tool{Name: "probe", Title: "Probe", Description: "test tool",
		InputSchema:  json.RawMessage(`{"type":"object"}`),
		Annotations:  pal.Annotations{ReadOnly: true, OpenWorld: false, Idempotent: true},
		Capabilities: []string{pal.CapFSRead, pal.CapFSList, pal.CapModelGenerate, pal.CapModelList, pal.CapThreadRead, pal.CapThreadWrite, pal.CapProgress, pal.CapHostInfo},
		Category:     "fast", RequiresModel: true, Handler: handler})
	pal.Register(pal.Tool{Name: "narrow", Description: "declares fs.read only",
		InputSchema: json.RawMessage(`{"type":"object"}`), Capabilities: []string{pal.CapFSRead}, Handler: handler})
}

func TestDescribe(t *testing.T) {
	var m abi.Manifest
	if err := json.Unmarshal(pal.Describe(), &m); err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Fatalf("the host would refuse the manifest: %v", err)
	}
	if m.ABI != 1 || m.Name != "sdktest" || m.Version != "1.2.3" || len(m.Tools) != 2 {
		t.Fatalf("manifest %+v", m)
	}
	p := m.Tools[0]
	a := p.Annotations
	if a.ReadOnlyHint == nil || !*a.ReadOnlyHint || a.DestructiveHint == nil || *a.DestructiveHint ||
		a.IdempotentHint == nil || !*a.IdempotentHint || a.OpenWorldHint == nil || *a.OpenWorldHint {
		t.Fatalf("annotations not all published as given: %s", pal.Describe())
	}
	if p.Category != "fast" || !p.RequiresModel || len(p.Capabilities) != 8 || p.Title != "Probe" {
		t.Fatalf("tool spec %+v", p)
	}
}

func TestRegisterRefusesBadTools(t *testing.T) {
	h := func(context.Context, *pal.Call, json.RawMessage) (*pal.Result, error) { return nil, nil }
	obj := json.RawMessage(`{"type":"object"}`)
	tests := []struct {
		name string
		tool pal.Tool
	}{
		{"no handler", pal.Tool{Name: "x", InputSchema: obj}},
		{"bad name", pal.Tool{Name: "Bad-Name", InputSchema: obj, Handler: h}},
		{"empty name", pal.Tool{Name: "", InputSchema: obj, Handler: h}},
		{"schema not an object", pal.Tool{Name: "x", InputSchema: json.RawMessage(`{"type":"string"}`), Handler: h}},
		{"no schema", pal.Tool{Name: "x", Handler: h}},
		{"unknown capability", pal.Tool{Name: "x", InputSchema: obj, Capabilities: []string{"net.dial"}, Handler: h}},
		{"unknown category", pal.Tool{Name: "x", InputSchema: obj, Category: "slow", Handler: h}},
		{"duplicate", pal.Tool{Name: "probe", InputSchema: obj, Handler: h}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("Register accepted the tool")
				}
			}()
			pal.Register(tt.tool)
		})
	}
}

func handleRequest(tool string, args string) []byte {
	return []byte(`{"abi":1,"tool":"` + tool + `","call_id":"c-1","arguments":` + args + `}`)
}

func decodeResult(t *testing.T, out []byte) abi.Result {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	var r abi.Result
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("not a CallToolResult: %v: %s", err, out)
	}
	if err := r.Validate(); err != nil {
		t.Fatalf("the runtime would refuse %s: %v", out, err)
	}
	return r
}

func TestInvokeDispatch(t *testing.T) {
	host := &paltest.Host{}
	pal.SetHost(host)
	var seen struct {
		call *pal.Call
		args string
	}
	probe = func(ctx context.Context, c *pal.Call, args json.RawMessage) (*pal.Result, error) {
		seen.call, seen.args = c, string(args)
		switch {
		case strings.Contains(string(args), `"fail"`):
			return nil, errors.New("it failed on purpose")
		case strings.Contains(string(args), "badargs"):
			return nil, fmt.Errorf("%w: x is odd", pal.ErrInvalidArguments)
		case strings.Contains(string(args), "notgranted"):
			return nil, fmt.Errorf("reading: %w", &pal.HostError{Code: pal.CodeNotGranted, Message: "no fs.read"})
		case strings.Contains(string(args), "plain"):
			return pal.ErrorResult("plain words"), nil
		case strings.Contains(string(args), "failure"):
			return pal.FailureResult(pal.FailNotFound, "gone"), nil
		case strings.Contains(string(args), "panic"):
			panic("boom")
		case strings.Contains(string(args), "nil"):
			return nil, nil
		case strings.Contains(string(args), "badimage"):
			return &pal.Result{Content: []pal.Content{{Type: "image", Data: "!!", MIMEType: "image/png"}}}, nil
		case strings.Contains(string(args), "empty"):
			return &pal.Result{}, nil
		}
		return pal.TextResult("ok <&>"), nil
	}
	tests := []struct {
		name    string
		msg     []byte
		isError bool
		text    string // substring of the first text item (of the error shape's content)
		code    string // the error shape's code
	}{
		{"ok", handleRequest("probe", `{"x":1}`), false, "ok <&>", ""},
		{"null arguments become {}", handleRequest("probe", `null`), false, "ok", ""},
		{"arguments not an object", handleRequest("probe", `[1]`), true, "must be a JSON object", pal.FailInvalidArguments},
		{"unknown tool", handleRequest("nosuch", `{}`), true, `no tool "nosuch"`, pal.FailInternal},
		{"other ABI", []byte(`{"abi":2,"tool":"probe","arguments":{}}`), true, "ABI 2", pal.FailInternal},
		{"not JSON", []byte("hello"), true, "not a JSON message", pal.FailInternal},
		{"nil request", nil, true, "not a JSON message", pal.FailInternal},
		{"body on handle", append(handleRequest("probe", `{}`), 0, 'x'), true, "carries a body", pal.FailInternal},
		{"wrong field type", []byte(`{"abi":"1","tool":"probe"}`), true, "malformed", pal.FailInternal},
		{"handler error", handleRequest("probe", `{"fail":1}`), true, "it failed on purpose", pal.FailToolError},
		{"handler refused arguments", handleRequest("probe", `{"badargs":1}`), true, "invalid arguments: x is odd", pal.FailInvalidArguments},
		{"host refusal passed on", handleRequest("probe", `{"notgranted":1}`), true, "not_granted: no fs.read", pal.FailNotGranted},
		{"plain ErrorResult", handleRequest("probe", `{"plain":1}`), true, "plain words", pal.FailToolError},
		{"FailureResult", handleRequest("probe", `{"failure":1}`), true, "gone", pal.FailNotFound},
		{"handler panic", handleRequest("probe", `{"panic":1}`), true, "internal error: boom", "trap"},
		{"nil result", handleRequest("probe", `{"nil":1}`), true, "returned no result", "bad_result"},
		{"invalid result", handleRequest("probe", `{"badimage":1}`), true, "invalid result", "bad_result"},
		{"empty result", handleRequest("probe", `{"empty":1}`), true, "invalid result", "bad_result"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := pal.Invoke(tt.msg)
			r := decodeResult(t, out)
			if r.IsError != tt.isError || len(r.Content) == 0 {
				t.Fatalf("got %s", out)
			}
			text := r.Content[0].Text
			if tt.isError {
				var shape struct {
					Status, Code, Content string
					Metadata              struct {
						ToolName string `json:"tool_name"`
					}
				}
				if err := json.Unmarshal([]byte(text), &shape); err != nil || shape.Status != "error" || shape.Code != tt.code {
					t.Fatalf("not the error shape with code %s: %s (%v)", tt.code, text, err)
				}
				// A request the kit could not read names no tool for certain; the host fills it in.
				if tt.code != pal.FailInternal && shape.Metadata.ToolName != "probe" {
					t.Fatalf("tool_name %q, want probe: %s", shape.Metadata.ToolName, text)
				}
				text = shape.Content
			}
			if !strings.Contains(text, tt.text) {
				t.Fatalf("got %s", out)
			}
		})
	}
	pal.Invoke(handleRequest("probe", `null`))
	if seen.args != "{}" || seen.call.Tool != "probe" || seen.call.CallID != "c-1" {
		t.Fatalf("handler saw %+v %q", seen.call, seen.args)
	}
	if !strings.Contains(string(pal.Invoke(handleRequest("probe", `{}`))), "ok <&>") {
		t.Fatal("result text was HTML-escaped")
	}
	var panicLogged bool
	for _, l := range host.Logs {
		panicLogged = panicLogged || (l.Level == int(pal.LevelError) && strings.Contains(l.Msg, "boom"))
	}
	if !panicLogged {
		t.Fatalf("the panic was not logged: %+v", host.Logs)
	}
}

// FuzzInvoke: whatever the host sends to handle, the module answers with a result the
// runtime accepts.
func FuzzInvoke(f *testing.F) {
	pal.SetHost(&paltest.Host{})
	probe = func(context.Context, *pal.Call, json.RawMessage) (*pal.Result, error) {
		return pal.TextResult("ok"), nil
	}
	for _, s := range []string{string(handleRequest("probe", `{}`)), `{"abi":1}`, "", "\x00", `{"abi":1,"tool":"probe","arguments":"x"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		decodeResult(t, pal.Invoke(msg))
	})
}

// run invokes the probe tool with fn as its body and fails the test on an isError result.
func run(t *testing.T, h *paltest.Host, tool string, fn func() (any, error)) any {
	t.Helper()
	var got any
	var gotErr error
	probe = func(context.Context, *pal.Call, json.RawMessage) (*pal.Result, error) {
		got, gotErr = fn()
		return pal.TextResult("done"), nil
	}
	h.Invoke(t, tool, map[string]any{})
	if gotErr != nil {
		t.Fatalf("op failed: %v", gotErr)
	}
	return got
}

func runErr(t *testing.T, h *paltest.Host, tool string, fn func() error) error {
	t.Helper()
	var gotErr error
	probe = func(context.Context, *pal.Call, json.RawMessage) (*pal.Result, error) {
		gotErr = fn()
		return pal.TextResult("done"), nil
	}
	h.Invoke(t, tool, map[string]any{})
	return gotErr
}

var modified = time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)

func newHost() *paltest.Host {
	return &paltest.Host{
		Files: map[string]paltest.File{
			"/src/a.go":       {Content: []byte("package a\n"), Modified: modified},
			"/src/sub/b.py":   {Content: []byte("print(1)\n")},
			"/src/.hidden.go": {Content: []byte("x")},
			"/src/key.pem":    {Content: []byte("secret")},
			"/src/big.txt":    {Content: bytes.Repeat([]byte("z"), 50)},
		},
		Roots:        []string{"/src"},
		Deny:         []string{"*.pem"},
		MaxFileBytes: 40,
		Models: []paltest.Model{
			{Name: "gemini-2.5-flash", Provider: "google", Aliases: []string{"flash"}, ContextWindow: 1_048_576, SupportsThinking: true, Score: 10},
			{Name: "o3", Provider: "openai", ContextWindow: 200_000},
		},
	}
}

func TestReadFile(t *testing.T) {
	h := newHost()
	got := run(t, h, "probe", func() (any, error) {
		info, body, err := pal.ReadFile("/src/a.go", 0)
		return []any{info, string(body)}, err
	}).([]any)
	info := got[0].(pal.FileInfo)
	if got[1] != "package a\n" || info.Size != 10 || !info.Modified.Equal(modified) || info.Truncated || info.Path != "/src/a.go" {
		t.Fatalf("got %+v %q", info, got[1])
	}
	got = run(t, h, "probe", func() (any, error) {
		info, body, err := pal.ReadFile("/src/big.txt", 5)
		return []any{info, string(body)}, err
	}).([]any)
	if info := got[0].(pal.FileInfo); got[1] != "zzzzz" || !info.Truncated || info.Size != 50 {
		t.Fatalf("max_bytes read: %+v %q", info, got[1])
	}
	tests := []struct {
		path string
		want error
	}{
		{"/src/missing.go", pal.ErrNotFound},
		{"/src/key.pem", pal.ErrDenied},
		{"/src/../etc/passwd", pal.ErrDenied},
		{"/src/big.txt", pal.ErrTooLarge},
		{"src/a.go", pal.ErrDenied}, // as the real host: a relative path is refused, not malformed
		{"/src/sub", pal.ErrInvalid},
	}
	for _, tt := range tests {
		err := runErr(t, h, "probe", func() error { _, _, err := pal.ReadFile(tt.path, 0); return err })
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.path, err, tt.want)
		}
	}
	err := runErr(t, h, "probe", func() error { _, _, err := pal.ReadFile("/src/sub", 0); return err })
	if !pal.IsDirectory(err) {
		t.Fatalf("directory read: %v", err)
	}
}

func TestListDir(t *testing.T) {
	h := newHost()
	l := run(t, h, "probe", func() (any, error) { return pal.ListDir("/src", 0, 0) }).(pal.Listing)
	var paths []string
	for _, e := range l.Entries {
		paths = append(paths, e.Kind+":"+e.Path)
	}
	want := "file:/src/a.go file:/src/big.txt dir:/src/sub file:/src/sub/b.py"
	if strings.Join(paths, " ") != want {
		t.Fatalf("got %v, want %s", paths, want)
	}
	err := runErr(t, h, "probe", func() error { _, err := pal.ListDir("/src/nope", 0, 0); return err })
	if !errors.Is(err, pal.ErrNotFound) {
		t.Fatalf("missing dir: %v", err)
	}
}

func TestModels(t *testing.T) {
	h := newHost()
	m := run(t, h, "probe", func() (any, error) { return pal.ResolveModel("flash", "fast") }).(pal.ModelInfo)
	if m.Model != "gemini-2.5-flash" || m.Provider != "google" || m.ContextWindow != 1_048_576 || !m.SupportsThinking {
		t.Fatalf("resolve: %+v", m)
	}
	err := runErr(t, h, "probe", func() error { _, err := pal.ResolveModel("gpt-9", ""); return err })
	if !errors.Is(err, pal.ErrUnavailable) || !strings.Contains(err.Error(), "o3") {
		t.Fatalf("unknown model: %v", err)
	}

	temp := 0.25
	prompt := "line 1\n\x00 \"quoted\" \\ ünïcode"
	h.Reply = func(c paltest.GenerateCall) (pal.GenerateResponse, error) {
		return pal.GenerateResponse{Content: "answer", FinishReason: "stop", Usage: pal.Usage{InputTokens: 1, OutputTokens: 2, TotalTokens: 3}}, nil
	}
	resp := run(t, h, "probe", func() (any, error) {
		return pal.Generate(pal.GenerateRequest{Model: "o3", Category: "fast", System: "be brief", Prompt: prompt, Temperature: &temp, ThinkingMode: "low", Images: []string{"data:image/png;base64,AA=="}})
	}).(pal.GenerateResponse)
	if resp.Content != "answer" || resp.Model != "o3" || resp.Provider != "openai" || resp.Usage.TotalTokens != 3 {
		t.Fatalf("generate: %+v", resp)
	}
	g := h.Generated[0]
	if g.Prompt != prompt || g.System != "be brief" || *g.Temperature != 0.25 || g.ThinkingMode != "low" || g.Category != "fast" || len(g.Images) != 1 {
		t.Fatalf("host saw %+v", g)
	}
	// An empty prompt still travels as a (empty) body.
	run(t, h, "probe", func() (any, error) { return pal.Generate(pal.GenerateRequest{Model: "o3"}) })
	if h.Generated[1].Prompt != "" {
		t.Fatalf("empty prompt arrived as %q", h.Generated[1].Prompt)
	}
	h.Reply = func(paltest.GenerateCall) (pal.GenerateResponse, error) {
		return pal.GenerateResponse{}, errors.New("503 from provider")
	}
	err = runErr(t, h, "probe", func() error { _, err := pal.Generate(pal.GenerateRequest{Prompt: "x"}); return err })
	if !errors.Is(err, pal.ErrUpstream) {
		t.Fatalf("provider failure: %v", err)
	}

	c := run(t, h, "probe", func() (any, error) { return pal.ListModels() }).(pal.Catalogue)
	if c.Mode != "auto" || len(c.Providers) != 2 || c.Providers[0].Models[0].Aliases[0] != "flash" {
		t.Fatalf("catalogue %+v", c)
	}
}

func TestThreads(t *testing.T) {
	h := newHost()
	h.MaxTurns = 3
	id := run(t, h, "probe", func() (any, error) {
		return pal.ThreadCreate("probe", map[string]any{"prompt": "hi"})
	}).(string)
	a := run(t, h, "probe", func() (any, error) {
		return pal.ThreadAppend(id, pal.Turn{Role: "user", Content: "hi", Files: []string{"/src/a.go"}, Tool: "probe"},
			pal.Turn{Role: "assistant", Content: "hello", Model: "o3", Provider: "openai", Tool: "probe"})
	}).(pal.AppendResult)
	if a.Turns != 2 || a.Remaining != 1 {
		t.Fatalf("append: %+v", a)
	}
	th := run(t, h, "probe", func() (any, error) { return pal.ThreadRead(id) }).(pal.Thread)
	if th.ID != id || th.Tool != "probe" || th.MaxTurns != 3 || len(th.Turns) != 2 || th.Turns[0].Files[0] != "/src/a.go" ||
		th.Turns[1].Model != "o3" || th.Turns[1].Timestamp.IsZero() || th.InitialContext["prompt"] != "hi" {
		t.Fatalf("read: %+v", th)
	}
	err := runErr(t, h, "probe", func() error {
		_, err := pal.ThreadAppend(id, pal.Turn{Role: "user", Content: "a"}, pal.Turn{Role: "assistant", Content: "b"})
		return err
	})
	if !errors.Is(err, pal.ErrTooLarge) {
		t.Fatalf("over the cap: %v", err)
	}
	err = runErr(t, h, "probe", func() error { _, err := pal.ThreadRead("not-a-thread"); return err })
	if !errors.Is(err, pal.ErrNotFound) {
		t.Fatalf("unknown thread: %v", err)
	}
}

func TestProgressHostInfoAndLog(t *testing.T) {
	h := newHost()
	h.Info.Limits.Locale = "fr-FR"
	info := run(t, h, "probe", func() (any, error) {
		if err := pal.Progress(1, 3, "reading files"); err != nil {
			return nil, err
		}
		pal.Logf(pal.LevelWarn, "seen %d", 7)
		return pal.HostInfo()
	}).(pal.ServerInfo)
	if info.ABI != 1 || info.Limits.PromptChars != 60_000 || info.Limits.Locale != "fr-FR" || info.Limits.MaxFileBytes != 40 {
		t.Fatalf("host.info %+v", info)
	}
	if len(h.Progress) != 1 || h.Progress[0] != (paltest.ProgressEvent{Progress: 1, Total: 3, Message: "reading files"}) {
		t.Fatalf("progress %+v", h.Progress)
	}
	if len(h.Logs) != 1 || h.Logs[0] != (paltest.LogLine{Level: 2, Msg: "seen 7"}) {
		t.Fatalf("logs %+v", h.Logs)
	}
}

func TestUndeclaredCapabilityIsNotGranted(t *testing.T) {
	h := newHost()
	err := runErr(t, h, "narrow", func() error { _, err := pal.ListDir("/src", 0, 0); return err })
	if !errors.Is(err, pal.ErrNotGranted) || errors.Is(err, pal.ErrDenied) {
		t.Fatalf("fs.list from a tool that declared only fs.read: %v", err)
	}
	h.Grant = []string{pal.CapFSList}
	err = runErr(t, h, "probe", func() error { _, _, err := pal.ReadFile("/src/a.go", 0); return err })
	if !errors.Is(err, pal.ErrNotGranted) {
		t.Fatalf("fs.read outside the policy grant: %v", err)
	}
}

func TestNoHostInstalled(t *testing.T) {
	pal.SetHost(nil)
	probe = func(context.Context, *pal.Call, json.RawMessage) (*pal.Result, error) {
		_, err := pal.HostInfo()
		return nil, err
	}
	r := decodeResult(t, pal.Invoke(handleRequest("probe", `{}`)))
	if !r.IsError || !strings.Contains(r.Content[0].Text, "SetHost") {
		t.Fatalf("got %+v", r)
	}
}

func TestResultBuilders(t *testing.T) {
	r, err := pal.JSONResult(map[string]string{"a": "<b>"})
	if err != nil || r.IsError || r.Content[0].Text != `{"a":"<b>"}` {
		t.Fatalf("JSONResult: %+v %v", r, err)
	}
	r, err = pal.JSONErrorResult(map[string]int{"n": 1})
	if err != nil || !r.IsError || r.Content[0].Text != `{"n":1}` {
		t.Fatalf("JSONErrorResult: %+v %v", r, err)
	}
	if _, err := pal.JSONResult(func() {}); err == nil {
		t.Fatal("JSONResult encoded a func")
	}
	if r := pal.ErrorResult("x"); !r.IsError || r.Content[0].Type != "text" {
		t.Fatalf("ErrorResult %+v", r)
	}
}

// TestGeneratePromptBuffer: a prompt in a PromptBuffer reaches the host as the same request
// a Prompt string makes, whether its header fits the room before it or not, and the
// prompt's bytes are not changed by sending it.
func TestGeneratePromptBuffer(t *testing.T) {
	h := newHost()
	h.Reply = func(paltest.GenerateCall) (pal.GenerateResponse, error) {
		return pal.GenerateResponse{Content: "answer", FinishReason: "stop"}, nil
	}
	temp := 0.5
	for i, system := range []string{"be brief", strings.Repeat("s", pal.PromptRoom), ""} {
		for _, prompt := range []string{"line 1\n\x00 \"quoted\" \\ ünïcode", ""} {
			pb := pal.NewPromptBuffer(4)
			pb.WriteString(prompt[:len(prompt)/2])
			pb.AppendWith(func(b []byte) []byte { return append(b, prompt[len(prompt)/2:]...) })
			if pb.String() != prompt || pb.Len() != len(prompt) {
				t.Fatalf("buffer holds %q", pb.String())
			}
			run(t, h, "probe", func() (any, error) {
				return pal.Generate(pal.GenerateRequest{Model: "o3", System: system, Prompt: "ignored", PromptBuffer: pb, Temperature: &temp})
			})
			g := h.Generated[len(h.Generated)-1]
			if g.Prompt != prompt || g.System != system || *g.Temperature != 0.5 {
				t.Fatalf("%d: host saw prompt %q, system of %d bytes", i, g.Prompt, len(g.System))
			}
			if pb.String() != prompt {
				t.Fatalf("%d: sending changed the prompt to %q", i, pb.String())
			}
		}
	}
}
