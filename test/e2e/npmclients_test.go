package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/internal/testwasm"
)

// clientsDir is test/clients, where `make clients` installs the npm clients.
func clientsDir(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "clients")
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is not on PATH; the npm clients need node 20 or later (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err != nil {
		t.Fatalf("the npm clients are not installed; run `make clients` (npm ci in %s)", dir)
	}
	return dir
}

// npmEnv is the environment pal gets from the npm clients: they pass only HOME LOGNAME PATH
// SHELL TERM USER and what the configuration lists, so everything else is listed here.
func npmEnv(t *testing.T, w *workspace, p *provider, withKey bool) map[string]string {
	env := map[string]string{
		"HOME":           w.stateDir,
		"XDG_CACHE_HOME": cacheDir,
		"XDG_STATE_HOME": filepath.Join(w.stateDir, "state"),
	}
	for _, kv := range testwasm.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	if withKey {
		env["OPENAI_API_KEY"] = apiKey
		env["OPENAI_BASE_URL"] = p.srv.URL + "/v1"
		env["DEFAULT_MODEL"] = "gpt-5.2"
	}
	return env
}

// inspector runs the MCP Inspector CLI against pal serve in dir and returns its exit code,
// stdout and stderr (its exit codes: 0 ok, 1 error such as "Connection closed", 5 isError).
func inspector(t *testing.T, clients, dir string, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	cli := []string{filepath.Join(clients, "node_modules", ".bin", "mcp-inspector"), "--cli"}
	for k, v := range env {
		cli = append(cli, "-e", k+"="+v)
	}
	cli = append(cli, "--cwd", dir, palBin, "serve")
	cmd := exec.Command(cli[0], append(cli[1:], args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MCP_INSPECTOR_SECRET_STORE=memory")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), stdout.String(), stderr.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, stdout.String(), stderr.String()
}

// probeResult is what test/clients/probe.mjs prints.
type probeResult struct {
	Tools        []string `json:"tools"`
	IsError      bool     `json:"isError"`
	Text         string   `json:"text"`
	Thrown       string   `json:"thrown"`
	Progress     []any    `json:"progress"`
	LateProgress int      `json:"lateProgress"`
	Errors       []string `json:"errors"`
	Logs         []struct {
		Level, Logger string
		Data          any
	} `json:"logs"`
}

// probe runs the TypeScript SDK client script against pal serve in dir.
func probe(t *testing.T, clients, dir string, env map[string]string, tool, args string) probeResult {
	t.Helper()
	cmd := exec.Command("node", filepath.Join(clients, "probe.mjs"), palBin, tool, args)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, "PAL_PROBE_ENV_"+k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("probe.mjs: %v\n%s", err, stderr.String())
	}
	var r probeResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("probe.mjs output %q: %v", out, err)
	}
	return r
}

// TestNPMClients drives the binary with the two npm clients users have: the MCP Inspector CLI
// lists and calls tools, the TypeScript SDK client does the same with a progress callback; with
// no key configured, both show pal's message, not "Connection closed".
func TestNPMClients(t *testing.T) {
	clients := clientsDir(t)
	w := newWorkspace(t)
	p := newProvider(t)

	t.Run("inspector", func(t *testing.T) {
		env := npmEnv(t, w, p, true)
		code, out, errOut := inspector(t, clients, w.root, env, "--method", "tools/list", "--strict", "-q", "--format", "json")
		if code != 0 || !strings.Contains(out, `"name":"chat"`) {
			t.Fatalf("tools/list: exit %d\n%s\n%s", code, out, errOut)
		}
		code, out, errOut = inspector(t, clients, w.root, env, "--method", "tools/call", "--tool-name", "chat",
			"--tool-arg", "prompt=hello from the inspector", "-q", "--format", "json")
		if code != 0 || !strings.Contains(out, "from the loopback model") {
			t.Fatalf("tools/call chat: exit %d\n%s\n%s", code, out, errOut)
		}
	})

	t.Run("typescript sdk", func(t *testing.T) {
		r := probe(t, clients, w.root, npmEnv(t, w, p, true), "chat", `{"prompt":"hello from the TypeScript SDK"}`)
		if r.Thrown != "" || r.IsError || !strings.Contains(r.Text, "from the loopback model") {
			t.Fatalf("chat: %+v", r)
		}
		if len(r.Tools) == 0 {
			t.Errorf("no tools listed")
		}
		// Every progress notification pal sent reached the client: the callback saw it, or the
		// SDK reported it as arriving with the result (its handlers run after the response's).
		if len(r.Progress)+r.LateProgress == 0 {
			t.Errorf("no progress reached the client: %+v", r)
		}
		if len(r.Errors) > 0 {
			t.Errorf("client errors: %v", r.Errors)
		}
		if strings.Contains(r.Text, apiKey) {
			t.Errorf("the key reached the client")
		}
	})

	t.Run("no key", func(t *testing.T) {
		env := npmEnv(t, w, p, false)
		want := []string{"pal cannot serve tools", "no model provider is configured", "GEMINI_API_KEY"}

		code, out, errOut := inspector(t, clients, w.root, env, "--method", "tools/list", "-q", "--format", "json")
		if code != 0 || !strings.Contains(out, `"name":"chat"`) {
			t.Fatalf("tools/list without a key: exit %d\n%s\n%s", code, out, errOut)
		}
		code, out, errOut = inspector(t, clients, w.root, env, "--method", "tools/call", "--tool-name", "chat",
			"--tool-arg", "prompt=hello", "-q", "--format", "json")
		if code != 5 || strings.Contains(out+errOut, "Connection closed") {
			t.Errorf("inspector tools/call without a key: exit %d, want 5 (tool error)\n%s\n%s", code, out, errOut)
		}
		for _, s := range want {
			if !strings.Contains(out, s) {
				t.Errorf("inspector output lacks %q:\n%s", s, out)
			}
		}

		r := probe(t, clients, w.root, env, "chat", `{"prompt":"hello"}`)
		if r.Thrown != "" || !r.IsError {
			t.Fatalf("TypeScript SDK without a key: %+v", r)
		}
		for _, s := range want {
			if !strings.Contains(r.Text, s) {
				t.Errorf("TypeScript SDK result lacks %q:\n%s", s, r.Text)
			}
		}
		logged := false
		for _, l := range r.Logs {
			if d, _ := l.Data.(string); l.Level == "error" && strings.Contains(d, "pal cannot serve tools") {
				logged = true
			}
		}
		if !logged {
			t.Errorf("the TypeScript SDK client got no error log message: %+v", r.Logs)
		}
	})
}
