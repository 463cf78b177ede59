package e2e

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// callPal runs `pal call` in the workspace with the server's environment (serverEnv: key,
// loopback provider, DEFAULT_MODEL) plus extra, and returns its exit code and output.
func callPal(t *testing.T, w *workspace, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(palBin, append([]string{"call"}, args...)...)
	cmd.Dir = w.root
	cmd.Env = env
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// pal call runs one tool through the server's own code path: the loopback provider answers
// with the host's key, the path policy refuses what it refuses for a client, both are
// audited, an isError result exits 1 with its message on stderr, and without a key the
// degraded server's message is what the user sees.
func TestPalCall(t *testing.T) {
	w := newWorkspace(t)
	p := newProvider(t)
	env := serverEnv(w, p)

	code, out, errOut := callPal(t, w, env, "chat", "--args", `{"prompt":"what does calc.go do?","absolute_file_paths":["`+filepath.Join(w.root, "src", "calc.go")+`"]}`)
	if code != 0 || !strings.Contains(out, "answer number 1 from the loopback model") {
		t.Fatalf("chat: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	reqs := p.requests()
	if len(reqs) != 1 || reqs[0].Auth != "Bearer "+apiKey || !strings.Contains(reqs[0].Body, "MARKER-IN-ROOT-42") {
		t.Fatalf("provider requests: %+v", reqs)
	}

	// The flags may come first; .env is refused as it is for a client, before any provider call.
	code, out, errOut = callPal(t, w, env, "-args", `{"prompt":"read it","absolute_file_paths":["`+filepath.Join(w.root, ".env")+`"]}`, "chat")
	if code != 1 || out != "" || !strings.Contains(errOut, ".env") {
		t.Fatalf(".env: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if strings.Contains(errOut, `"status":"error"`) {
		t.Errorf("the error was not unwrapped for the shell: %s", errOut)
	}
	if n := len(p.requests()); n != 1 {
		t.Fatalf("the provider was called for a refused request (%d requests)", n)
	}
	var denied, allowed bool
	for _, rec := range auditRecords(t, w) {
		if path, _ := rec["path"].(string); rec["op"] == "fs.read" && rec["decision"] == "deny" && strings.HasSuffix(path, "/.env") {
			denied = true
		}
		if rec["op"] == "tools/call" && rec["decision"] == "allow" && rec["tool"] == "chat" {
			allowed = true
		}
	}
	if !denied || !allowed {
		t.Errorf("audit log lacks the chat call (%v) or the .env denial (%v): %v", allowed, denied, auditRecords(t, w))
	}

	// Arguments the schema refuses, an unknown tool, a bad -args: errors, never a call.
	if code, _, errOut := callPal(t, w, env, "chat", "-args", `{"nope":1}`); code != 1 || !strings.Contains(errOut, "invalid arguments") {
		t.Errorf("bad arguments: exit %d, %s", code, errOut)
	}
	if code, _, errOut := callPal(t, w, env, "nosuch"); code != 1 || !strings.Contains(errOut, `no tool "nosuch"`) || !strings.Contains(errOut, "chat") {
		t.Errorf("unknown tool: exit %d, %s", code, errOut)
	}
	if code, _, errOut := callPal(t, w, env, "chat", "-args", `[1]`); code != 2 || !strings.Contains(errOut, "JSON object") {
		t.Errorf("-args not an object: exit %d, %s", code, errOut)
	}
	// -json prints the whole CallToolResult.
	code, out, _ = callPal(t, w, env, "version", "-json")
	var res struct {
		Content []struct{ Type, Text string } `json:"content"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res.Content) == 0 || !strings.Contains(res.Content[0].Text, "pal call") {
		t.Errorf("version -json: exit %d, %s", code, out)
	}

	// No key: the degraded server's message, on stderr, once, exit 1.
	noKey := homeEnv(w.stateDir, filepath.Join(w.stateDir, "state"))
	code, out, errOut = callPal(t, w, noKey, "version")
	if code != 1 || out != "" || !strings.Contains(errOut, "no model provider is configured") || !strings.Contains(errOut, "OPENAI_API_KEY") {
		t.Fatalf("degraded: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if n := strings.Count(errOut, "no model provider is configured"); n != 1 {
		t.Errorf("the degraded message was printed %d times:\n%s", n, errOut)
	}
	for _, s := range []string{out, errOut} {
		if strings.Contains(s, apiKey) {
			t.Fatal("pal call printed the key")
		}
	}
}
