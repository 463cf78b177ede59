package e2e

import (
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

	"github.com/pal-mcp/pal/internal/mcpwire"
)

// rawSession drives pal serve with newline-delimited JSON written by hand, so the test sees
// exactly what goes over the wire and in which order.
type rawSession struct {
	*mcpwire.Conn
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *lockedBuffer
	exited chan error
}

// serverEnv is the environment start gives the server.
func serverEnv(w *workspace, p *provider, extraEnv ...string) []string {
	return homeEnv(w.stateDir, filepath.Join(w.stateDir, "state"), append([]string{
		"OPENAI_API_KEY=" + apiKey,
		"OPENAI_BASE_URL=" + p.srv.URL + "/v1",
		"DEFAULT_MODEL=gpt-5.2",
		"LOG_LEVEL=DEBUG",
	}, extraEnv...)...)
}

// startRaw runs pal serve in the workspace and performs the MCP handshake.
func startRaw(t *testing.T, w *workspace, p *provider, extraEnv ...string) *rawSession {
	t.Helper()
	cmd := exec.Command(palBin, "serve")
	cmd.Dir = w.root
	cmd.Env = serverEnv(w, p, extraEnv...)
	s := &rawSession{t: t, cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan error, 1)}
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
	s.Conn = mcpwire.New(t, stdin, stdout)
	go func() {
		// Wait only once the reader has reached EOF: Wait closes stdout.
		<-s.Conn.EOF()
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
	s.Initialize("raw-wire", "1")
	return s
}

// wait waits for pal to exit, reads what is left of its output, and returns the exit error.
func (s *rawSession) wait() error {
	s.t.Helper()
	s.Drain()
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

// startSpin requests an announced spin call (hostile module, progress granted by
// hostileConfig) under id and waits for its progress report: the call is then known to be
// running in the module, not merely read.
func (s *rawSession) startSpin(id int) {
	s.t.Helper()
	tok := fmt.Sprintf("spin-%d", id)
	s.Request(id, "tools/call", map[string]any{"name": "spin", "arguments": map[string]any{"announce": true},
		"_meta": map[string]any{"progressToken": tok}})
	s.UntilProgress(`"` + tok + `"`)
}

// spinRecord returns the one tools/call audit record of the spin tool, failing the test when
// there is none or more than one.
func spinRecord(t *testing.T, w *workspace) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, r := range auditRecords(t, w) {
		if r["tool"] == "spin" && r["op"] == "tools/call" {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d tools/call audit records for spin, want 1: %v", len(found), found)
	}
	return found[0]
}

// wantCancelled fails the test unless r records a call that ended cancelled.
func wantCancelled(t *testing.T, r map[string]any) {
	t.Helper()
	if r["decision"] != "error" || !strings.Contains(fmt.Sprint(r["reason"]), "cancelled") {
		t.Fatalf("spin: %v", r)
	}
}

// TestWireProgressOrdering is the raw-wire ordering check: 50 chat calls at once, each with a
// progress token; every progress notification of a call must come before its response.
func TestWireProgressOrdering(t *testing.T) {
	const calls = 50
	w := newWorkspace(t)
	p := newProvider(t)
	s := startRaw(t, w, p)
	for i := 1; i <= calls; i++ {
		s.Request(i, "tools/call", map[string]any{
			"name":      "chat",
			"arguments": map[string]any{"prompt": fmt.Sprintf("question %d", i), "model": "gpt-5.2"},
			"_meta":     map[string]any{"progressToken": fmt.Sprintf("t%d", i)},
		})
	}
	progress := map[string]int{} // token -> notifications before its response
	answered := map[string]bool{}
	ordered := 0
	for len(answered) < calls {
		m := s.Next()
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
			if text, isErr := mcpwire.ToolText(t, m); isErr {
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
	for _, m := range s.Seen {
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

// TestWireCancelledCallGetsNoResponse cancels a call known to run in the module: no response
// is written for it, its audit record says it ended cancelled, and the session still serves.
func TestWireCancelledCallGetsNoResponse(t *testing.T) {
	w := newWorkspace(t)
	p := newProvider(t)
	s := startRaw(t, w, p, "PAL_CONFIG="+slowHostileConfig(t, w))
	s.startSpin(41)
	s.Send(map[string]any{"jsonrpc": "2.0", "method": "notifications/cancelled", "params": map[string]any{"requestId": 41, "reason": "test"}})
	s.Request(42, "ping", nil)
	if m := s.Until("42"); m.Error != nil {
		t.Fatalf("ping after cancel: %s", m.Raw)
	}
	// The session still serves tools.
	s.Request(43, "tools/call", map[string]any{"name": "ping", "arguments": map[string]any{}})
	if text, _ := mcpwire.ToolText(t, s.Until("43")); text != "pong" {
		t.Fatalf("ping tool after cancel: %q", text)
	}
	if err := s.closeAndWait(); err != nil {
		t.Fatalf("pal exited with %v", err)
	}
	for _, m := range s.Seen {
		if m.IsResponse("41") {
			t.Fatalf("a response was written for the cancelled request: %s", m.Raw)
		}
	}
	wantCancelled(t, spinRecord(t, w))
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
		s.SendRaw(line)
		m := s.Next()
		if m.Error == nil || m.Error.Code != -32700 || string(m.ID) != "null" {
			t.Fatalf("line %d: want a parse error with id null, got %.300s", i, m.Raw)
		}
		s.Request(100+i, "ping", nil)
		if m := s.Next(); !m.IsResponse(fmt.Sprint(100+i)) || m.Error != nil {
			t.Fatalf("after line %d: %.300s", i, m.Raw)
		}
	}
	if err := s.closeAndWait(); err != nil {
		t.Fatalf("pal exited with %v", err)
	}
}

// TestSignalEndsServe sends SIGTERM (and SIGINT) while the client keeps stdin open and a call
// is in flight (its progress report arrived): pal cancels the call and exits 0.
func TestSignalEndsServe(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			w := newWorkspace(t)
			p := newProvider(t)
			s := startRaw(t, w, p, "PAL_CONFIG="+slowHostileConfig(t, w))
			s.startSpin(1)
			if err := s.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if err := s.wait(); err != nil {
				t.Fatalf("pal exited with %v after %v", err, sig)
			}
			wantCancelled(t, spinRecord(t, w))
		})
	}
}

// TestEOFEndsServeWithCallInFlight closes stdin while a call spins (10-minute timeout, known
// to run): pal cancels it and exits 0.
func TestEOFEndsServeWithCallInFlight(t *testing.T) {
	w := newWorkspace(t)
	p := newProvider(t)
	s := startRaw(t, w, p, "PAL_CONFIG="+slowHostileConfig(t, w))
	s.startSpin(1)
	if err := s.closeAndWait(); err != nil {
		t.Fatalf("pal exited with %v", err)
	}
	wantCancelled(t, spinRecord(t, w))
}
