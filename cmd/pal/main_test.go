package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/internal/app"
	"github.com/pal-mcp/pal/internal/testwasm"
)

// isolate gives run an empty environment of pal's variables, a working directory without
// pal.toml, and private state and cache directories.
func isolate(t *testing.T) string {
	t.Helper()
	for _, v := range []string{
		"PAL_CONFIG", "DEFAULT_MODEL", "DISABLED_TOOLS", "LOG_LEVEL",
		"GEMINI_API_KEY", "OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "XAI_API_KEY",
		"ANTHROPIC_API_KEY", "DIAL_API_KEY", "OPENROUTER_API_KEY", "CUSTOM_API_URL", "CUSTOM_API_KEY",
	} {
		t.Setenv(v, "")
	}
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(work)
	return work
}

// invoke runs pal with args and returns its exit code, stdout and stderr.
func invoke(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestVersionCommand(t *testing.T) {
	for _, arg := range []string{"version", "--version", "-version"} {
		code, out, errOut := invoke(arg)
		if code != 0 || out != "pal "+app.Version+"\n" || errOut != "" {
			t.Errorf("%s: %d %q %q", arg, code, out, errOut)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"serve", "-h"}, {"tools", "--help"}} {
		code, out, errOut := invoke(args...)
		if code != 0 || !strings.Contains(out, "usage: pal") || errOut != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

func TestBadCommandLines(t *testing.T) {
	cases := []struct {
		args []string
		want []string // in stderr
	}{
		{[]string{"frobnicate"}, []string{`unknown command "frobnicate"`, "usage: pal"}},
		{[]string{"serve", "extra"}, []string{`unexpected argument "extra"`}},
		{[]string{"tools", "extra"}, []string{`unexpected argument "extra"`}},
		{[]string{"--bogus"}, []string{"bogus", "usage: pal"}},
		{[]string{"serve", "-config"}, []string{"config"}},
	}
	for _, tc := range cases {
		code, out, errOut := invoke(tc.args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2", tc.args, code)
		}
		if out != "" {
			t.Errorf("%v: wrote to stdout (the MCP channel): %q", tc.args, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr lacks %q: %s", tc.args, w, errOut)
			}
		}
	}
}

func TestServeWithoutProviderKey(t *testing.T) {
	isolate(t)
	for _, cmd := range []string{"serve", "tools"} {
		code, out, errOut := invoke(cmd)
		if code != 1 {
			t.Fatalf("%s without a key: exit %d, want 1\n%s", cmd, code, errOut)
		}
		if out != "" {
			t.Errorf("%s wrote to stdout: %q", cmd, out)
		}
		for _, v := range []string{"GEMINI_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY", "CUSTOM_API_URL"} {
			if !strings.Contains(errOut, v) {
				t.Errorf("%s: stderr does not name %s: %s", cmd, v, errOut)
			}
		}
	}
}

func TestBadConfigFile(t *testing.T) {
	work := isolate(t)
	t.Setenv("OPENAI_API_KEY", "sk-test-cmd-0123456789")
	const secret = "sk-live-do-not-print-9f8e7d"
	cases := []struct {
		name, toml string
		want       []string
		absent     string
	}{
		{"unknown key", "[paths]\nroots_typo = [\"/tmp\"]\n", []string{"paths.roots_typo", "unknown key"}, ""},
		{"unknown table", "[pathz]\nroots = []\n", []string{"pathz", "unknown key"}, ""},
		{"key literal", "[providers.openai]\napi_key = \"" + secret + "\"\n", []string{"providers.openai.api_key"}, secret},
		{"syntax error", "[paths\n", []string{".toml:2:", "table name"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "custom.toml")
			if err := os.WriteFile(path, []byte(tc.toml), 0o600); err != nil {
				t.Fatal(err)
			}
			// The file can come from -config, from PAL_CONFIG, or from ./pal.toml.
			local := filepath.Join(work, "pal.toml")
			if err := os.WriteFile(local, []byte(tc.toml), 0o600); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(local)
			for _, how := range []struct {
				args []string
				env  string
				file string
			}{
				{[]string{"serve", "-config", path}, "", path},
				{[]string{"tools", "-config", path}, "", path},
				{[]string{"serve"}, path, path},
				{[]string{"serve"}, "", "pal.toml"},
			} {
				t.Setenv("PAL_CONFIG", how.env)
				code, out, errOut := invoke(how.args...)
				if code != 1 || out != "" {
					t.Errorf("%v (PAL_CONFIG=%q): exit %d, stdout %q", how.args, how.env, code, out)
				}
				for _, w := range append([]string{how.file}, tc.want...) {
					if !strings.Contains(errOut, w) {
						t.Errorf("%v (PAL_CONFIG=%q): stderr lacks %q: %s", how.args, how.env, w, errOut)
					}
				}
				if tc.absent != "" && strings.Contains(errOut, tc.absent) {
					t.Errorf("the key written in the file was printed: %s", errOut)
				}
			}
		})
	}
}

func TestMissingConfigFile(t *testing.T) {
	isolate(t)
	missing := filepath.Join(t.TempDir(), "nope.toml")
	code, _, errOut := invoke("serve", "-config", missing)
	if code != 1 || !strings.Contains(errOut, missing) {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
}

func TestPolicyShowNamesOrigins(t *testing.T) {
	work := isolate(t)
	t.Setenv("DEFAULT_MODEL", "flash")
	if err := os.WriteFile(filepath.Join(work, "pal.toml"), []byte("[paths]\nextra_deny = [\"*.sql\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := invoke("policy", "show")
	if code != 0 {
		t.Fatalf("policy show: exit %d %s", code, errOut)
	}
	for _, want := range []string{
		`providers.default_model = "flash"  # environment DEFAULT_MODEL`,
		`paths.extra_deny = ["*.sql"]  # project file ` + filepath.Join(work, "pal.toml"),
		`limits.memory_mb = 256  # default`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("policy show lacks %q:\n%s", want, out)
		}
	}
}

func TestPolicyCheck(t *testing.T) {
	work := isolate(t)
	good := filepath.Join(work, "pal.toml")
	os.WriteFile(good, []byte("[providers.openai]\nbase_url = \"https://llm.corp.internal/v1\"\n"), 0o644)
	code, out, _ := invoke("policy", "check", good)
	if code != 0 || !strings.Contains(out, "valid") || !strings.Contains(out, "would be refused") || !strings.Contains(out, "providers.openai.base_url") {
		t.Errorf("policy check: exit %d\n%s", code, out)
	}
	bad := filepath.Join(work, "bad.toml")
	os.WriteFile(bad, []byte("[paths]\nmax_dept = 3\n"), 0o644)
	if code, _, errOut := invoke("policy", "check", bad); code != 1 || !strings.Contains(errOut, "paths.max_dept") {
		t.Errorf("policy check of a bad file: exit %d %s", code, errOut)
	}
}

func TestPolicyExplain(t *testing.T) {
	work := isolate(t)
	os.WriteFile(filepath.Join(work, ".envrc"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(work, "main.go"), []byte("package main"), 0o644)
	os.WriteFile(filepath.Join(work, "pal.toml"), []byte("[tools]\ndisabled = [\"listmodels\", \"chat\"]\n"), 0o644)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"chat", "fs.read", "main.go"}, 1, `tool "chat" is turned off`},
		{[]string{"version", "fs.read", "main.go"}, 1, "not_granted: tool \"version\" does not declare fs.read"},
		{[]string{"nosuch", "fs.read", "main.go"}, 1, "no module publishes"},
		{[]string{"chat", "rm.rf", "x"}, 2, ""},
	}
	for _, tc := range cases {
		code, out, errOut := invoke(append([]string{"policy", "explain"}, tc.args...)...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("explain %v: exit %d\n%s%s", tc.args, code, out, errOut)
		}
	}
	os.Remove(filepath.Join(work, "pal.toml"))
	code, out, _ := invoke("policy", "explain", "chat", "fs.read", ".envrc")
	if code != 1 || !strings.Contains(out, "\ndenied: ") || !strings.Contains(out, `deny rule ".env*"`) || !strings.Contains(out, "paths.deny") {
		t.Errorf("explain .envrc: exit %d %s", code, out)
	}
	code, out, _ = invoke("policy", "explain", "chat", "fs.read", "main.go")
	if code != 0 || !strings.Contains(out, "allowed") {
		t.Errorf("explain main.go: exit %d %s", code, out)
	}

	// git.* and cli.* are checked too: a repository outside the roots, a program no [[cli]]
	// lists. They were reported as allowed whatever the target.
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"precommit", "git.diff", "."}, 0, "allowed: . resolves to"},
		{[]string{"precommit", "git.status", "/"}, 1, "denied"},
		{[]string{"clink", "cli.run", "gemini"}, 1, `no [[cli]] entry is named "gemini" (0 listed`},
		{[]string{"clink", "cli.list", ""}, 0, "lists the 0 [[cli]] programs"},
	} {
		code, out, errOut := invoke(append([]string{"policy", "explain"}, tc.args...)...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("explain %v: exit %d\n%s%s", tc.args, code, out, errOut)
		}
	}
	cfgFile := filepath.Join(t.TempDir(), "pal.toml")
	os.WriteFile(cfgFile, []byte("[[cli]]\nname = \"lister\"\nexecutable = \"/bin/ls\"\n"), 0o600)
	code, out, errOut := invoke("policy", "explain", "-config", cfgFile, "clink", "cli.run", "lister")
	if code != 0 || !strings.Contains(out, `allowed: [[cli]] "lister" runs /bin/ls`) {
		t.Errorf("explain a listed program: exit %d\n%s%s", code, out, errOut)
	}
}

func TestTrustCommand(t *testing.T) {
	work := isolate(t)
	os.WriteFile(filepath.Join(work, "pal.toml"), []byte("[cache]\ndir = \"/nonexistent/c\"\n"), 0o644)
	if code, out, errOut := invoke("trust"); code != 0 || !strings.Contains(out, "trusted "+filepath.Join(work, "pal.toml")) {
		t.Fatalf("trust: %d %s %s", code, out, errOut)
	}
	if code, out, _ := invoke("trust", "-list"); code != 0 || !strings.Contains(out, filepath.Join(work, "pal.toml")) {
		t.Errorf("trust -list: %d %s", code, out)
	}
	if code, out, _ := invoke("trust", "-revoke", work); code != 0 || !strings.Contains(out, "no longer trusted") {
		t.Errorf("trust -revoke: %d %s", code, out)
	}
	if code, out, _ := invoke("trust", "-list"); code != 0 || out != "" {
		t.Errorf("trust -list after revoke: %d %q", code, out)
	}
	// A file that does not parse is not trusted.
	os.WriteFile(filepath.Join(work, "pal.toml"), []byte("[paths\n"), 0o644)
	if code, _, _ := invoke("trust"); code != 1 {
		t.Errorf("trust of a broken file: exit %d", code)
	}
}

// TestToolsCommand: `pal tools` prints each tool's name and one-line summary, then its grant
// under the policy; a narrowed grant names what is withheld.
func TestToolsCommand(t *testing.T) {
	work := isolate(t)
	t.Setenv("OPENAI_API_KEY", "sk-test-cmd-0123456789")
	cfg := filepath.Join(work, "narrow.toml")
	os.WriteFile(cfg, []byte("[tools]\ndisabled = [\"planner\"]\n\n[tools.chat]\ncapabilities = [\"fs.read\", \"model.generate\"]\n"), 0o644)
	code, out, errOut := invoke("tools", "-config", cfg)
	if code != 0 {
		t.Fatalf("tools: exit %d %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines)%2 != 0 {
		t.Fatalf("want a name line and a grant line per tool:\n%s", out)
	}
	grants := map[string]string{}
	for i := 0; i < len(lines); i += 2 {
		name, summary, _ := strings.Cut(lines[i], " ")
		summary = strings.TrimSpace(summary)
		if name == "" || summary == "" || strings.HasPrefix(lines[i], " ") {
			t.Errorf("line %q: want name and summary", lines[i])
		}
		g := strings.TrimSpace(lines[i+1])
		if !strings.HasPrefix(lines[i+1], " ") || !strings.HasPrefix(g, "grant: ") {
			t.Errorf("line %q: want an indented grant", lines[i+1])
		}
		grants[name] = strings.TrimPrefix(g, "grant: ")
	}
	for name, want := range map[string]string{
		"chat":      "fs.read model.generate (not granted: fs.list thread.read thread.write progress host.info)",
		"challenge": "host.info", // it reads the prompt-size limit
		"version":   "host.info",
	} {
		if grants[name] != want {
			t.Errorf("%s grant %q, want %q", name, grants[name], want)
		}
	}
	if _, ok := grants["planner"]; ok || grants["codereview"] == "" {
		t.Errorf("tools listed: %v", grants)
	}
	if !strings.Contains(out, "codereview ") || !strings.Contains(out, "Review code in steps you do yourself") {
		t.Errorf("codereview's summary is missing:\n%s", out)
	}
}

// LOG_LEVEL with a value pal does not know is reported once, on stderr, and pal serves at INFO.
func TestBadLogLevelWarnsOnce(t *testing.T) {
	isolate(t)
	t.Setenv("OPENAI_API_KEY", "sk-test-cmd-0123456789")
	t.Setenv("LOG_LEVEL", "bogus")
	code, out, errOut := invoke("serve")
	if code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	if n := strings.Count(errOut, `LOG_LEVEL=\"bogus\" is not DEBUG, INFO, WARN or ERROR`); n != 1 {
		t.Errorf("warning printed %d times, want once:\n%s", n, errOut)
	}
	if !strings.Contains(errOut, "level=INFO") {
		t.Errorf("not logging at INFO:\n%s", errOut)
	}
}

// pal doctor names what is missing and never prints a key's value; -online reaches a loopback
// endpoint without sending the key; a directory others can enter fails.
func TestDoctor(t *testing.T) {
	isolate(t)
	code, out, _ := invoke("doctor")
	if code != 1 || !strings.Contains(out, "FAIL  no provider key") || !strings.Contains(out, "GEMINI_API_KEY") {
		t.Fatalf("no key: exit %d\n%s", code, out)
	}
	for _, client := range []string{"Claude Code", "Codex CLI", "Cursor", "Gemini CLI"} {
		if !strings.Contains(out, client) {
			t.Errorf("no snippet for %s", client)
		}
	}

	const secret = "sk-doctor-SECRET-41b7c2"
	var sawKey bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawKey = sawKey || strings.Contains(r.Header.Get("Authorization"), secret)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	t.Setenv("OPENAI_API_KEY", secret)
	t.Setenv("OPENAI_BASE_URL", srv.URL+"/v1")
	code, out, errOut := invoke("doctor", "-online")
	if code != 0 || strings.Contains(out+errOut, secret) || sawKey {
		t.Fatalf("with a key: exit %d, key printed or sent: %v\n%s%s", code, sawKey, out, errOut)
	}
	for _, want := range []string{"ok    openai: key set (OPENAI_API_KEY)", "answers (HTTP 401)", `"OPENAI_API_KEY": "${OPENAI_API_KEY}"`, `env_vars = ["OPENAI_API_KEY"]`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	cache := filepath.Join(os.Getenv("XDG_CACHE_HOME"), "pal")
	if err := os.MkdirAll(cache, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(cache, 0o755)
	if code, out, _ := invoke("doctor"); code != 1 || !strings.Contains(out, "chmod 700 "+cache) {
		t.Errorf("an open cache dir: exit %d\n%s", code, out)
	}
}

// TestToolsCommandFlagsAnEmptyGrant: `pal tools` flags a module tool that declares
// capabilities and is granted none (no [tools.<name>] table), and only that one.
func TestToolsCommandFlagsAnEmptyGrant(t *testing.T) {
	wasm, err := os.ReadFile(testwasm.Build(t, "tools-wasm/testdata/hostile")) // before isolate leaves the repository
	if err != nil {
		t.Fatal(err)
	}
	work := isolate(t)
	t.Setenv("OPENAI_API_KEY", "sk-test-cmd-0123456789")
	mod := filepath.Join(work, "hostile.wasm")
	if err := os.WriteFile(mod, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(wasm)
	cfg := filepath.Join(work, "modules.toml")
	toml := fmt.Sprintf("[[modules]]\npath = %q\nsha256 = %q\n\n[tools.reenter]\ncapabilities = [\"host.info\"]\n", mod, hex.EncodeToString(sum[:]))
	if err := os.WriteFile(cfg, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := invoke("tools", "-config", cfg)
	if code != 0 {
		t.Fatalf("tools: exit %d %s", code, errOut)
	}
	grant := func(tool string) string {
		lines := strings.Split(out, "\n")
		for i, l := range lines {
			if f := strings.Fields(l); len(f) > 0 && f[0] == tool && i+1 < len(lines) {
				return strings.TrimSpace(lines[i+1])
			}
		}
		t.Fatalf("%s not listed:\n%s", tool, out)
		return ""
	}
	if g := grant("hostcall"); !strings.HasPrefix(g, `grant: none (not granted: fs.read fs.list model.generate progress) -- WARNING: tool "hostcall" declares`) ||
		!strings.Contains(g, "[tools.hostcall] capabilities") {
		t.Errorf("hostcall: %s", g)
	}
	for _, tool := range []string{"reenter", "ping", "chat"} {
		if g := grant(tool); strings.Contains(g, "WARNING") {
			t.Errorf("%s flagged: %s", tool, g)
		}
	}
}
