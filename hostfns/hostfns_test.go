package hostfns

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pal-mcp/pal/memory"
	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/providers"
	"github.com/pal-mcp/pal/runtime/abi"
)

const secret = "sk-test-KEY-7f3a9c"

// fakeModels serves one model and records the last request.
type fakeModels struct {
	last   *providers.Request
	err    error
	calls  int
	answer string
}

func (f *fakeModels) Resolve(name string, cat providers.Category) (ModelInfo, error) {
	if name == "missing" {
		return ModelInfo{}, providers.ErrNotConfigured
	}
	return ModelInfo{Model: "m1", Provider: "openai", ContextWindow: 1000, SupportsImages: true}, nil
}

func (f *fakeModels) Generate(ctx context.Context, name string, cat providers.Category, req providers.Request) (*providers.Response, ModelInfo, error) {
	f.calls++
	f.last = &req
	if f.err != nil {
		return nil, ModelInfo{}, f.err
	}
	return &providers.Response{Content: f.answer, FinishReason: "stop", Usage: providers.Usage{InputTokens: 3, OutputTokens: 4, TotalTokens: 7}},
		ModelInfo{Model: "m1", Provider: "openai"}, nil
}

func (f *fakeModels) List() abi.ModelListResult {
	return abi.ModelListResult{Providers: []abi.ProviderModels{{ID: "openai"}}}
}
func (f *fakeModels) Summary() ([]string, int) { return []string{"openai"}, 1 }

type fixture struct {
	root    string
	outside string
	env     *Env
	audit   *policy.MemoryAuditor
	models  *fakeModels
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	base := t.TempDir()
	root := filepath.Join(base, "work")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{root, outside, filepath.Join(root, "src")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "src", "main.go"), "package main\n")
	write(filepath.Join(root, ".env"), "OPENAI_API_KEY="+secret+"\n")
	write(filepath.Join(outside, "secret.txt"), "outside bytes\n")
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(root, "link.txt")); err != nil {
		t.Fatal(err)
	}
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	if err := os.WriteFile(filepath.Join(root, "shot.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	paths, err := policy.NewPaths([]string{root}, policy.DefaultDeny, policy.Caps{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { paths.Close() })
	audit := &policy.MemoryAuditor{}
	models := &fakeModels{answer: "hello back"}
	env := &Env{Paths: paths, Models: models, Threads: memory.New(memory.Config{MaxTurns: 4}), Audit: audit,
		Redact: policy.NewRedactor(secret), Info: Info{Name: "pal", Version: "test"}}
	return &fixture{root: root, outside: outside, env: env, audit: audit, models: models}
}

func (f *fixture) call(grant ...policy.Capability) *Call {
	return f.env.NewCall(CallSpec{Tool: "t", CallID: "c1", Grant: policy.NewCapSet(grant...), Category: "fast"})
}

type reply struct {
	result map[string]any
	err    *abi.Error
	body   []byte
}

func do(t *testing.T, c *Call, req any, body []byte) reply {
	t.Helper()
	h, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	out := c.Call(context.Background(), abi.Join(h, body))
	head, b, err := abi.Split(out)
	if err != nil {
		t.Fatalf("reply %q is not a message", out)
	}
	var r abi.Reply
	if err := json.Unmarshal(head, &r); err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	if r.Result != nil {
		json.Unmarshal(r.Result, &res)
	}
	return reply{result: res, err: r.Error, body: b}
}

func wantCode(t *testing.T, r reply, code abi.Code, mention string) {
	t.Helper()
	if r.err == nil {
		t.Fatalf("want %s error, got result %v", code, r.result)
	}
	if r.err.Code != code || !strings.Contains(r.err.Message, mention) {
		t.Fatalf("want %s mentioning %q, got %s: %s", code, mention, r.err.Code, r.err.Message)
	}
}

func TestFSRead(t *testing.T) {
	f := newFixture(t)
	c := f.call(abi.CapFSRead)
	r := do(t, c, map[string]any{"op": "fs.read", "path": filepath.Join(f.root, "src", "main.go")}, nil)
	if r.err != nil || string(r.body) != "package main\n" || r.result["size"].(float64) != 13 {
		t.Fatalf("read: %+v", r)
	}

	cases := []struct {
		name, path string
		code       abi.Code
		mention    string
	}{
		{"outside the roots", filepath.Join(f.outside, "secret.txt"), abi.CodeDenied, "outside"},
		{"dot-dot escape", filepath.Join(f.root, "..", "outside", "secret.txt"), abi.CodeDenied, ""},
		{"symlink out of the root", filepath.Join(f.root, "link.txt"), abi.CodeDenied, ""},
		{"deny glob", filepath.Join(f.root, ".env"), abi.CodeDenied, ".env"},
		{"relative", "src/main.go", abi.CodeDenied, ""},
		{"missing", filepath.Join(f.root, "nope.go"), abi.CodeNotFound, ""},
		{"directory", filepath.Join(f.root, "src"), abi.CodeInvalid, "directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, c, map[string]any{"op": "fs.read", "path": tc.path}, nil)
			wantCode(t, r, tc.code, tc.mention)
			if len(r.body) != 0 || strings.Contains(r.err.Message, "outside bytes") || strings.Contains(r.err.Message, secret) {
				t.Fatalf("refusal leaked content: %q %q", r.body, r.err.Message)
			}
		})
	}
	// Every request was audited, allowed or not.
	recs := f.audit.Records()
	if len(recs) != 1+len(cases) {
		t.Fatalf("%d audit records for %d requests", len(recs), 1+len(cases))
	}
	if recs[0].Decision != "allow" || recs[0].Path != "src/main.go" || recs[1].Decision != "deny" {
		t.Fatalf("audit records: %+v", recs[:2])
	}
}

func TestGrantIsChecked(t *testing.T) {
	f := newFixture(t)
	c := f.call(abi.CapFSList) // no fs.read
	r := do(t, c, map[string]any{"op": "fs.read", "path": filepath.Join(f.root, "src", "main.go")}, nil)
	wantCode(t, r, abi.CodeNotGranted, "fs.read")
	if recs := f.audit.Records(); len(recs) != 1 || recs[0].Decision != "deny" || recs[0].Op != "fs.read" {
		t.Fatalf("denial not audited: %+v", recs)
	}
	for _, op := range []string{"model.generate", "model.list", "thread.create", "thread.read", "progress", "host.info"} {
		r := do(t, c, map[string]any{"op": op}, nil)
		wantCode(t, r, abi.CodeNotGranted, "capability")
	}
}

func TestMalformedRequests(t *testing.T) {
	f := newFixture(t)
	c := f.call(policy.AllCapabilities...)
	cases := map[string]struct {
		raw  []byte
		code abi.Code
	}{
		"not json":        {[]byte("hello"), abi.CodeInvalid},
		"no op":           {[]byte(`{"path":"/x"}`), abi.CodeInvalid},
		"unknown op":      {[]byte(`{"op":"fs.write","path":"/x"}`), abi.CodeUnknownOp},
		"unknown field":   {[]byte(`{"op":"fs.read","path":"/x","follow":true}`), abi.CodeInvalid},
		"wrong type":      {[]byte(`{"op":"fs.read","path":7}`), abi.CodeInvalid},
		"body on fs.read": {abi.Join([]byte(`{"op":"fs.read","path":"/x"}`), []byte("b")), abi.CodeInvalid},
		"array":           {[]byte(`[1,2]`), abi.CodeInvalid},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out := c.Call(context.Background(), tc.raw)
			var r abi.Reply
			if err := json.Unmarshal(out, &r); err != nil || r.Error == nil || r.Error.Code != tc.code {
				t.Fatalf("got %s", out)
			}
		})
	}
}

func TestFSList(t *testing.T) {
	f := newFixture(t)
	c := f.call(abi.CapFSList)
	r := do(t, c, map[string]any{"op": "fs.list", "path": f.root}, nil)
	if r.err != nil {
		t.Fatal(r.err)
	}
	raw, _ := json.Marshal(r.result["entries"])
	s := string(raw)
	if !strings.Contains(s, "main.go") || strings.Contains(s, ".env") || strings.Contains(s, "link.txt") {
		t.Fatalf("listing %s", s)
	}
}

func TestThreads(t *testing.T) {
	f := newFixture(t)
	c := f.call(abi.CapThreadRead, abi.CapThreadWrite)
	r := do(t, c, map[string]any{"op": "thread.create", "tool": "chat", "initial_context": map[string]any{"prompt": "p"}}, nil)
	id, _ := r.result["id"].(string)
	if id == "" {
		t.Fatalf("create: %+v", r)
	}
	r = do(t, c, map[string]any{"op": "thread.append", "id": id, "turns": []map[string]any{{"role": "user", "content": "q", "tool": "secaudit"}, {"role": "assistant", "content": "a", "model": "m1"}}}, nil)
	if r.err != nil || r.result["turns"].(float64) != 2 || r.result["remaining"].(float64) != 2 {
		t.Fatalf("append: %+v", r)
	}
	r = do(t, c, map[string]any{"op": "thread.read", "id": id}, nil)
	// The host records the calling tool ("t"), not what the guest claimed ("chat", "secaudit").
	if r.err != nil || len(r.result["turns"].([]any)) != 2 || r.result["tool"] != "t" {
		t.Fatalf("read: %+v", r)
	}
	for _, turn := range r.result["turns"].([]any) {
		if tool := turn.(map[string]any)["tool"]; tool != "t" {
			t.Errorf("turn tool = %v, want the calling tool", tool)
		}
	}
	// Another principal cannot see or extend the thread.
	other := f.env.NewCall(CallSpec{Tool: "t", CallID: "c2", Grant: policy.NewCapSet(abi.CapThreadRead, abi.CapThreadWrite), Principal: "session:other"})
	wantCode(t, do(t, other, map[string]any{"op": "thread.read", "id": id}, nil), abi.CodeNotFound, "")
	wantCode(t, do(t, other, map[string]any{"op": "thread.append", "id": id, "turns": []map[string]any{{"role": "user", "content": "x"}}}, nil), abi.CodeNotFound, "")
	wantCode(t, do(t, c, map[string]any{"op": "thread.append", "id": id, "turns": []map[string]any{{"role": "system"}}}, nil), abi.CodeInvalid, "role")
	wantCode(t, do(t, c, map[string]any{"op": "thread.append", "id": id, "turns": []map[string]any{{"role": "user"}, {"role": "user"}, {"role": "user"}}}, nil), abi.CodeTooLarge, "turn")
	wantCode(t, do(t, c, map[string]any{"op": "thread.read", "id": "not-a-uuid"}, nil), abi.CodeNotFound, "not-a-uuid")
}

func TestModelGenerate(t *testing.T) {
	f := newFixture(t)
	c := f.call(abi.CapModelGenerate)
	temp := 0.2
	r := do(t, c, map[string]any{"op": "model.generate", "model": "auto", "system": "be brief", "temperature": temp,
		"images": []string{filepath.Join(f.root, "shot.png")}}, []byte("the prompt"))
	if r.err != nil || r.result["content"] != "hello back" || r.result["provider"] != "openai" {
		t.Fatalf("generate: %+v", r)
	}
	got := f.models.last
	if got.Prompt != "the prompt" || got.SystemPrompt != "be brief" || *got.Temperature != 0.2 || len(got.Images) != 1 || got.Images[0].MIMEType != "image/png" {
		t.Fatalf("provider got %+v", got)
	}

	// Images obey the path policy; a refused image stops the request before the provider.
	before := f.models.calls
	wantCode(t, do(t, c, map[string]any{"op": "model.generate", "model": "auto", "images": []string{filepath.Join(f.outside, "secret.txt")}}, []byte("p")), abi.CodeDenied, "")
	wantCode(t, do(t, c, map[string]any{"op": "model.generate", "model": "auto", "images": []string{"data:image/png;base64," + base64.StdEncoding.EncodeToString([]byte("GIF89a....."))}}, []byte("p")), abi.CodeInvalid, "image/gif")
	wantCode(t, do(t, c, map[string]any{"op": "model.generate", "model": "auto"}, nil), abi.CodeInvalid, "body")
	wantCode(t, do(t, c, map[string]any{"op": "model.generate", "model": "auto", "thinking_mode": "huge"}, []byte("p")), abi.CodeInvalid, "thinking_mode")
	if f.models.calls != before {
		t.Fatal("a refused request reached the provider")
	}
}

func TestModelErrorsAreMappedAndRedacted(t *testing.T) {
	f := newFixture(t)
	c := f.call(abi.CapModelGenerate)
	cases := []struct {
		err  error
		code abi.Code
	}{
		{providers.ErrNotConfigured, abi.CodeUnavailable},
		{providers.ErrRestricted, abi.CodeUnavailable},
		{&providers.APIError{Provider: providers.OpenAI, Kind: providers.KindAuth, StatusCode: 401, Message: "bad key " + secret}, abi.CodeUpstream},
		{context.DeadlineExceeded, abi.CodeCancelled},
		{errors.New("boom " + secret), abi.CodeInternal},
	}
	for _, tc := range cases {
		f.models.err = tc.err
		r := do(t, c, map[string]any{"op": "model.generate", "model": "x"}, []byte("p"))
		wantCode(t, r, tc.code, "")
		if strings.Contains(r.err.Message, secret) {
			t.Fatalf("key leaked in %q", r.err.Message)
		}
	}
	for _, rec := range f.audit.Records() {
		if strings.Contains(rec.Reason, secret) {
			t.Fatalf("key leaked into the audit log: %+v", rec)
		}
	}
}

func TestProgressAndInfo(t *testing.T) {
	f := newFixture(t)
	var got []string
	c := f.env.NewCall(CallSpec{Tool: "t", Grant: policy.NewCapSet(abi.CapProgress, abi.CapHostInfo), Client: Client{Name: "probe"},
		Progress: func(p, total float64, msg string) { got = append(got, msg) }})
	if r := do(t, c, map[string]any{"op": "progress", "progress": 1, "total": 2, "message": "half"}, nil); r.err != nil {
		t.Fatal(r.err)
	}
	wantCode(t, do(t, c, map[string]any{"op": "progress", "progress": -1}, nil), abi.CodeInvalid, "negative")
	if len(got) != 1 || got[0] != "half" {
		t.Fatalf("progress forwarded: %q", got)
	}
	if r := do(t, c, map[string]any{"op": "progress", "progress": 2, "message": strings.Repeat("m", 5000)}, nil); r.err != nil {
		t.Fatal(r.err)
	}
	if len(got) != 2 || len(got[1]) != maxProgressMessage {
		t.Fatalf("a 5000-byte progress message reached the client as %d bytes, cap %d", len(got[len(got)-1]), maxProgressMessage)
	}
	r := do(t, c, map[string]any{"op": "host.info"}, nil)
	if r.err != nil || r.result["version"] != "test" || r.result["abi"].(float64) != 1 || r.result["client"].(map[string]any)["name"] != "probe" {
		t.Fatalf("host.info: %+v", r)
	}
}

func FuzzCall(f *testing.F) {
	f.Add([]byte(`{"op":"fs.read","path":"/tmp/x"}`))
	f.Add([]byte(`{"op":"thread.append","id":"x","turns":[{"role":"user"}]}`))
	f.Add(abi.Join([]byte(`{"op":"model.generate","model":"a","images":["data:image/png;base64,AAAA"]}`), []byte("p")))
	f.Add([]byte(`{"op":"fs.list","path":"/","max_depth":-1}`))
	fx := newFixture(f)
	c := fx.call(policy.AllCapabilities...)
	f.Fuzz(func(t *testing.T, req []byte) {
		out := c.Call(context.Background(), req)
		head, body, err := abi.Split(out)
		if err != nil {
			t.Fatalf("reply %q is not a message", out)
		}
		var r abi.Reply
		if json.Unmarshal(head, &r) != nil || (r.Result == nil) == (r.Error == nil) {
			t.Fatalf("reply %q has neither or both of result and error", head)
		}
		if strings.Contains(string(out), "outside bytes") || strings.Contains(string(out), secret) {
			t.Fatalf("reply leaked: %q", out)
		}
		_ = body
	})
}

// replyCase is one op of TestRepliesFitTheABITypes: the request, its body, and a new value of
// the abi result type its reply must decode into.
type replyCase struct {
	name string
	req  func() any
	body []byte
	into func() any
}

// run sends the case's request on c and decodes the result strictly into its type, which it
// returns with the raw result.
func (tc replyCase) run(t *testing.T, c *Call) (any, json.RawMessage) {
	t.Helper()
	h, _ := json.Marshal(tc.req())
	head, _, err := abi.Split(c.Call(context.Background(), abi.Join(h, tc.body)))
	if err != nil {
		t.Fatal(err)
	}
	var r abi.Reply
	if err := json.Unmarshal(head, &r); err != nil || r.Error != nil {
		t.Fatalf("reply %s", head)
	}
	dec := json.NewDecoder(strings.NewReader(string(r.Result)))
	dec.DisallowUnknownFields()
	out := tc.into()
	if err := dec.Decode(out); err != nil {
		t.Fatalf("result %s does not fit %T: %v", r.Result, out, err)
	}
	return out, r.Result
}

// TestRepliesFitTheABITypes decodes every op's result strictly into its abi result type:
// the host sends no field the guest's vocabulary lacks.
func TestRepliesFitTheABITypes(t *testing.T) {
	f := newFixture(t)
	c := f.env.NewCall(CallSpec{Tool: "t", CallID: "c1", Grant: policy.NewCapSet(policy.AllCapabilities...), Category: "fast"})
	id := ""
	cases := []replyCase{
		{"fs.read", func() any { return abi.FSReadRequest{Op: abi.OpFSRead, Path: filepath.Join(f.root, "src", "main.go")} }, nil, func() any { return &abi.FSReadResult{} }},
		{"fs.list", func() any { return abi.FSListRequest{Op: abi.OpFSList, Path: f.root, MaxDepth: 2} }, nil, func() any { return &abi.FSListResult{} }},
		{"model.resolve", func() any { return abi.ModelResolveRequest{Op: abi.OpModelResolve, Model: "auto"} }, nil, func() any { return &abi.ModelResolveResult{} }},
		{"model.generate", func() any { return abi.ModelGenerateRequest{Op: abi.OpModelGenerate} }, []byte("p"), func() any { return &abi.ModelGenerateResult{} }},
		{"thread.create", func() any { return abi.ThreadCreateRequest{Op: abi.OpThreadCreate, Tool: "chat"} }, nil, func() any { return &abi.ThreadCreateResult{} }},
		{"thread.read, no turns", func() any { return abi.ThreadReadRequest{Op: abi.OpThreadRead, ID: id} }, nil, func() any { return &abi.ThreadReadResult{} }},
		{"thread.append", func() any {
			return abi.ThreadAppendRequest{Op: abi.OpThreadAppend, ID: id, Turns: []abi.Turn{{Role: "user", Content: "q"}}}
		}, nil, func() any { return &abi.ThreadAppendResult{} }},
		{"model.list", func() any { return abi.ModelListRequest{Op: abi.OpModelList} }, nil, func() any { return &abi.ModelListResult{} }},
		{"progress", func() any { return abi.ProgressRequest{Op: abi.OpProgress, Progress: 1} }, nil, func() any { return &struct{}{} }},
		{"host.info", func() any { return abi.HostInfoRequest{Op: abi.OpHostInfo} }, nil, func() any { return &abi.HostInfoResult{} }},
	}
	// Every op the host serves has a case here.
	covered := map[string]bool{}
	// git's run in TestGitRepliesFitTheABITypes, cli's in TestCLIRepliesFitTheABITypes.
	for _, tc := range append(append(slices.Clone(cases), gitReplyCases("")...), cliReplyCases()...) {
		var head struct{ Op string }
		b, _ := json.Marshal(tc.req())
		json.Unmarshal(b, &head)
		covered[head.Op] = true
	}
	for op := range handlers {
		if !covered[op] {
			t.Errorf("op %s has no case", op)
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, result := tc.run(t, c)
			r := struct{ Result []byte }{result}
			switch v := out.(type) {
			case *abi.ThreadCreateResult:
				id = v.ID
			case *abi.ModelListResult:
				if len(v.Providers) != 1 || v.Providers[0].ID != "openai" {
					t.Fatalf("model.list: %s", r.Result)
				}
			case *abi.ThreadReadResult:
				if v.Turns == nil || v.Created.IsZero() {
					t.Fatalf("thread.read: %s", r.Result)
				}
			case *abi.FSReadResult:
				if v.Modified.IsZero() || v.Modified.Nanosecond() != 0 || v.Modified.Location() != time.UTC {
					t.Fatalf("modified should be UTC whole seconds: %s", r.Result)
				}
			}
		})
	}
}

// Image files get the path rules, the image cap and an audit record each, as fs.read does.
func TestImageFilesAreCappedAndAudited(t *testing.T) {
	f := newFixture(t)
	paths, err := policy.NewPaths([]string{f.root}, policy.DefaultDeny, policy.Caps{MaxImageBytes: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { paths.Close() })
	f.env.Paths = paths
	c := f.call(abi.CapModelGenerate)
	big := filepath.Join(f.root, "shot.png") // 16 bytes, over the 10-byte cap
	wantCode(t, do(t, c, map[string]any{"op": "model.generate", "model": "auto", "images": []string{big}}, []byte("p")), abi.CodeTooLarge, "max_image_bytes")
	wantCode(t, do(t, c, map[string]any{"op": "model.generate", "model": "auto", "images": []string{filepath.Join(f.root, ".env")}}, []byte("p")), abi.CodeDenied, "deny rule")
	if f.models.calls != 0 {
		t.Fatal("a refused image reached the provider")
	}
	var images []policy.Record
	for _, r := range f.audit.Records() {
		if r.Op == "model.image" {
			images = append(images, r)
		}
	}
	if len(images) != 2 || images[0].Decision != "error" || images[0].Path != "shot.png" || images[1].Decision != "deny" || !strings.Contains(images[1].Reason, "deny rule") {
		t.Fatalf("image audit records = %+v", images)
	}
	// Within the cap, the image is sent and its record says how many bytes.
	paths2, _ := policy.NewPaths([]string{f.root}, policy.DefaultDeny, policy.Caps{})
	t.Cleanup(func() { paths2.Close() })
	f.env.Paths = paths2
	c = f.call(abi.CapModelGenerate)
	if r := do(t, c, map[string]any{"op": "model.generate", "model": "auto", "images": []string{big}}, []byte("p")); r.err != nil {
		t.Fatal(r.err)
	}
	recs := f.audit.Records()
	var last policy.Record
	for _, r := range recs {
		if r.Op == "model.image" {
			last = r
		}
	}
	if last.Decision != "allow" || last.Bytes != 16 || last.Root == "" {
		t.Fatalf("allowed image record = %+v", last)
	}
}

// TestHeartbeatMessageCapped: the model name a heartbeat names comes from the guest (a request
// header may be 16 MiB); a heartbeat is held to the cap of the guest's own progress messages.
func TestHeartbeatMessageCapped(t *testing.T) {
	f := newFixture(t)
	f.env.Heartbeat = time.Millisecond
	got := make(chan string, 1)
	c := f.env.NewCall(CallSpec{Tool: "t", Progress: func(_, _ float64, msg string) {
		select {
		case got <- msg:
		default:
		}
	}})
	stop := c.heartbeat(strings.Repeat("é", 5000))
	msg := <-got
	stop()
	if len(msg) > maxProgressMessage || !utf8.ValidString(msg) || !strings.HasPrefix(msg, "waiting for é") {
		t.Fatalf("heartbeat of %d bytes (cap %d), valid UTF-8 %v", len(msg), maxProgressMessage, utf8.ValidString(msg))
	}
}
