// Package e2e drives the real pal binary over stdio with an independent MCP client (the
// official Go SDK) against a loopback server that speaks OpenAI's chat-completions wire format.
package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
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

	"github.com/pal-mcp/pal/internal/testwasm"
)

const apiKey = "sk-e2e-KEY-5b8d1f27c0"

var (
	palBin string
	// cacheDir is one compilation cache for every server the tests start: entries are keyed
	// by module hash, so sharing is safe, and it spares each test a cold compile.
	cacheDir string
	// cacheKey authenticates cacheDir's entries. pal keeps it in its state dir, which each test
	// has its own of: seedCacheKey copies it there, so the cache stays warm across tests.
	cacheKey = []byte("pal e2e tests compile cache key!")
)

// seedCacheKey puts the tests' cache key where pal looks for it under stateHome
// ($XDG_STATE_HOME).
func seedCacheKey(t *testing.T, stateHome string) {
	t.Helper()
	dir := filepath.Join(stateHome, "pal")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cache.key"), cacheKey, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "pal-e2e-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		cacheDir = filepath.Join(dir, "cache")
		if palBin, err = testwasm.BuildPal(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	testwasm.Cleanup()
	os.Exit(code)
}

// provider is a loopback OpenAI chat-completions endpoint that records what it receives.
type provider struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	Auth string
	Body string
	User string // the last user message's text
}

func newProvider(t *testing.T) *provider { return newHookedProvider(t, nil) }

// newHookedProvider is newProvider that calls hook, when not nil, with each request and the
// text of its last user message before answering; hook returning false answers nothing.
func newHookedProvider(t *testing.T, hook func(r *http.Request, user string) bool) *provider {
	p := &provider{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req struct {
			Model    string `json:"model"`
			Messages []struct {
				Role    string          `json:"role"`
				Content json.RawMessage `json:"content"`
			} `json:"messages"`
		}
		if r.URL.Path != "/v1/chat/completions" || json.Unmarshal(body, &req) != nil {
			http.Error(w, `{"error":{"message":"unexpected request","type":"invalid_request_error"}}`, http.StatusBadRequest)
			return
		}
		var user string
		for _, m := range req.Messages {
			if m.Role == "user" {
				var s string
				if json.Unmarshal(m.Content, &s) == nil {
					user = s
				}
			}
		}
		if hook != nil && !hook(r, user) {
			return
		}
		p.mu.Lock()
		p.reqs = append(p.reqs, recorded{Auth: r.Header.Get("Authorization"), Body: string(body), User: user})
		n := len(p.reqs)
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"chatcmpl-%d","object":"chat.completion","created":1764000000,"model":%q,
"choices":[{"index":0,"message":{"role":"assistant","content":"answer number %d from the loopback model"},"finish_reason":"stop"}],
"usage":{"prompt_tokens":120,"completion_tokens":9,"total_tokens":129}}`, n, req.Model, n)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) requests() []recorded {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]recorded(nil), p.reqs...)
}

// workspace is a project directory with a file to discuss, a secret, and an escape hatch.
type workspace struct {
	root, outside string
	stateDir      string
}

func newWorkspace(t *testing.T) *workspace {
	t.Helper()
	base := t.TempDir()
	w := &workspace{root: filepath.Join(base, "project"), outside: filepath.Join(base, "elsewhere"), stateDir: filepath.Join(base, "state")}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(w.root, "src"), 0o755))
	must(os.MkdirAll(w.outside, 0o755))
	must(os.WriteFile(filepath.Join(w.root, "src", "calc.go"), []byte("package calc\n\n// Add returns MARKER-IN-ROOT-42.\nfunc Add(a, b int) int { return a + b }\n"), 0o644))
	must(os.WriteFile(filepath.Join(w.root, ".env"), []byte("DB_PASSWORD=MARKER-DOTENV-77\n"), 0o644))
	must(os.WriteFile(filepath.Join(w.outside, "notes.txt"), []byte("MARKER-OUTSIDE-99\n"), 0o644))
	must(os.Symlink(filepath.Join(w.outside, "notes.txt"), filepath.Join(w.root, "src", "notes.txt")))
	seedCacheKey(t, filepath.Join(w.stateDir, "state"))
	return w
}

// start runs pal serve in the workspace and connects the go-sdk client. At cleanup it checks
// that the API key never reached the server's log.
func start(t *testing.T, w *workspace, p *provider, extraEnv ...string) *mcp.ClientSession {
	t.Helper()
	cs, stderr := startCapturing(t, w, p, extraEnv...)
	t.Cleanup(func() {
		if strings.Contains(stderr.String(), apiKey) {
			t.Errorf("the API key appeared in the server log")
		}
	})
	return cs
}

// startCapturing is start with the server's stderr handed back.
func startCapturing(t *testing.T, w *workspace, p *provider, extraEnv ...string) (*mcp.ClientSession, *lockedBuffer) {
	t.Helper()
	return startServe(t, w, p, nil, extraEnv...)
}

// startServe is startCapturing with extra arguments to pal serve.
func startServe(t *testing.T, w *workspace, p *provider, args []string, extraEnv ...string) (*mcp.ClientSession, *lockedBuffer) {
	t.Helper()
	cs, _, stderr := startProcess(t, w, p, args, extraEnv...)
	return cs, stderr
}

// startProcess is startServe that also hands back the server process.
func startProcess(t *testing.T, w *workspace, p *provider, args []string, extraEnv ...string) (*mcp.ClientSession, *exec.Cmd, *lockedBuffer) {
	t.Helper()
	cmd := exec.Command(palBin, append([]string{"serve"}, args...)...)
	cmd.Dir = w.root
	cmd.Env = serverEnv(w, p, extraEnv...)
	cs, stderr := connectCmd(t, cmd, nil)
	return cs, cmd, stderr
}

// connectCmd starts cmd (a pal serve process) and connects the go-sdk client to it over
// stdio with opts (nil for none), capturing the server's stderr. The session is closed at
// cleanup, and the server's stderr logged when the test failed.
func connectCmd(t *testing.T, cmd *exec.Cmd, opts *mcp.ClientOptions) (*mcp.ClientSession, *lockedBuffer) {
	t.Helper()
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	client := mcp.NewClient(&mcp.Implementation{Name: "pal-e2e", Version: "1"}, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatalf("connect: %v\nstderr:\n%s", err, stderr.String())
	}
	t.Cleanup(func() {
		cs.Close()
		if t.Failed() {
			t.Logf("server stderr:\n%s", stderr.String())
		}
	})
	return cs, stderr
}

// homeEnv is the environment every pal the tests start begins with: PATH, home, state and
// the shared compile cache, and the test modules (testwasm.Env), then extra.
func homeEnv(home, stateHome string, extra ...string) []string {
	return append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_STATE_HOME=" + stateHome,
		"XDG_CACHE_HOME=" + cacheDir,
	}, append(testwasm.Env(), extra...)...)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func callTool(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) (*mcp.CallToolResult, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("call %s: %v", name, err)
	}
	var text strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			text.WriteString(tc.Text)
		}
	}
	return res, text.String()
}

// continuationID is the continuation_id a chat result offers.
func continuationID(t *testing.T, text string) string {
	t.Helper()
	var out struct {
		ContinuationOffer *struct {
			ContinuationID string `json:"continuation_id"`
		} `json:"continuation_offer"`
	}
	if err := json.Unmarshal([]byte(text), &out); err != nil || out.ContinuationOffer == nil {
		t.Fatalf("chat result without a continuation offer: %v %s", err, text)
	}
	return out.ContinuationOffer.ContinuationID
}

func TestListAndChatWithContinuation(t *testing.T) {
	w := newWorkspace(t)
	p := newProvider(t)
	cs := start(t, w, p)

	ctx := context.Background()
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*mcp.Tool{}
	for _, tl := range tools.Tools {
		byName[tl.Name] = tl
	}
	for _, want := range []string{"chat", "version", "listmodels"} {
		if byName[want] == nil {
			t.Fatalf("tools/list lacks %s: %v", want, tools.Tools)
		}
	}
	chat := byName["chat"]
	// chat writes nothing (working_directory_absolute_path is refused), so it is read-only.
	if chat.Annotations == nil || !chat.Annotations.ReadOnlyHint || (chat.Annotations.DestructiveHint != nil && *chat.Annotations.DestructiveHint) {
		t.Errorf("chat annotations: %+v", chat.Annotations)
	}
	if !byName["version"].Annotations.ReadOnlyHint {
		t.Errorf("version should be read-only")
	}
	schema, _ := json.Marshal(chat.InputSchema)
	if !strings.Contains(string(schema), "gpt-5.2") {
		t.Errorf("chat's model description does not name the configured models: %s", schema)
	}

	file := filepath.Join(w.root, "src", "calc.go")
	res, text := callTool(t, cs, "chat", map[string]any{"prompt": "Review this adder.", "absolute_file_paths": []string{file}, "model": "gpt-5.2"})
	if res.IsError {
		t.Fatalf("chat failed: %s", text)
	}
	var out struct {
		Status            string `json:"status"`
		Content           string `json:"content"`
		ContinuationOffer *struct {
			ContinuationID string `json:"continuation_id"`
			RemainingTurns int    `json:"remaining_turns"`
		} `json:"continuation_offer"`
		Metadata map[string]any `json:"metadata"`
	}
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatalf("chat result is not JSON: %v\n%s", err, text)
	}
	if out.Status != "continuation_available" || out.ContinuationOffer == nil || out.ContinuationOffer.ContinuationID == "" {
		t.Fatalf("chat result: %s", text)
	}
	if !strings.Contains(out.Content, "answer number 1 from the loopback model") {
		t.Fatalf("the model's reply did not reach the client: %s", out.Content)
	}
	reqs := p.requests()
	if len(reqs) != 1 {
		t.Fatalf("provider got %d requests, want 1", len(reqs))
	}
	if reqs[0].Auth != "Bearer "+apiKey {
		t.Fatalf("provider got Authorization %q", reqs[0].Auth)
	}
	if !strings.Contains(reqs[0].User, "MARKER-IN-ROOT-42") || !strings.Contains(reqs[0].User, "Review this adder.") {
		t.Fatalf("provider did not receive the file and prompt:\n%s", reqs[0].User)
	}

	// The second call continues the thread: the provider sees the first exchange.
	res, text = callTool(t, cs, "chat", map[string]any{"prompt": "And with overflow?", "continuation_id": out.ContinuationOffer.ContinuationID, "model": "gpt-5.2"})
	if res.IsError {
		t.Fatalf("continued chat failed: %s", text)
	}
	reqs = p.requests()
	if len(reqs) != 2 {
		t.Fatalf("provider got %d requests, want 2", len(reqs))
	}
	second := reqs[1].User
	for _, want := range []string{"Review this adder.", "answer number 1 from the loopback model", "And with overflow?", "MARKER-IN-ROOT-42"} {
		if !strings.Contains(second, want) {
			t.Errorf("continued prompt lacks %q:\n%s", want, second)
		}
	}
	if strings.Count(second, "answer number 1 from the loopback model") != 1 {
		t.Errorf("history repeated in the continued prompt:\n%s", second)
	}
}

func TestChatRefusesPathsOutsidePolicy(t *testing.T) {
	w := newWorkspace(t)
	p := newProvider(t)
	cs := start(t, w, p)
	cases := []struct {
		name, path, why string
	}{
		{"outside the roots", filepath.Join(w.outside, "notes.txt"), "outside"},
		{"dot-dot escape", filepath.Join(w.root, "src", "..", "..", "elsewhere", "notes.txt"), "outside"},
		{"symlink out of the root", filepath.Join(w.root, "src", "notes.txt"), "symlink"},
		{".env inside the root", filepath.Join(w.root, ".env"), ".env"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, text := callTool(t, cs, "chat", map[string]any{"prompt": "read it", "absolute_file_paths": []string{tc.path}, "model": "gpt-5.2"})
			if !res.IsError {
				t.Fatalf("want isError, got %s", text)
			}
			if !strings.Contains(text, tc.why) {
				t.Errorf("the error does not say why (%q): %s", tc.why, text)
			}
		})
	}
	for _, r := range p.requests() {
		for _, marker := range []string{"MARKER-OUTSIDE-99", "MARKER-DOTENV-77"} {
			if strings.Contains(r.Body, marker) {
				t.Fatalf("the provider received %s", marker)
			}
		}
	}
	if n := len(p.requests()); n != 0 {
		t.Fatalf("the provider was called %d times for refused requests", n)
	}
}

func TestVersionAndListModels(t *testing.T) {
	w := newWorkspace(t)
	p := newProvider(t)
	cs := start(t, w, p)
	res, text := callTool(t, cs, "version", map[string]any{})
	if res.IsError || !strings.Contains(text, "pal") {
		t.Fatalf("version: %s", text)
	}
	res, text = callTool(t, cs, "listmodels", map[string]any{})
	if res.IsError || !strings.Contains(text, "gpt-5.2") || strings.Contains(text, apiKey) {
		t.Fatalf("listmodels: %s", text)
	}
}

// hash64 is the rolling hash the hostile module's keyhunt tool compares memory windows with:
// a polynomial over the bytes with base 1099511628211, modulo 2^64.
func hash64(s string) string {
	var h uint64
	for i := 0; i < len(s); i++ {
		h = h*1099511628211 + uint64(s[i])
	}
	return fmt.Sprint(h)
}

// tightLimits are the limits the containment tests run the hostile module under. The deadline
// leaves membomb room to reach its memory cap first on a loaded two-core machine.
const tightLimits = `call_timeout = "8s"
memory_mb = 64
output_bytes = 1048576`

// huntLimits give keyhunt, which hashes every window of its whole memory, time to finish on a
// loaded machine: the test is about what memory holds, not about the deadline.
const huntLimits = `call_timeout = "120s"
memory_mb = 64
output_bytes = 1048576`

// hostileConfig writes a pal.toml named name that loads the hostile module under limits (the
// body of a [limits] table), grants keyhunt model.generate, and returns its path.
func hostileConfig(t *testing.T, w *workspace, name, limits string) string {
	t.Helper()
	wasm := testwasm.Load(t, "tools-wasm/testdata/hostile")
	path := filepath.Join(w.stateDir, "hostile.wasm")
	if err := os.MkdirAll(w.stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(wasm)
	cfg := fmt.Sprintf("[limits]\n%s\n\n[tools.keyhunt]\ncapabilities = [\"model.generate\"]\n\n[tools.spin]\ncapabilities = [\"progress\"]\n\n[[modules]]\npath = %q\nsha256 = %q\n",
		limits, path, hex.EncodeToString(sum[:]))
	cfgPath := filepath.Join(w.stateDir, name)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath
}

func TestHostileModuleIsContained(t *testing.T) {
	w := newWorkspace(t)
	p := newProvider(t)
	cs := start(t, w, p, "PAL_CONFIG="+hostileConfig(t, w, "pal.toml", tightLimits))

	cases := []struct{ tool, want string }{
		{"spin", "time limit"},
		{"membomb", "memory cap"},
		{"outbomb", "output cap"},
		{"undeclared", `"code":"not_granted"`},
	}
	for _, tc := range cases {
		t.Run(tc.tool, func(t *testing.T) {
			res, text := callTool(t, cs, tc.tool, map[string]any{})
			if tc.tool == "undeclared" {
				// The tool itself reports the host's refusal.
				if res.IsError || !strings.Contains(text, tc.want) {
					t.Fatalf("undeclared capability: %s", text)
				}
			} else if !res.IsError || !strings.Contains(text, tc.want) {
				t.Fatalf("want isError mentioning %q, got %s", tc.want, text)
			}
			// The server keeps answering.
			if _, text := callTool(t, cs, "ping", map[string]any{}); text != "pong" {
				t.Fatalf("after %s, ping says %q", tc.tool, text)
			}
		})
	}
}

func TestKeyNeverEntersGuestMemory(t *testing.T) {
	w := newWorkspace(t)
	p := newProvider(t)
	cs := start(t, w, p, "PAL_CONFIG="+hostileConfig(t, w, "pal.toml", huntLimits))
	control := "answer number 1 from the loopback model" // the reply: it does enter guest memory
	res, text := callTool(t, cs, "keyhunt", map[string]any{
		"model":  "gpt-5.2",
		"prompt": "hello",
		"needles": []map[string]any{
			{"len": len(apiKey), "hash": hash64(apiKey)},
			{"len": len("Bearer " + apiKey), "hash": hash64("Bearer " + apiKey)},
			{"len": len(control), "hash": hash64(control)},
		},
	})
	if res.IsError {
		t.Fatalf("keyhunt: %s", text)
	}
	var out struct {
		Found        []bool          `json:"found"`
		BytesScanned int             `json:"bytes_scanned"`
		Reply        json.RawMessage `json:"reply"`
	}
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatalf("keyhunt result: %v: %s", err, text)
	}
	if len(out.Found) != 3 || !out.Found[2] {
		t.Fatalf("the scan did not find the model's reply, so it proves nothing: %s", text)
	}
	if out.Found[0] || out.Found[1] {
		t.Fatalf("the API key is in guest memory (%d bytes scanned)", out.BytesScanned)
	}
	if out.BytesScanned < 1<<20 {
		t.Fatalf("scanned only %d bytes", out.BytesScanned)
	}
	t.Logf("scanned %d bytes of guest memory after model.generate: no key", out.BytesScanned)
}
