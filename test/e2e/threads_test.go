package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// startKillable is startProcess that also checks the key never reached the server's log.
func startKillable(t *testing.T, w *workspace, p *provider, extraEnv ...string) (*mcp.ClientSession, *exec.Cmd, *lockedBuffer) {
	t.Helper()
	cs, cmd, stderr := startProcess(t, w, p, nil, extraEnv...)
	t.Cleanup(func() {
		if strings.Contains(stderr.String(), apiKey) {
			t.Errorf("the API key appeared in the server log")
		}
	})
	return cs, cmd, stderr
}

// TestThreadSurvivesSIGKILL: with [memory] path set, a thread chat created survives the
// server being killed with SIGKILL; the restarted server continues it from thinkdeep, and
// the provider's prompt holds the first exchange, once. While one server holds the store, a
// second one stops with a clear message.
func TestThreadSurvivesSIGKILL(t *testing.T) {
	w := newWorkspace(t)
	p := newProvider(t)
	conf := filepath.Join(w.outside, "pal.toml")
	if err := os.WriteFile(conf, []byte("[memory]\npath = \"state\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := "PAL_CONFIG=" + conf
	db := filepath.Join(w.stateDir, "state", "pal", "threads.db")

	cs, cmd, _ := startKillable(t, w, p, env)
	file := filepath.Join(w.root, "src", "calc.go")
	res, text := callTool(t, cs, "chat", map[string]any{"prompt": "FIRST-QUESTION about the adder.", "absolute_file_paths": []string{file}, "model": "gpt-5.2"})
	if res.IsError {
		t.Fatalf("chat: %s", text)
	}
	id := continuationID(t, text)
	if fi, err := os.Stat(db); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("threads file: %v %v", fi, err)
	}

	// A second pal on the same store gives up with a message naming the file.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	second := exec.CommandContext(ctx, palBin, "serve")
	second.Dir = w.root
	second.Env = serverEnv(w, p, env)
	msg, err := second.CombinedOutput()
	if err == nil || !strings.Contains(string(msg), "another pal holds") || !strings.Contains(string(msg), db) {
		t.Fatalf("second pal on the same store: %v\n%s", err, msg)
	}

	// pal tools makes no thread, so it does not wait for the store.
	if code, stdout, stderr := runPalHome(t, w.root, w.stateDir, []string{env, "OPENAI_API_KEY=" + apiKey}, "tools"); code != 0 || !strings.Contains(stdout, "thinkdeep") {
		t.Fatalf("pal tools while a server holds the store: %d\n%s\n%s", code, stdout, stderr)
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The transport reaps the process (a second cmd.Wait would race with it); the session
	// ends when the dead server's stdout closes, and with it every descriptor, the store's
	// lock included.
	cs.Wait()

	cs, _, _ = startKillable(t, w, p, env)
	res, text = callTool(t, cs, "thinkdeep", map[string]any{"step": "Think about overflow.", "step_number": 1, "total_steps": 1,
		"next_step_required": false, "findings": "FINDINGS-AFTER-RESTART", "confidence": "high", "continuation_id": id, "model": "gpt-5.2"})
	if res.IsError {
		t.Fatalf("thinkdeep after the restart: %s", text)
	}
	reqs := p.requests()
	if len(reqs) != 2 {
		t.Fatalf("provider got %d requests, want 2", len(reqs))
	}
	body := reqs[1].Body
	for want, n := range map[string]int{"FIRST-QUESTION about the adder.": 1, "answer number 1 from the loopback model": 1, "FINDINGS-AFTER-RESTART": 1} {
		if c := strings.Count(body, want); c != n {
			t.Errorf("%q appears %d times in the prompt after the restart, want %d:\n%s", want, c, n, body)
		}
	}
}
