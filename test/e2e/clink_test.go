package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeCLIScript stands in for an AI CLI: it records its arguments, environment, directory
// and standard input in $FAKE_DIR/run-<pid>, answers in Gemini CLI's JSON, and with --hang
// starts a child (its pid in $FAKE_DIR/child.pid) and waits for it.
const fakeCLIScript = `#!/bin/sh
out="$FAKE_DIR/run-$$"
{
  echo "ARGS:$*"
  env | sed 's/^/ENV:/'
  echo "PWD:$(pwd)"
  echo "STDIN-BEGIN"
  cat
  echo "STDIN-END"
} > "$out.tmp"
mv "$out.tmp" "$out"
if [ "$1" = "--hang" ]; then
  sleep 300 &
  echo $! > "$FAKE_DIR/child.pid"
  wait
fi
printf '{"response": "FAKE-CLI-REPLY from run %s", "stats": {"models": {"fake-model-1": {}}}}\n' "$$"
`

// clinkEnv is a workspace whose trusted config (PAL_CONFIG) lists the fake CLI twice: as
// "gemini" and, with a one-second timeout, as "hang". extra is appended to pal.toml.
type clinkEnv struct {
	w       *workspace
	fakeDir string // where the fake CLI records its runs
	env     []string
}

func newClinkEnv(t *testing.T, extra string) *clinkEnv {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("shell script CLI")
	}
	w := newWorkspace(t)
	bin := filepath.Join(w.outside, "bin")
	fakeDir := t.TempDir()
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(bin, "gemini")
	if err := os.WriteFile(exe, []byte(fakeCLIScript), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(w.outside, "pal.toml")
	toml := `[[cli]]
name = "gemini"
description = "a fake Gemini CLI"
executable = "` + exe + `"
args = ["-o", "json"]
allowed_args = ["--model", "flash"]
env = ["PATH", "FAKE_DIR"]
timeout = "60s"

[[cli]]
name = "hang"
executable = "` + exe + `"
args = ["--hang"]
env = ["PATH", "FAKE_DIR"]
timeout = "1s"
` + extra
	if err := os.WriteFile(conf, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	return &clinkEnv{w: w, fakeDir: fakeDir, env: []string{
		"PAL_CONFIG=" + conf,
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), // the fake CLI is on PATH too
		"FAKE_DIR=" + fakeDir,
		"GEMINI_API_KEY=AIza-GEMINI-KEY-CANARY-31",
		"UNNAMED_CANARY=unnamed-variable-canary-57",
	}}
}

// runs returns the fake CLI's records, in no particular order.
func (c *clinkEnv) runs(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(c.fakeDir, "run-*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, ".tmp") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

type clinkReply struct {
	Status            string         `json:"status"`
	Content           string         `json:"content"`
	Metadata          map[string]any `json:"metadata"`
	ContinuationOffer *struct {
		ContinuationID string `json:"continuation_id"`
	} `json:"continuation_offer"`
}

func decodeClink(t *testing.T, text string) clinkReply {
	t.Helper()
	var r clinkReply
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		t.Fatalf("clink reply is not JSON: %v\n%s", err, text)
	}
	return r
}

// TestClinkRefusedWhenNotEnabled: with no [[cli]] table, and with [[cli]] tables but a
// [tools.clink] grant without cli.run, clink is an isError reply that says why, and nothing
// runs.
func TestClinkRefusedWhenNotEnabled(t *testing.T) {
	t.Run("no [[cli]]", func(t *testing.T) {
		w := newWorkspace(t)
		cs := start(t, w, newProvider(t))
		res, text := callTool(t, cs, "clink", map[string]any{"prompt": "hello"})
		if !res.IsError || !strings.Contains(text, "no [[cli]] program") || !strings.Contains(text, "configured: none") {
			t.Fatalf("isError=%v %s", res.IsError, text)
		}
	})
	t.Run("cli.run not granted", func(t *testing.T) {
		c := newClinkEnv(t, "\n[tools.clink]\ncapabilities = [\"fs.read\", \"thread.read\", \"thread.write\", \"host.info\"]\n")
		cs := start(t, c.w, newProvider(t), c.env...)
		res, text := callTool(t, cs, "clink", map[string]any{"prompt": "hello", "cli_name": "gemini"})
		if !res.IsError || !strings.Contains(text, "does not grant it cli.run") {
			t.Fatalf("isError=%v %s", res.IsError, text)
		}
		if runs := c.runs(t); len(runs) != 0 {
			t.Fatalf("the CLI ran: %v", runs)
		}
	})
}

// TestClinkRunsTheConfiguredCLI: the fake CLI receives the prompt on standard input, its
// fixed and allowed arguments, and only the variables the policy names: no provider key, no
// other variable of pal's environment. An unlisted argument and an unknown CLI are refused
// before anything runs. A second call continues the thread: the CLI sees the first exchange.
func TestClinkRunsTheConfiguredCLI(t *testing.T) {
	c := newClinkEnv(t, "")
	cs := start(t, c.w, newProvider(t), c.env...)
	file := filepath.Join(c.w.root, "src", "calc.go")

	res, text := callTool(t, cs, "clink", map[string]any{"prompt": "FIRST-CLINK-PROMPT: review the adder.", "role": "codereviewer",
		"absolute_file_paths": []string{file}, "args": []string{"--model", "flash"}})
	if res.IsError {
		t.Fatalf("clink: %s", text)
	}
	first := decodeClink(t, text)
	if first.Status != "continuation_available" || first.ContinuationOffer == nil || !strings.HasPrefix(first.Content, "FAKE-CLI-REPLY from run ") ||
		first.Metadata["cli_name"] != "gemini" || first.Metadata["model_used"] != "fake-model-1" || first.Metadata["parser"] != "gemini_json" {
		t.Fatalf("reply: %s", text)
	}
	runs := c.runs(t)
	if len(runs) != 1 {
		t.Fatalf("%d runs", len(runs))
	}
	run := runs[0]
	for _, want := range []string{"ARGS:-o json --model flash", "FIRST-CLINK-PROMPT: review the adder.", "code reviewer", "=== FILE REFERENCES ===",
		file + " (last modified", "PWD:" + c.w.root, "ENV:FAKE_DIR=" + c.fakeDir} {
		if !strings.Contains(run, want) {
			t.Errorf("the CLI did not receive %q:\n%s", want, run)
		}
	}
	if strings.Contains(run, "MARKER-IN-ROOT-42") {
		t.Error("a referenced file's content was sent; clink names files, the agent reads them")
	}
	for _, leak := range []string{apiKey, "GEMINI-KEY-CANARY", "unnamed-variable-canary", "OPENAI_API_KEY", "GEMINI_API_KEY", "PAL_CONFIG"} {
		if strings.Contains(run, leak) {
			t.Errorf("the CLI received %q", leak)
		}
	}
	for _, line := range strings.Split(run, "\n") {
		name, ok := strings.CutPrefix(line, "ENV:")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, "=")
		switch name {
		case "PATH", "FAKE_DIR", "PWD", "SHLVL", "_", "OLDPWD": // named by the policy, or set by sh itself
		default:
			t.Errorf("the CLI received %s, which the policy does not name", name)
		}
	}

	// Refused before anything runs: an argument outside allowed_args, and an unknown CLI.
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"prompt": "x", "args": []string{"--yolo"}}, `"--yolo" is not in the allowed_args`},
		{map[string]any{"prompt": "x", "args": []string{"--model=pro"}}, "allowed_args"},
		{map[string]any{"prompt": "x", "cli_name": "claude"}, "configured: gemini, hang"},
	} {
		res, text := callTool(t, cs, "clink", tc.args)
		if r := decodeClink(t, text); !res.IsError || !strings.Contains(r.Content, tc.want) {
			t.Errorf("%v: isError=%v %s", tc.args, res.IsError, text)
		}
	}
	if n := len(c.runs(t)); n != 1 {
		t.Fatalf("a refused call ran the CLI: %d runs", n)
	}

	// The continuation: the CLI's input holds the first request and the first reply.
	res, text = callTool(t, cs, "clink", map[string]any{"prompt": "SECOND-CLINK-PROMPT: and overflow?",
		"continuation_id": first.ContinuationOffer.ContinuationID})
	if res.IsError {
		t.Fatalf("continued clink: %s", text)
	}
	second := decodeClink(t, text)
	if second.ContinuationOffer == nil || second.ContinuationOffer.ContinuationID != first.ContinuationOffer.ContinuationID {
		t.Fatalf("continued reply: %s", text)
	}
	runs = c.runs(t)
	if len(runs) != 2 {
		t.Fatalf("%d runs", len(runs))
	}
	var later string
	for _, r := range runs {
		if strings.Contains(r, "SECOND-CLINK-PROMPT") {
			later = r
		}
	}
	firstReply, _, _ := strings.Cut(first.Content, "\n")
	for _, want := range []string{"CONVERSATION HISTORY", "FIRST-CLINK-PROMPT", firstReply, "SECOND-CLINK-PROMPT", "ARGS:-o json\n"} {
		if !strings.Contains(later, want) {
			t.Errorf("the continued run lacks %q:\n%s", want, later)
		}
	}
}

// TestClinkHangingCLIIsKilledWithItsChild: a CLI that starts a child and hangs is stopped at
// its timeout with its whole process group; the reply says it timed out.
func TestClinkHangingCLIIsKilledWithItsChild(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	c := newClinkEnv(t, "")
	cs := start(t, c.w, newProvider(t), c.env...)
	res, text := callTool(t, cs, "clink", map[string]any{"prompt": "hang please", "cli_name": "hang"})
	if !res.IsError || !strings.Contains(text, "CLI 'hang' timed out") {
		t.Fatalf("isError=%v %s", res.IsError, text)
	}
	data, err := os.ReadFile(filepath.Join(c.fakeDir, "child.pid"))
	if err != nil {
		t.Fatalf("the CLI did not start its child: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	// The kill is sent before the reply; the kernel may take a moment to reap the child. The
	// child sleeps 300 s, so waiting up to a minute tells a killed child from a live one on a
	// loaded machine too, where a bound of a few seconds would make this a timed test.
	for deadline := time.Now().Add(time.Minute); processAlive(pid) && time.Now().Before(deadline); {
		time.Sleep(30 * time.Millisecond)
	}
	if processAlive(pid) {
		t.Fatalf("the CLI's child %d outlived the timeout", pid)
	}
}

// processAlive reports whether pid is a live (not zombie) process.
func processAlive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || (s[i+2] != 'Z' && s[i+2] != 'X')
}
