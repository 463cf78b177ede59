package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rawMsg is one JSON-RPC message the server wrote, kept raw and half-decoded.
type rawMsg struct {
	Raw    string
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (m rawMsg) isResponse(id string) bool { return m.Method == "" && string(m.ID) == id }

// rawSession drives pal serve with newline-delimited JSON written by hand, so the test sees
// exactly what goes over the wire and in which order.
type rawSession struct {
	t       *testing.T
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stderr  *lockedBuffer
	lines   chan rawMsg
	exited  chan error
	seen    []rawMsg // every message read, in order
	skipped []rawMsg // read by until but not what it waited for
}

// serverEnv is the environment start gives the server.
func serverEnv(w *workspace, p *provider, extraEnv ...string) []string {
	return append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + w.stateDir,
		"XDG_CACHE_HOME=" + cacheDir,
		"XDG_STATE_HOME=" + filepath.Join(w.stateDir, "state"),
		"OPENAI_API_KEY=" + apiKey,
		"OPENAI_BASE_URL=" + p.srv.URL + "/v1",
		"DEFAULT_MODEL=gpt-5.2",
		"LOG_LEVEL=DEBUG",
	}, extraEnv...)
}

// startRaw runs pal serve in the workspace and performs the MCP handshake.
func startRaw(t *testing.T, w *workspace, p *provider, extraEnv ...string) *rawSession {
	t.Helper()
	cmd := exec.Command(palBin, "serve")
	cmd.Dir = w.root
	cmd.Env = serverEnv(w, p, extraEnv...)
	s := &rawSession{t: t, cmd: cmd, stderr: &lockedBuffer{}, lines: make(chan rawMsg, 1<<14), exited: make(chan error, 1)}
	cmd.Stderr = s.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.stdin = stdin
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			var m rawMsg
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m.Method = "<not JSON>"
			}
			m.Raw = sc.Text()
			s.lines <- m
		}
		s.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Errorf("pal did not exit after stdin closed")
		}
		if strings.Contains(s.stderr.String(), apiKey) {
			t.Errorf("the API key appeared in the server log")
		}
		if t.Failed() {
			t.Logf("server stderr:\n%s", s.stderr.String())
		}
	})
	s.request("init", "initialize", map[string]any{
		"protocolVersion": "2025-06-18",
		"capabilities":    map[string]any{},
		"clientInfo":      map[string]any{"name": "raw-wire", "version": "1"},
	})
	if m := s.until(`"init"`); m.Error != nil {
		t.Fatalf("initialize: %s", m.Raw)
	}
	s.send(map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"})
	return s
}

func (s *rawSession) sendRaw(line string) {
	s.t.Helper()
	if _, err := io.WriteString(s.stdin, line+"\n"); err != nil {
		s.t.Fatalf("write to pal: %v", err)
	}
}

func (s *rawSession) send(v any) {
	s.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		s.t.Fatal(err)
	}
	s.sendRaw(string(b))
}

func (s *rawSession) request(id any, method string, params any) {
	s.t.Helper()
	s.send(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

func (s *rawSession) read() rawMsg {
	s.t.Helper()
	select {
	case m, ok := <-s.lines:
		if !ok {
			s.t.Fatal("pal closed its output")
		}
		s.seen = append(s.seen, m)
		return m
	case <-time.After(2 * time.Minute):
		s.t.Fatal("pal wrote nothing for two minutes")
	}
	panic("unreachable")
}

// next returns the next message, those skipped by until first.
func (s *rawSession) next() rawMsg {
	s.t.Helper()
	if len(s.skipped) > 0 {
		m := s.skipped[0]
		s.skipped = s.skipped[1:]
		return m
	}
	return s.read()
}

// until returns the response to id (JSON, such as `7`), keeping other messages for later.
func (s *rawSession) until(id string) rawMsg {
	s.t.Helper()
	for i, m := range s.skipped {
		if m.isResponse(id) {
			s.skipped = append(s.skipped[:i:i], s.skipped[i+1:]...)
			return m
		}
	}
	for {
		m := s.read()
		if m.isResponse(id) {
			return m
		}
		s.skipped = append(s.skipped, m)
	}
}

// wait waits for pal to exit, reads what is left of its output, and returns the exit error.
func (s *rawSession) wait() error {
	s.t.Helper()
	for m := range s.lines {
		s.seen = append(s.seen, m)
	}
	select {
	case err := <-s.exited:
		s.exited <- err // for the cleanup
		return err
	case <-time.After(time.Minute):
		s.t.Fatal("pal did not exit")
	}
	return nil
}

// closeAndWait closes stdin and waits for pal to exit.
func (s *rawSession) closeAndWait() error {
	s.t.Helper()
	s.stdin.Close()
	return s.wait()
}

func toolResultText(t *testing.T, m rawMsg) (string, bool) {
	t.Helper()
	if m.Error != nil {
		t.Fatalf("JSON-RPC error: %s", m.Raw)
	}
	var res struct {
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
		IsError bool `json:"isError"`
	}
	if err := json.Unmarshal(m.Result, &res); err != nil {
		t.Fatalf("%v: %s", err, m.Raw)
	}
	var b strings.Builder
	for _, c := range res.Content {
		b.WriteString(c.Text)
	}
	return b.String(), res.IsError
}

// TestWireProgressOrdering is the raw-wire ordering check: 50 chat calls at once, each with a
// progress token; every progress notification of a call must come before its response.
func TestWireProgressOrdering(t *testing.T) {
	const calls = 50
	w := newWorkspace(t)
	p := newProvider(t)
	s := startRaw(t, w, p)
	for i := 1; i <= calls; i++ {
		s.request(i, "tools/call", map[string]any{
			"name":      "chat",
			"arguments": map[string]any{"prompt": fmt.Sprintf("question %d", i), "model": "gpt-5.2"},
			"_meta":     map[string]any{"progressToken": fmt.Sprintf("t%d", i)},
		})
	}
	progress := map[string]int{} // token -> notifications before its response
	answered := map[string]bool{}
	ordered := 0
	for len(answered) < calls {
		m := s.next()
		switch {
		case m.Method == "notifications/progress":
			var pp struct {
				Token string `json:"progressToken"`
			}
			json.Unmarshal(m.Params, &pp)
			if answered[pp.Token] {
				t.Errorf("progress after the response: %s", m.Raw)
			}
			progress[pp.Token]++
		case m.Method == "":
			var id int
			if err := json.Unmarshal(m.ID, &id); err != nil || id < 1 || id > calls {
				t.Fatalf("unexpected response: %s", m.Raw)
			}
			if text, isErr := toolResultText(t, m); isErr {
				t.Fatalf("call %d failed: %s", id, text)
			}
			tok := fmt.Sprintf("t%d", id)
			answered[tok] = true
			if progress[tok] == 3 {
				ordered++
			} else {
				t.Errorf("call %d: %d progress notifications before its response, want 3", id, progress[tok])
			}
		}
	}
	if err := s.closeAndWait(); err != nil {
		t.Fatalf("pal exited with %v", err)
	}
	for _, m := range s.seen {
		if m.Method == "notifications/progress" {
			var pp struct {
				Token string `json:"progressToken"`
			}
			json.Unmarshal(m.Params, &pp)
			if progress[pp.Token] != 3 {
				t.Errorf("%s: %d progress notifications in all", pp.Token, progress[pp.Token])
			}
		}
	}
	if ordered != calls || len(p.requests()) != calls {
		t.Fatalf("%d/%d calls ordered, %d provider requests", ordered, calls, len(p.requests()))
	}
	t.Logf("raw wire: %d/%d calls had all their progress before their response", ordered, calls)
}

// slowHostileConfig loads the hostile module with a 10-minute call timeout, so a call that
// ends early was stopped by something else.
func slowHostileConfig(t *testing.T, w *workspace) string {
	return hostileConfig(t, w, "slow.toml", `call_timeout = "10m"`)
}

// auditRecords reads the audit log of the workspace's server.
func auditRecords(t *testing.T, w *workspace) []map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(w.stateDir, "state", "pal", "audit.jsonl"))
	if err != nil {
		t.Fatalf("audit log: %v", err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit line is not JSON: %q", line)
		}
		out = append(out, r)
	}
	return out
}

func TestWireCancelledCallGetsNoResponse(t *testing.T) {
	w := newWorkspace(t)
	p := newProvider(t)
	s := startRaw(t, w, p, "PAL_CONFIG="+slowHostileConfig(t, w))
	s.request(41, "tools/call", map[string]any{"name": "spin", "arguments": map[string]any{}})
	s.send(map[string]any{"jsonrpc": "2.0", "method": "notifications/cancelled", "params": map[string]any{"requestId": 41, "reason": "test"}})
	s.request(42, "ping", nil)
	if m := s.until("42"); m.Error != nil {
		t.Fatalf("ping after cancel: %s", m.Raw)
	}
	// The session still serves tools.
	s.request(43, "tools/call", map[string]any{"name": "ping", "arguments": map[string]any{}})
	if text, _ := toolResultText(t, s.until("43")); text != "pong" {
		t.Fatalf("ping tool after cancel: %q", text)
	}
	if err := s.closeAndWait(); err != nil {
		t.Fatalf("pal exited with %v", err)
	}
	for _, m := range s.seen {
		if m.isResponse("41") {
			t.Fatalf("a response was written for the cancelled request: %s", m.Raw)
		}
	}
	for _, r := range auditRecords(t, w) {
		if r["tool"] == "spin" && r["op"] == "tools/call" && r["decision"] != "error" {
			t.Fatalf("spin: %v", r)
		}
	}
}

func TestWireOversizeAndMalformedLines(t *testing.T) {
	w := newWorkspace(t)
	p := newProvider(t)
	s := startRaw(t, w, p)
	lines := []string{
		`{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"pad":"` + strings.Repeat("z", 32<<20) + `"}}}`,
		`{"jsonrpc":"2.0","id":2,"method":`,
		`not json`,
	}
	for i, line := range lines {
		s.sendRaw(line)
		m := s.next()
		if m.Error == nil || m.Error.Code != -32700 || string(m.ID) != "null" {
			t.Fatalf("line %d: want a parse error with id null, got %.300s", i, m.Raw)
		}
		s.request(100+i, "ping", nil)
		if m := s.next(); !m.isResponse(fmt.Sprint(100+i)) || m.Error != nil {
			t.Fatalf("after line %d: %.300s", i, m.Raw)
		}
	}
	if err := s.closeAndWait(); err != nil {
		t.Fatalf("pal exited with %v", err)
	}
}

// TestSignalEndsServe sends SIGTERM (and SIGINT) while the client keeps stdin open and a call
// is in flight: pal stops and exits 0.
func TestSignalEndsServe(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			w := newWorkspace(t)
			p := newProvider(t)
			s := startRaw(t, w, p, "PAL_CONFIG="+slowHostileConfig(t, w))
			s.request(1, "tools/call", map[string]any{"name": "spin", "arguments": map[string]any{}})
			s.request(2, "ping", nil)
			s.until("2")
			if err := s.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if err := s.wait(); err != nil {
				t.Fatalf("pal exited with %v after %v", err, sig)
			}
		})
	}
}

// TestEOFEndsServeWithCallInFlight closes stdin while a call spins (10-minute timeout): pal
// cancels it and exits 0.
func TestEOFEndsServeWithCallInFlight(t *testing.T) {
	w := newWorkspace(t)
	p := newProvider(t)
	s := startRaw(t, w, p, "PAL_CONFIG="+slowHostileConfig(t, w))
	s.request(1, "tools/call", map[string]any{"name": "spin", "arguments": map[string]any{}})
	s.request(2, "ping", nil)
	s.until("2")
	if err := s.closeAndWait(); err != nil {
		t.Fatalf("pal exited with %v", err)
	}
	found := false
	for _, r := range auditRecords(t, w) {
		if r["tool"] == "spin" && r["op"] == "tools/call" {
			found = true
			if r["decision"] != "error" || !strings.Contains(fmt.Sprint(r["reason"]), "cancelled") {
				t.Fatalf("spin: %v", r)
			}
		}
	}
	if !found {
		t.Fatal("no audit record for the spin call")
	}
}
