package server

import (
	"context"
	"encoding/json"
	"reflect"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/runtime/abi"
)

func TestToolsListPublishesEveryMeaningfulHint(t *testing.T) {
	e := newEngine(t)
	s := newServer(t, Options{Modules: append(builtins(t, e), load(t, e, "hostile", hostilePkg, false))})
	tools := listTools(t, s)
	hints := []string{"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}
	cases := []struct {
		tool string
		want map[string]bool
	}{
		// The hostile module states only readOnlyHint: openWorldHint gets the safe reading;
		// destructiveHint and idempotentHint mean nothing for a read-only tool and are left out.
		{"spin", map[string]bool{"readOnlyHint": true, "openWorldHint": true}},
		{"ping", map[string]bool{"readOnlyHint": true, "openWorldHint": true}},
		// The built-in tools state every hint; they are published as stated.
		{"chat", map[string]bool{"readOnlyHint": true, "openWorldHint": true}},
		{"version", map[string]bool{"readOnlyHint": true, "openWorldHint": false}},
		// clink is not read-only: all four hints.
		{"clink", map[string]bool{"readOnlyHint": false, "destructiveHint": true, "idempotentHint": false, "openWorldHint": true}},
	}
	for _, tc := range cases {
		t.Run(tc.tool, func(t *testing.T) {
			tl, ok := tools[tc.tool]
			if !ok {
				t.Fatalf("tools/list lacks %s", tc.tool)
			}
			ann, ok := tl["annotations"].(map[string]any)
			if !ok {
				t.Fatalf("%s has no annotations: %v", tc.tool, tl)
			}
			for _, h := range hints {
				v, present := ann[h]
				if _, want := tc.want[h]; !want {
					if present {
						t.Errorf("%s: %s is published for a read-only tool", tc.tool, h)
					}
					continue
				}
				if !present {
					t.Errorf("%s: %s is not published", tc.tool, h)
					continue
				}
				if v != tc.want[h] {
					t.Errorf("%s: %s = %v, want %v", tc.tool, h, v, tc.want[h])
				}
			}
		})
	}
}

func TestAnnotationsDefaults(t *testing.T) {
	yes, no := true, false
	cases := []struct {
		name string
		in   abi.Annotations
		want [4]bool // readOnly, destructive, idempotent, openWorld
	}{
		{"none stated", abi.Annotations{}, [4]bool{false, true, false, true}},
		{"read-only only", abi.Annotations{ReadOnlyHint: &yes}, [4]bool{true, false, false, true}},
		{"all true", abi.Annotations{ReadOnlyHint: &yes, DestructiveHint: &yes, IdempotentHint: &yes, OpenWorldHint: &yes}, [4]bool{true, false, false, true}},
		{"all false", abi.Annotations{ReadOnlyHint: &no, DestructiveHint: &no, IdempotentHint: &no, OpenWorldHint: &no}, [4]bool{false, false, false, false}},
		{"closed world only", abi.Annotations{OpenWorldHint: &no}, [4]bool{false, true, false, false}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := annotations(abi.ToolSpec{Name: "x", Title: "X", Annotations: tc.in})
			ptrs := []*bool{a.ReadOnlyHint, a.DestructiveHint, a.IdempotentHint, a.OpenWorldHint}
			for i, p := range ptrs {
				readOnlyOnly := *a.ReadOnlyHint && (i == 1 || i == 2) // meaningless for a read-only tool
				if readOnlyOnly {
					if p != nil {
						t.Errorf("hint %d is published for a read-only tool", i)
					}
					continue
				}
				if p == nil {
					t.Fatalf("hint %d is nil: it would be left out of tools/list", i)
				}
				if *p != tc.want[i] {
					t.Errorf("hint %d = %v, want %v", i, *p, tc.want[i])
				}
			}
			if a.Title != "X" {
				t.Errorf("title %q", a.Title)
			}
		})
	}
	// The published hints do not alias the module's manifest.
	spec := abi.ToolSpec{Annotations: abi.Annotations{ReadOnlyHint: &yes}}
	a := annotations(spec)
	*a.ReadOnlyHint = false
	if !*spec.Annotations.ReadOnlyHint {
		t.Fatal("annotations share memory with the manifest")
	}
}

func TestModelFieldDescription(t *testing.T) {
	e := newEngine(t)
	builtin := builtins(t, e)
	original := func() string {
		for _, spec := range builtin[0].Module.Manifest().Tools {
			if spec.Name == "chat" {
				var doc struct {
					Properties map[string]struct {
						Description string `json:"description"`
					} `json:"properties"`
				}
				if err := json.Unmarshal(spec.InputSchema, &doc); err != nil {
					t.Fatal(err)
				}
				return doc.Properties["model"].Description
			}
		}
		t.Fatal("builtin has no chat")
		return ""
	}()
	cases := []struct {
		name         string
		models       ModelDescriber
		wantDesc     string
		wantRequired []string
	}{
		{"auto mode", fakeDescriber{auto: true}, fakeDescription, []string{"prompt", "model"}},
		{"fixed default model", fakeDescriber{auto: false}, fakeDescription, []string{"prompt"}},
		{"no describer", nil, original, []string{"prompt"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, Options{Modules: builtin, Models: tc.models})
			tools := listTools(t, s)
			schema := tools["chat"]["inputSchema"].(map[string]any)
			model := schema["properties"].(map[string]any)["model"].(map[string]any)
			if model["description"] != tc.wantDesc {
				t.Errorf("model description = %q, want %q", model["description"], tc.wantDesc)
			}
			var required []string
			for _, r := range schema["required"].([]any) {
				required = append(required, r.(string))
			}
			if !reflect.DeepEqual(required, tc.wantRequired) {
				t.Errorf("required = %v, want %v", required, tc.wantRequired)
			}
			// Tools that take no model keep their schema.
			if props, _ := tools["version"]["inputSchema"].(map[string]any)["properties"].(map[string]any); props["model"] != nil {
				t.Errorf("version grew a model field: %v", props)
			}
		})
	}
	// In auto mode a call without model is refused before the module runs.
	models := &fakeModels{}
	s := newServer(t, Options{Modules: builtin, Models: fakeDescriber{auto: true}, Env: testEnv(models, nil)})
	text, isErr := callResult(t, s, "chat", map[string]any{"prompt": "hi"})
	if !isErr || !strings.Contains(text, "model") {
		t.Fatalf("chat without model in auto mode: %s", text)
	}
	if models.count() != 0 {
		t.Fatal("the model was called")
	}
}

func TestDescribeModelFieldKeepsRequiredOnce(t *testing.T) {
	in := json.RawMessage(`{"type":"object","properties":{"model":{"type":"string","description":"old"}},"required":["model"]}`)
	out, err := describeModelField(in, fakeDescriber{auto: true})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Required []string `json:"required"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(doc.Required, []string{"model"}) {
		t.Fatalf("required = %v", doc.Required)
	}
	// A schema without a model property is left alone.
	plain := json.RawMessage(`{"type":"object","properties":{"x":{"type":"string"}}}`)
	if out, err := describeModelField(plain, fakeDescriber{auto: true}); err != nil || string(out) != string(plain) {
		t.Fatalf("schema without model changed: %s, %v", out, err)
	}
	if _, err := describeModelField(json.RawMessage(`not json`), fakeDescriber{}); err == nil {
		t.Fatal("a schema that is not JSON was accepted")
	}
}

// callResult calls a tool through mcp-go and returns the result text and isError.
func callResult(t *testing.T, s *Server, tool string, args any) (string, bool) {
	t.Helper()
	resp := rpc(t, s, "tools/call", map[string]any{"name": tool, "arguments": args})
	result, ok := resp["result"].(map[string]any)
	if !ok {
		t.Fatalf("tools/call %s: %v", tool, resp)
	}
	var b strings.Builder
	for _, c := range result["content"].([]any) {
		if text, ok := c.(map[string]any)["text"].(string); ok {
			b.WriteString(text)
		}
	}
	isErr, _ := result["isError"].(bool)
	return b.String(), isErr
}

// hostOutput is the JSON of errorResult.
type hostOutput struct {
	Status      string         `json:"status"`
	Content     string         `json:"content"`
	ContentType string         `json:"content_type"`
	Metadata    map[string]any `json:"metadata"`
}

func TestArgumentValidation(t *testing.T) {
	e := newEngine(t)
	models := &fakeModels{}
	audit := &policy.MemoryAuditor{}
	s := newServer(t, Options{Modules: builtins(t, e), Env: testEnv(models, audit)})
	cases := []struct {
		name string
		args any
		want []string // every one must appear in the message
	}{
		{"missing required field", map[string]any{"model": "fake-model"}, []string{"prompt", "missing"}},
		{"wrong type", map[string]any{"prompt": 5}, []string{"prompt:", "string"}},
		{"not in enum", map[string]any{"prompt": "hi", "thinking_mode": "bogus"}, []string{"thinking_mode:", "minimal", "max"}},
		{"over maximum", map[string]any{"prompt": "hi", "temperature": 3}, []string{"temperature:", "1"}},
		{"under minimum", map[string]any{"prompt": "hi", "temperature": -1}, []string{"temperature:", "0"}},
		{"unknown field", map[string]any{"prompt": "hi", "bogus_field": 1}, []string{"bogus_field"}},
		{"wrong item type", map[string]any{"prompt": "hi", "absolute_file_paths": []any{"/a", 7}}, []string{"absolute_file_paths/1:", "string"}},
		{"two problems", map[string]any{"prompt": 1, "temperature": "hot"}, []string{"prompt:", "temperature:"}},
		{"arguments not an object", []any{"prompt"}, []string{"object"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text, isErr := callResult(t, s, "chat", tc.args)
			if !isErr {
				t.Fatalf("accepted: %s", text)
			}
			var out hostOutput
			if err := json.Unmarshal([]byte(text), &out); err != nil {
				t.Fatalf("error text is not the tool output shape: %v: %s", err, text)
			}
			if out.Status != "error" || !strings.HasPrefix(out.Content, "invalid arguments: ") {
				t.Fatalf("error output: %+v", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.Content, w) {
					t.Errorf("message lacks %q: %s", w, out.Content)
				}
			}
			for _, leak := range []string{"&{", "%!", "map[", "[]interface", "jsonschema", "urn:pal"} {
				if strings.Contains(out.Content, leak) {
					t.Errorf("message shows Go or validator internals (%q): %s", leak, out.Content)
				}
			}
		})
	}
	if n := models.count(); n != 0 {
		t.Fatalf("the model was called %d times for invalid arguments", n)
	}
	denied := 0
	for _, r := range audit.Records() {
		if r.Op == "tools/call" && r.Tool == "chat" && r.Decision == "deny" && r.Reason != "" {
			denied++
		}
	}
	if denied != len(cases) {
		t.Fatalf("%d deny records, want %d: %+v", denied, len(cases), audit.Records())
	}
	// Valid arguments pass and are audited as allowed.
	text, isErr := callResult(t, s, "chat", map[string]any{"prompt": "hi", "model": "fake-model"})
	if isErr || !strings.Contains(text, "fake reply 1") {
		t.Fatalf("valid chat: %s", text)
	}
	last := audit.Records()[len(audit.Records())-1]
	if last.Op != "tools/call" || last.Decision != "allow" || last.Tool != "chat" {
		t.Fatalf("last audit record %+v", last)
	}
}

func TestMissingArgumentsAreAnEmptyObject(t *testing.T) {
	e := newEngine(t)
	s := newServer(t, Options{Modules: []LoadedModule{load(t, e, "hostile", hostilePkg, false)}})
	resp := rpc(t, s, "tools/call", map[string]any{"name": "ping"})
	raw, _ := json.Marshal(resp)
	if !strings.Contains(string(raw), `"pong"`) {
		t.Fatalf("ping without arguments: %s", raw)
	}
}

func TestUnknownTool(t *testing.T) {
	e := newEngine(t)
	s := newServer(t, Options{Modules: []LoadedModule{load(t, e, "hostile", hostilePkg, false)}})
	resp := rpc(t, s, "tools/call", map[string]any{"name": "no_such_tool", "arguments": map[string]any{}})
	rpcErr, ok := resp["error"].(map[string]any)
	if !ok {
		t.Fatalf("calling an unknown tool did not fail: %v", resp)
	}
	if code := rpcErr["code"].(float64); code != mcp.INVALID_PARAMS {
		t.Errorf("code %v, want %d (invalid params)", code, mcp.INVALID_PARAMS)
	}
	if msg, _ := rpcErr["message"].(string); !strings.Contains(msg, "no_such_tool") {
		t.Errorf("message does not name the tool: %q", msg)
	}
}

func TestToMCPResult(t *testing.T) {
	cases := []struct {
		name string
		in   abi.Result
		want string // JSON of the MCP result
	}{
		{"text", abi.Result{Content: []abi.Content{{Type: "text", Text: "hello"}}},
			`{"content":[{"type":"text","text":"hello"}]}`},
		{"error text", abi.Result{IsError: true, Content: []abi.Content{{Type: "text", Text: "bad"}}},
			`{"content":[{"type":"text","text":"bad"}],"isError":true}`},
		{"image", abi.Result{Content: []abi.Content{{Type: "image", Data: "iVBORw0KGgo=", MIMEType: "image/png"}}},
			`{"content":[{"type":"image","data":"iVBORw0KGgo=","mimeType":"image/png"}]}`},
		{"audio", abi.Result{Content: []abi.Content{{Type: "audio", Data: "UklGRg==", MIMEType: "audio/wav"}}},
			`{"content":[{"type":"audio","data":"UklGRg==","mimeType":"audio/wav"}]}`},
		{"text resource", abi.Result{Content: []abi.Content{{Type: "resource", Resource: &abi.EmbeddedResource{URI: "file:///a.txt", MIMEType: "text/plain", Text: "body"}}}},
			`{"content":[{"type":"resource","resource":{"uri":"file:///a.txt","mimeType":"text/plain","text":"body"}}]}`},
		{"blob resource", abi.Result{Content: []abi.Content{{Type: "resource", Resource: &abi.EmbeddedResource{URI: "file:///a.bin", MIMEType: "application/octet-stream", Blob: "AAEC"}}}},
			`{"content":[{"type":"resource","resource":{"uri":"file:///a.bin","mimeType":"application/octet-stream","blob":"AAEC"}}]}`},
		{"structured", abi.Result{Content: []abi.Content{{Type: "text", Text: "{\"n\":1}"}}, StructuredContent: map[string]any{"n": 1}},
			`{"content":[{"type":"text","text":"{\"n\":1}"}],"structuredContent":{"n":1}}`},
		{"mixed, in order", abi.Result{Content: []abi.Content{{Type: "text", Text: "a"}, {Type: "image", Data: "AA==", MIMEType: "image/gif"}, {Type: "text", Text: "b"}}},
			`{"content":[{"type":"text","text":"a"},{"type":"image","data":"AA==","mimeType":"image/gif"},{"type":"text","text":"b"}]}`},
		{"empty", abi.Result{}, `{"content":[]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.Marshal(toMCPResult(&tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, got, []byte(tc.want)) {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%v: %s", err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return reflect.DeepEqual(x, y)
}

func TestErrorResult(t *testing.T) {
	for _, msg := range []string{"plain", `quotes " and \ backslashes`, "line\nbreak", "ünïcödé ✓", ""} {
		r := errorResult("chat", abi.FailBusy, msg)
		if !r.IsError || len(r.Content) != 1 {
			t.Fatalf("%q: %+v", msg, r)
		}
		tc, ok := r.Content[0].(mcp.TextContent)
		if !ok {
			t.Fatalf("%q: content is %T", msg, r.Content[0])
		}
		var fields map[string]any
		if err := json.Unmarshal([]byte(tc.Text), &fields); err != nil {
			t.Fatalf("%q: %v: %s", msg, err, tc.Text)
		}
		want := map[string]any{"status": "error", "code": "busy", "content": msg, "content_type": "text", "metadata": map[string]any{"tool_name": "chat"}}
		if !reflect.DeepEqual(fields, want) {
			t.Fatalf("%q:\ngot  %v\nwant %v", msg, fields, want)
		}
	}
}

func TestDisabledTools(t *testing.T) {
	e := newEngine(t)
	builtin := builtins(t, e)
	hostile := load(t, e, "hostile", hostilePkg, false)
	cases := []struct {
		name    string
		tools   policy.ToolsConfig
		listed  []string
		missing []string
	}{
		{"disabled list", policy.ToolsConfig{Disabled: []string{"chat", "spin", "version", "codereview", "planner"}},
			[]string{"version", "listmodels", "ping", "membomb", "debug", "thinkdeep", "consensus", "challenge"}, []string{"chat", "spin", "codereview", "planner"}},
		{"enabled list", policy.ToolsConfig{Enabled: []string{"ping", "planner"}},
			[]string{"ping", "planner", "version", "listmodels"}, []string{"chat", "spin", "keyhunt", "codereview", "consensus", "apilookup"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := policy.Default()
			p.Tools.Enabled, p.Tools.Disabled = tc.tools.Enabled, tc.tools.Disabled
			env := testEnv(&fakeModels{}, nil)
			s := newServer(t, Options{Modules: append(builtin, hostile), Policy: p, Env: env})
			tools := listTools(t, s)
			// host.info continuation_tools: exactly the published tools that take continuation_id.
			for name, tool := range tools {
				props, _ := tool["inputSchema"].(map[string]any)["properties"].(map[string]any)
				if takes := props["continuation_id"] != nil; takes != slices.Contains(env.Info.ContinuationTools, name) {
					t.Errorf("%s: takes continuation_id %v, in continuation_tools %v", name, takes, env.Info.ContinuationTools)
				}
			}
			for _, name := range tc.missing {
				if slices.Contains(env.Info.ContinuationTools, name) {
					t.Errorf("disabled %s is offered in continuation_tools %v", name, env.Info.ContinuationTools)
				}
			}
			if len(env.Info.ContinuationTools) == 0 {
				t.Error("no tool takes continuation_id")
			}
			for _, name := range tc.listed {
				if tools[name] == nil {
					t.Errorf("%s is not listed", name)
				}
				if !slices.Contains(s.Tools(), name) {
					t.Errorf("Tools() lacks %s", name)
				}
			}
			for _, name := range tc.missing {
				if tools[name] != nil || slices.Contains(s.Tools(), name) {
					t.Errorf("disabled %s is listed", name)
				}
				resp := rpc(t, s, "tools/call", map[string]any{"name": name, "arguments": map[string]any{"prompt": "hi"}})
				if resp["error"] == nil {
					t.Errorf("disabled %s was callable: %v", name, resp)
				}
			}
		})
	}
}

func TestDuplicateToolNames(t *testing.T) {
	e := newEngine(t)
	a := load(t, e, "first.wasm", hostilePkg, false)
	b := load(t, e, "second.wasm", hostilePkg, false)
	_, err := New(Options{Modules: []LoadedModule{a, b}})
	if err == nil {
		t.Fatal("two modules with the same tools were accepted")
	}
	for _, want := range []string{`"spin"`, "first.wasm", "second.wasm"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %s: %v", want, err)
		}
	}
	// A tool disabled by policy still may not be declared twice: names stay unambiguous.
	p := policy.Default()
	p.Tools.Disabled = []string{"spin"}
	if _, err := New(Options{Modules: []LoadedModule{a, b}, Policy: p}); err == nil {
		t.Fatal("duplicate of a disabled tool was accepted")
	}
}

func TestGrantsFollowPolicy(t *testing.T) {
	e := newEngine(t)
	progressReq := map[string]any{"request": map[string]any{"op": "progress", "progress": 1, "total": 2}}
	cases := []struct {
		name    string
		builtin bool
		caps    []policy.Capability // nil: no [tools.hostcall] table
		allowed bool
	}{
		{"other module, no policy", false, nil, false},
		{"other module, granted", false, []policy.Capability{policy.CapProgress}, true},
		{"other module, granted something else", false, []policy.Capability{policy.CapFSRead}, false},
		{"built-in, no policy", true, nil, true},
		{"built-in, narrowed to nothing", true, []policy.Capability{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := policy.Default()
			if tc.caps != nil {
				p.Tools.Tool["hostcall"] = policy.ToolPolicy{Capabilities: tc.caps}
			}
			audit := &policy.MemoryAuditor{}
			s := newServer(t, Options{Modules: []LoadedModule{load(t, e, "hostile", hostilePkg, tc.builtin)}, Policy: p, Env: testEnv(nil, audit)})
			text, isErr := callResult(t, s, "hostcall", progressReq)
			if isErr {
				t.Fatalf("hostcall: %s", text)
			}
			denied := strings.Contains(text, `"not_granted"`)
			if denied == tc.allowed {
				t.Fatalf("allowed=%v, reply %s", tc.allowed, text)
			}
			var progress *policy.Record
			for _, r := range audit.Records() {
				if r.Op == "progress" {
					progress = &r
				}
			}
			if progress == nil || (progress.Decision == "allow") != tc.allowed {
				t.Fatalf("audit: %+v", audit.Records())
			}
		})
	}
}

// TestHostCallBudgetEndsTheCall: a flood of host calls ends with an error result naming the
// budget's key, and the server serves the next call.
func TestHostCallBudgetEndsTheCall(t *testing.T) {
	e := newEngine(t)
	env := testEnv(nil, &policy.MemoryAuditor{})
	env.Budgets = policy.Budgets{HostCalls: 50}
	s := newServer(t, Options{Modules: []LoadedModule{load(t, e, "hostile", hostilePkg, true)}, Env: env})
	text, isErr := callResult(t, s, "flood", map[string]any{"request": map[string]any{"op": "host.info"}, "n": 1_000_000})
	if !isErr || !strings.Contains(text, "51 host calls (limits.host_calls = 50)") {
		t.Fatalf("flood: isError=%v %s", isErr, text)
	}
	if text, isErr := callResult(t, s, "ping", map[string]any{}); isErr || !strings.Contains(text, "pong") {
		t.Fatalf("ping after the flood: %s", text)
	}
}

// TestToolsListTokenBudget measures the real tools/list reply with every built-in tool enabled
// and a model list of realistic length in chat's `model` field: it must stay under 6,000
// tokens (characters / 4).
func TestToolsListTokenBudget(t *testing.T) {
	e := newEngine(t)
	s := newServer(t, Options{Modules: builtins(t, e), Models: longDescriber{}})
	msg := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`)
	raw, err := json.Marshal(s.MCP().HandleMessage(context.Background(), msg))
	if err != nil {
		t.Fatal(err)
	}
	tokens := len(raw) / 4
	t.Logf("tools/list: %d tools, %d bytes, ~%d tokens", len(s.Tools()), len(raw), tokens)
	for name, tool := range listTools(t, s) {
		if a, _ := tool["annotations"].(map[string]any); a == nil || a["title"] == "" || a["title"] == nil {
			t.Errorf("%s has no annotations.title", name)
		}
	}
	if tokens >= 6000 {
		t.Fatalf("tools/list is ~%d tokens with every tool enabled; the budget is 6,000", tokens)
	}
}

// longDescriber describes `model` at the length of a real auto-mode description with five
// top models (about 450 characters).
type longDescriber struct{}

func (longDescriber) ModelFieldDescription() string {
	return "Model to run. Auto mode is on: when the user names a model, pass exactly that name; otherwise choose one that suits " +
		"the task (the `listmodels` tool describes them all). Top models: gemini-2.5-pro (score 18, 1M ctx, thinking, code-gen); " +
		"gpt-5 (score 17, 400K ctx, thinking); o3 (score 14, 200K ctx, thinking); grok-4 (score 13, 256K ctx, thinking); " +
		"gemini-2.5-flash (score 10, 1M ctx, thinking); +12 more via `listmodels`."
}
func (longDescriber) AutoMode() bool { return true }

// TestConcurrentCallsCap: a tool call that finds every call slot taken (as over HTTP, where
// requests do not pass through the stdio workers) waits for one while fewer than
// limits.waiting_requests wait, and is refused as busy, naming both keys, past that.
func TestConcurrentCallsCap(t *testing.T) {
	e := newEngine(t)
	p := policy.Default()
	p.Limits.ConcurrentCalls = 1
	p.Limits.WaitingRequests = 1
	s := newServer(t, Options{Modules: []LoadedModule{load(t, e, "hostile", hostilePkg, true)}, Policy: p})
	s.callSlots <- struct{}{} // one call is running
	waited := make(chan string, 1)
	go func() {
		text, _ := callResult(t, s, "ping", map[string]any{})
		waited <- text
	}()
	for s.slotWaiters.Load() != 1 { // the first waits
		goruntime.Gosched()
	}
	text, isErr := callResult(t, s, "ping", map[string]any{})
	if !isErr || !strings.Contains(text, "server busy") || !strings.Contains(text, "limits.concurrent_calls") || !strings.Contains(text, "limits.waiting_requests") {
		t.Fatalf("with every slot taken and the queue full: isError=%v %s", isErr, text)
	}
	<-s.callSlots // the running call ends: the waiting one runs
	if text := <-waited; !strings.Contains(text, "pong") {
		t.Fatalf("the waiting call: %s", text)
	}
	if text, isErr := callResult(t, s, "ping", map[string]any{}); isErr || !strings.Contains(text, "pong") {
		t.Fatalf("with a slot free: %s", text)
	}
}

// TestCancelledWhileWaitingForASlot: a call cancelled while it waits for a call slot is
// audited as cancelled, not as "server busy" (which would send an operator looking for load
// that was never there), and leaves the queue.
func TestCancelledWhileWaitingForASlot(t *testing.T) {
	e := newEngine(t)
	p := policy.Default()
	p.Limits.ConcurrentCalls = 1
	p.Limits.WaitingRequests = 1
	audit := &policy.MemoryAuditor{}
	s := newServer(t, Options{Modules: []LoadedModule{load(t, e, "hostile", hostilePkg, true)}, Policy: p, Env: testEnv(nil, audit)})
	s.callSlots <- struct{}{} // one call is running
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		msg := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ping","arguments":{}}}`)
		s.MCP().HandleMessage(ctx, msg)
	}()
	for s.slotWaiters.Load() != 1 {
		goruntime.Gosched()
	}
	cancel()
	<-done
	if n := s.slotWaiters.Load(); n != 0 {
		t.Fatalf("%d calls still counted as waiting", n)
	}
	var found bool
	for _, r := range audit.Records() {
		if r.Op == "tools/call" {
			found = true
			if r.Decision != "deny" || !strings.Contains(r.Reason, "cancelled") || strings.Contains(r.Reason, "busy") {
				t.Fatalf("audit record of the cancelled call: %+v", r)
			}
		}
	}
	if !found {
		t.Fatal("the cancelled call has no audit record")
	}
	<-s.callSlots
}

// TestListed: Listed is closed by the first tools/list reply, not before (pal serve starts
// compiling the modules then), and a second list does not panic on a closed channel.
func TestListed(t *testing.T) {
	s := newServer(t, Options{})
	select {
	case <-s.Listed():
		t.Fatal("Listed closed before any tools/list")
	default:
	}
	rpc(t, s, "initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "t", "version": "1"}})
	select {
	case <-s.Listed():
		t.Fatal("Listed closed by initialize")
	default:
	}
	listTools(t, s)
	listTools(t, s)
	select {
	case <-s.Listed():
	default:
		t.Fatal("Listed not closed after tools/list")
	}
}
