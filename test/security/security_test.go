// Package security is pal's security suite. It drives the real binary over stdio with the
// official Go MCP SDK client, loads the hostile module of tools-wasm/testdata/hostile, and
// checks that every attack is contained: the call fails or is refused with a clear error, the
// server serves the next call, and its peak resident memory (VmHWM) stays under peakRSSLimit.
// The figures it logs are those of docs/security.md.
package security

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
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pal-mcp/pal/internal/testwasm"
)

const apiKey = "sk-security-KEY-3c9e71a0d4"

// peakRSSLimit is the most resident memory (VmHWM) the server may reach in any test of the
// suite, in bytes: the figure docs/security.md states.
const peakRSSLimit = 512 << 20

// callTimeout is the deadline of the suite's calls; spin must stop within twice it.
const callTimeout = 3 * time.Second

var (
	palBin   string
	cacheDir string
	cacheKey = []byte("pal security suite cache key 32B")
	wasmPath string
	wasmSum  string
)

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "pal-security-")
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

// provider is a loopback OpenAI chat-completions endpoint that counts requests.
type provider struct {
	srv *httptest.Server
	n   atomic.Int64
}

func newProvider(t *testing.T) *provider {
	p := &provider{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		n := p.n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"c%d","object":"chat.completion","created":1764000000,"model":"gpt-5.2",
"choices":[{"index":0,"message":{"role":"assistant","content":"loopback answer %d"},"finish_reason":"stop"}],
"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`, n, n)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// world is a project root with a file, secrets, and ways out; outside is beside it.
type world struct {
	base, root, outside, state string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := &world{base: base, root: filepath.Join(base, "project"), outside: filepath.Join(base, "elsewhere"), state: filepath.Join(base, "state")}
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, p string) {
		t.Helper()
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(w.root, "a.txt"), "inside\n")
	write(filepath.Join(w.root, "src", "calc.go"), "package calc\n")
	write(filepath.Join(w.root, ".env"), "TOKEN=MARKER-OUTSIDE-DOTENV\n")
	write(filepath.Join(w.root, ".ssh", "only_behind.txt"), "MARKER-OUTSIDE-SSH\n")
	write(filepath.Join(w.root, ".ssh", "plain.txt"), "MARKER-OUTSIDE-SSH\n")
	write(filepath.Join(w.outside, "notes.txt"), "MARKER-OUTSIDE-NOTES\n")
	write(filepath.Join(w.outside, "plain.txt"), "MARKER-OUTSIDE-PLAIN\n")
	write(filepath.Join(w.outside, "only_behind.txt"), "MARKER-OUTSIDE-ONLY\n")
	write(filepath.Join(w.root, "swap", "plain.txt"), "plain\n")
	write(filepath.Join(w.root, "swap", "deeper", "x.txt"), "x\n")
	link(filepath.Join(w.outside, "notes.txt"), filepath.Join(w.root, "src", "notes.txt"))
	link(w.outside, filepath.Join(w.root, "outdir"))
	link("../elsewhere/notes.txt", filepath.Join(w.root, "relout"))
	link("hop2", filepath.Join(w.root, "hop1"))
	link("src/hop3", filepath.Join(w.root, "hop2"))
	link(filepath.Join(w.outside, "notes.txt"), filepath.Join(w.root, "src", "hop3"))
	link("/", filepath.Join(w.root, "slash"))
	link("/etc", filepath.Join(w.root, "etc"))
	if err := os.Link(filepath.Join(w.outside, "notes.txt"), filepath.Join(w.root, "hard.txt")); err != nil {
		t.Logf("no hard link fixture: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(w.state, "state", "pal"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.state, "state", "pal", "cache.key"), cacheKey, 0o600); err != nil {
		t.Fatal(err)
	}
	return w
}

// server is one running pal serve.
type server struct {
	cs     *mcp.ClientSession
	pid    int
	stderr *lockedBuffer
}

// config is the suite's pal.toml: the hostile module, tight limits, and grants.
func config(t *testing.T, w *world, extra string, timeout time.Duration) string {
	t.Helper()
	wasm := testwasm.Load(t, "tools-wasm/testdata/hostile")
	path := filepath.Join(w.state, "hostile.wasm")
	if err := os.WriteFile(path, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(wasm)
	cfg := fmt.Sprintf(`[limits]
call_timeout = %q
memory_mb = 64
output_bytes = 1048576
host_calls = 2000
threads_total_bytes = 33554432

[tools.flood]
capabilities = ["fs.read", "fs.list", "model.generate", "thread.read", "thread.write", "progress", "host.info"]

[tools.keyhunt]
capabilities = ["model.generate"]

[tools.hostcall]
capabilities = []

%s

[[modules]]
path = %q
sha256 = %q
`, timeout.String(), extra, path, hex.EncodeToString(sum[:]))
	cfgPath := filepath.Join(w.state, "pal.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath
}

func start(t *testing.T, w *world, p *provider, extra string) *server {
	t.Helper()
	return startWithTimeout(t, w, p, extra, callTimeout)
}

// startWithTimeout is start with another call deadline.
func startWithTimeout(t *testing.T, w *world, p *provider, extra string, timeout time.Duration) *server {
	t.Helper()
	cmd := exec.Command(palBin, "serve")
	cmd.Dir = w.root
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + w.state,
		"XDG_CACHE_HOME=" + cacheDir,
		"XDG_STATE_HOME=" + filepath.Join(w.state, "state"),
		"OPENAI_API_KEY=" + apiKey,
		"OPENAI_BASE_URL=" + p.srv.URL + "/v1",
		"DEFAULT_MODEL=gpt-5.2",
		"PAL_CONFIG=" + config(t, w, extra, timeout),
	}, testwasm.Env()...)
	s := &server{stderr: &lockedBuffer{}}
	cmd.Stderr = s.stderr
	client := mcp.NewClient(&mcp.Implementation{Name: "pal-security", Version: "1"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connect: %v\nstderr:\n%s", err, s.stderr.String())
	}
	s.cs, s.pid = cs, cmd.Process.Pid
	t.Cleanup(func() {
		if peak := s.peakRSS(t); peak > peakRSSLimit {
			t.Errorf("server peak RSS %d MiB, over the %d MiB the suite allows", peak>>20, peakRSSLimit>>20)
		}
		cs.Close()
		if strings.Contains(s.stderr.String(), apiKey) {
			t.Error("the API key appeared in the server log")
		}
		if t.Failed() {
			t.Logf("server stderr (tail):\n%s", tail(s.stderr.String(), 4000))
		}
	})
	return s
}

// peakRSS is the server's VmHWM in bytes (0 where /proc is missing).
func (s *server) peakRSS(t *testing.T) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func (s *server) call(t *testing.T, name string, args map[string]any) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	res, err := s.cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("call %s: %v", name, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

// mustServe proves the server still answers.
func (s *server) mustServe(t *testing.T, after string) {
	t.Helper()
	if text, isErr := s.call(t, "ping", map[string]any{}); isErr || text != "pong" {
		t.Fatalf("after %s the server answers ping with %q", after, text)
	}
}

// flood runs the hostile flood tool: request n times, counting reply codes and needles.
func (s *server) flood(t *testing.T, request map[string]any, body string, n int, needle string) (map[string]int, string, bool) {
	t.Helper()
	args := map[string]any{"request": request, "n": n}
	if body != "" {
		args["body"] = body
	}
	if needle != "" {
		args["needle"] = needle
	}
	text, isErr := s.call(t, "flood", args)
	if isErr {
		return nil, text, true
	}
	var out struct {
		Codes map[string]int `json:"codes"`
	}
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatalf("flood result %q: %v", text, err)
	}
	return out.Codes, text, false
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 8<<20 {
		return len(p), nil // a flood of log lines must not make the test itself grow
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

func skipWithoutProc(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the suite reads /proc for peak RSS and plays /proc escapes")
	}
}
