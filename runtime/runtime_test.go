package runtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pal-mcp/pal/internal/testwasm"
	"github.com/pal-mcp/pal/runtime/abi"
)

// sharedCache is one compilation cache for the package's tests, so each test does not pay
// for a cold compile.
var sharedCache string

// testCacheKey authenticates the tests' cache entries.
var testCacheKey = []byte("pal runtime tests cache key, 32B")

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pal-runtime-cache-")
	if err != nil {
		panic(err)
	}
	sharedCache = dir
	code := m.Run()
	os.RemoveAll(dir)
	testwasm.Cleanup()
	os.Exit(code)
}

// fakeHost answers every op with a fixed reply and records what it saw.
type fakeHost struct {
	mu      sync.Mutex
	calls   [][]byte
	logs    []string
	refused []string
}

func (h *fakeHost) Call(_ context.Context, req []byte) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, req)
	return abi.Fail(abi.CodeDenied, "fake host denies everything")
}

func (h *fakeHost) Log(_ context.Context, level int, msg string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.logs = append(h.logs, msg)
}

func (h *fakeHost) Refused(_ context.Context, code abi.Code, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refused = append(h.refused, string(code)+": "+reason)
}

func newEngine(t *testing.T, cfg Config) *Engine {
	t.Helper()
	if cfg.CacheDir == "" {
		cfg.CacheDir = sharedCache
	}
	if cfg.CacheKey == nil {
		cfg.CacheKey = testCacheKey
	}
	e, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e
}

func loadHostile(t *testing.T, e *Engine) *Module {
	t.Helper()
	m, err := e.LoadModule(context.Background(), "hostile", testwasm.Load(t, "tools-wasm/testdata/hostile"), "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func invoke(t *testing.T, m *Module, tool string, h Host, timeout time.Duration) (*abi.Result, Outcome, error) {
	t.Helper()
	if h == nil {
		h = &fakeHost{}
	}
	return m.Invoke(context.Background(), Call{Tool: tool, CallID: "t-" + tool, Arguments: json.RawMessage(`{}`), Host: h, Timeout: timeout})
}

func text(r *abi.Result) string {
	if r == nil || len(r.Content) == 0 {
		return ""
	}
	return r.Content[0].Text
}

// mustPing proves the engine still serves after an attack.
func mustPing(t *testing.T, m *Module) {
	t.Helper()
	r, _, err := invoke(t, m, "ping", nil, 0)
	if err != nil || text(r) != "pong" {
		t.Fatalf("ping after attack: %v %q", err, text(r))
	}
}

func TestManifestAndPing(t *testing.T) {
	e := newEngine(t, Config{CacheDir: t.TempDir()})
	m := loadHostile(t, e)
	if got := m.Manifest().Name; got != "hostile" {
		t.Fatalf("manifest name %q", got)
	}
	if len(m.Manifest().Tools) < 5 {
		t.Fatalf("manifest lists %d tools", len(m.Manifest().Tools))
	}
	mustPing(t, m)
}

func TestManifestCacheAvoidsCompile(t *testing.T) {
	dir := t.TempDir()
	wasm := testwasm.Load(t, "tools-wasm/testdata/hostile")
	e1 := newEngine(t, Config{CacheDir: dir})
	m1, err := e1.LoadModule(context.Background(), "hostile", wasm, "")
	if err != nil {
		t.Fatal(err)
	}
	if m1.compiled == nil || e1.describes.Load() != 1 {
		t.Fatalf("first load: compiled %v, %d describes; want a compile and one describe", m1.compiled != nil, e1.describes.Load())
	}
	e2 := newEngine(t, Config{CacheDir: dir})
	m, err := e2.LoadModule(context.Background(), "hostile", wasm, "")
	if err != nil {
		t.Fatal(err)
	}
	if m.compiled != nil || e2.describes.Load() != 0 {
		t.Fatal("second load compiled or described the module; the manifest cache should have answered")
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("cache dir mode %v, want 0700", fi.Mode().Perm())
	}
	mustPing(t, m)
}

// TestKnownManifest: a manifest given ahead answers for its module's hash without a describe,
// a compile or the cache; one that does not validate is refused; other modules are described.
func TestKnownManifest(t *testing.T) {
	wasm := testwasm.Load(t, "tools-wasm/testdata/hostile")
	sum := sha256.Sum256(wasm)
	hash := hex.EncodeToString(sum[:])
	e := newEngine(t, Config{})
	raw := []byte(`{"abi":1,"name":"known","version":"1","tools":[{"name":"ping","description":"p","inputSchema":{"type":"object"}}]}`)
	if err := e.AddKnownManifest(hash, raw); err != nil {
		t.Fatal(err)
	}
	m, err := e.LoadModule(context.Background(), "hostile", wasm, "")
	if err != nil {
		t.Fatal(err)
	}
	if m.Manifest().Name != "known" || e.describes.Load() != 0 || m.compiled != nil || m.CompileStarted() {
		t.Fatalf("manifest %q, %d describes, compiled %v, compile started %v", m.Manifest().Name, e.describes.Load(), m.compiled != nil, m.CompileStarted())
	}
	mustPing(t, m)
	if !m.CompileStarted() {
		t.Fatal("a call ran and CompileStarted is false")
	}
	for name, bad := range map[string]string{
		"unknown field": `{"abi":1,"name":"x","version":"1","tools":[],"extra":1}`,
		"wrong abi":     `{"abi":2,"name":"x","version":"1","tools":[]}`,
		"not JSON":      `{`,
	} {
		if err := e.AddKnownManifest(strings.Repeat("ab", 32), []byte(bad)); !errors.Is(err, ErrBadModule) {
			t.Errorf("%s: %v", name, err)
		}
	}
	e2 := newEngine(t, Config{})
	if err := e2.AddKnownManifest(strings.Repeat("ab", 32), raw); err != nil {
		t.Fatal(err)
	}
	if m, err := e2.LoadModule(context.Background(), "hostile", wasm, ""); err != nil || m.Manifest().Name != "hostile" {
		t.Fatalf("a known manifest for other bytes answered: %v", err)
	}
}

// TestCancelledCallDoesNotFailTheCompile: the first call starts the compile and is cancelled
// while it waits; the compile goes on, and the next call runs. (Before, the compile ran under
// the first call's context, and its cancellation was remembered as the module's compile error,
// so every later call failed with "invalid tool module: context canceled".)
func TestCancelledCallDoesNotFailTheCompile(t *testing.T) {
	e := newEngine(t, Config{CacheDir: t.TempDir(), PoolSize: -1})
	m := loadHostile(t, e)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := m.Invoke(ctx, Call{Tool: "ping", CallID: "c", Arguments: json.RawMessage(`{}`), Host: &fakeHost{}})
	if !errors.Is(err, ErrCancelled) {
		t.Fatalf("cancelled call: %v; want ErrCancelled", err)
	}
	mustPing(t, m)
}

func TestPinnedHash(t *testing.T) {
	e := newEngine(t, Config{})
	_, err := e.LoadModule(context.Background(), "hostile", testwasm.Load(t, "tools-wasm/testdata/hostile"), strings.Repeat("0", 64))
	if !errors.Is(err, ErrBadModule) || !strings.Contains(err.Error(), "pinned") {
		t.Fatalf("want pin refusal, got %v", err)
	}
}

func TestInvalidModules(t *testing.T) {
	cases := map[string][]byte{
		"empty module": {0, 'a', 's', 'm', 1, 0, 0, 0},
		"not wasm":     []byte("#!/bin/sh\necho hi\n"),
		"truncated":    {0, 'a', 's'},
	}
	e := newEngine(t, Config{})
	for name, wasm := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := e.LoadModule(context.Background(), name, wasm, "")
			if !errors.Is(err, ErrBadModule) {
				t.Fatalf("want ErrBadModule, got %v", err)
			}
		})
	}
}

func TestSpinIsStoppedAtDeadline(t *testing.T) {
	e := newEngine(t, Config{})
	m := loadHostile(t, e)
	start := time.Now()
	_, _, err := invoke(t, m, "spin", nil, time.Second)
	if !errors.Is(err, ErrDeadline) {
		t.Fatalf("want ErrDeadline, got %v", err)
	}
	if time.Since(start) > 20*time.Second {
		t.Fatal("spin was not stopped") // a loose bound: only catches a call that was never killed
	}
	mustPing(t, m)
}

func TestMemoryBombIsStoppedAtCap(t *testing.T) {
	e := newEngine(t, Config{MemoryLimitBytes: 64 << 20})
	m := loadHostile(t, e)
	_, out, err := invoke(t, m, "membomb", nil, 0)
	if !errors.Is(err, ErrMemoryCap) {
		t.Fatalf("want ErrMemoryCap, got %v", err)
	}
	if out.MemoryPeak > 64<<20 {
		t.Fatalf("memory reached %d bytes, over the 64 MiB cap", out.MemoryPeak)
	}
	mustPing(t, m)
}

func TestOutputBombIsCut(t *testing.T) {
	e := newEngine(t, Config{OutputLimitBytes: 1 << 20})
	m := loadHostile(t, e)
	_, _, err := invoke(t, m, "outbomb", nil, 0)
	if !errors.Is(err, ErrOutputCap) || !strings.Contains(err.Error(), "1048576") {
		t.Fatalf("want ErrOutputCap naming the cap, got %v", err)
	}
	mustPing(t, m)
}

func TestStderrIsBounded(t *testing.T) {
	e := newEngine(t, Config{StderrLimitBytes: 4096})
	m := loadHostile(t, e)
	r, out, err := invoke(t, m, "stderrbomb", nil, 0)
	if err != nil || text(r) != "stderr flooded" {
		t.Fatalf("stderrbomb: %v %q", err, text(r))
	}
	if len(out.Stderr) > 4096+100 || !strings.Contains(out.Stderr, "bytes of stderr dropped") {
		t.Fatalf("stderr kept %d bytes; want at most the cap and a drop note", len(out.Stderr))
	}
}

func TestLogFloodIsBounded(t *testing.T) {
	e := newEngine(t, Config{})
	m := loadHostile(t, e)
	h := &fakeHost{}
	_, out, err := invoke(t, m, "logflood", h, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.logs) != LogLinesPerCall {
		t.Fatalf("host got %d log lines, want %d", len(h.logs), LogLinesPerCall)
	}
	if out.LogDropped != 5001-LogLinesPerCall {
		t.Fatalf("dropped %d, want %d", out.LogDropped, 5001-LogLinesPerCall)
	}
	for _, l := range h.logs {
		if len(l) > LogLineLimit+40 {
			t.Fatalf("log line of %d bytes passed the %d cap", len(l), LogLineLimit)
		}
	}
}

func TestBadPointersGetErrorsAndAudit(t *testing.T) {
	e := newEngine(t, Config{})
	m := loadHostile(t, e)
	h := &fakeHost{}
	r, _, err := invoke(t, m, "badptr", h, 0)
	if err != nil {
		t.Fatal(err)
	}
	var replies []string
	if err := json.Unmarshal([]byte(text(r)), &replies); err != nil {
		t.Fatalf("badptr result %q: %v", text(r), err)
	}
	want := []string{"outside guest memory", "over the", "over the"}
	for i, w := range want {
		if !strings.Contains(replies[i], w) {
			t.Errorf("reply %d = %q, want it to mention %q", i, replies[i], w)
		}
	}
	if len(h.calls) != 0 {
		t.Errorf("bad requests reached the host: %q", h.calls)
	}
	if len(h.refused) != 3 {
		t.Errorf("want 3 refusals recorded, got %q", h.refused)
	}
	mustPing(t, m)
}

func TestCancelledCall(t *testing.T) {
	e := newEngine(t, Config{})
	m := loadHostile(t, e)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(200 * time.Millisecond); cancel() }()
	_, _, err := m.Invoke(ctx, Call{Tool: "spin", Arguments: json.RawMessage(`{}`), Host: &fakeHost{}})
	if !errors.Is(err, ErrCancelled) {
		t.Fatalf("want ErrCancelled, got %v", err)
	}
	mustPing(t, m)
}

func TestConcurrentCallsAreIsolated(t *testing.T) {
	e := newEngine(t, Config{PoolSize: 2})
	m := loadHostile(t, e)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _, err := m.Invoke(context.Background(), Call{Tool: "ping", Arguments: json.RawMessage(`{}`), Host: &fakeHost{}})
			if err == nil && text(r) != "pong" {
				err = errors.New("wrong answer " + text(r))
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// infoHost answers every op with a small success reply, so that placing it needs alloc.
type infoHost struct{ fakeHost }

func (h *infoHost) Call(_ context.Context, req []byte) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, req)
	return abi.OK(map[string]int{"abi": 1}, nil)
}

// TestReentrantHostCallsAreRefused: a guest whose alloc calls the host, which would make the
// host alloc again, and so on, used to nest until the host's stack overflowed and the process
// died. The host now refuses the nested call without entering the guest again.
func TestReentrantHostCallsAreRefused(t *testing.T) {
	e := newEngine(t, Config{})
	m := loadHostile(t, e)
	for _, tc := range []struct {
		depth      int
		wantReply  string // in the outer reply
		wantNested int    // nested calls refused
	}{
		{depth: 1, wantReply: `"code":"reentrant"`, wantNested: 1},
		{depth: 2, wantReply: `"code":"lost"`, wantNested: 2},
		{depth: 1_000_000, wantReply: `"code":"lost"`, wantNested: 2},
	} {
		h := &infoHost{}
		r, _, err := m.Invoke(context.Background(), Call{Tool: "reenter", Arguments: json.RawMessage(fmt.Sprintf(`{"depth":%d}`, tc.depth)), Host: h})
		if err != nil {
			t.Fatalf("depth %d: %v", tc.depth, err)
		}
		var got struct {
			Reply  json.RawMessage `json:"reply"`
			Nested map[string]int  `json:"nested"`
		}
		if err := json.Unmarshal([]byte(text(r)), &got); err != nil {
			t.Fatalf("depth %d: result %q: %v", tc.depth, text(r), err)
		}
		if !strings.Contains(string(got.Reply), tc.wantReply) {
			t.Errorf("depth %d: outer reply %s, want %s", tc.depth, got.Reply, tc.wantReply)
		}
		if len(got.Nested) != 1 || got.Nested["no reply"] != tc.wantNested {
			t.Errorf("depth %d: nested calls got %v, want %d times no reply", tc.depth, got.Nested, tc.wantNested)
		}
		if len(h.calls) != 1 {
			t.Errorf("depth %d: %d requests reached the host, want only the outer one", tc.depth, len(h.calls))
		}
		if len(h.refused) != 1 || !strings.Contains(h.refused[0], "reentrant") {
			t.Errorf("depth %d: refusals recorded %q, want one reentrant", tc.depth, h.refused)
		}
	}
	mustPing(t, m)
}

// stopHost ends the call after `after` requests, as a Host whose budget ran out does.
type stopHost struct {
	infoHost
	after int
}

var errStopTest = errors.New("test budget used up")

func (h *stopHost) Stop() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.calls) > h.after {
		return errStopTest
	}
	return nil
}

func TestStopperEndsTheCall(t *testing.T) {
	e := newEngine(t, Config{})
	m := loadHostile(t, e)
	h := &stopHost{after: 5}
	args := json.RawMessage(`{"request":{"op":"host.info"},"n":1000000}`)
	_, _, err := m.Invoke(context.Background(), Call{Tool: "flood", Arguments: args, Host: h})
	if !errors.Is(err, ErrStopped) || !errors.Is(err, errStopTest) {
		t.Fatalf("want ErrStopped wrapping the host's error, got %v", err)
	}
	if len(h.calls) != 6 {
		t.Fatalf("%d requests reached the host, want 6", len(h.calls))
	}
	mustPing(t, m)
}
