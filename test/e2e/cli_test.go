package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// runPal runs the binary with args in dir, with only the given environment (plus PATH and
// private HOME, state and cache directories), and returns its exit code and output.
func runPal(t *testing.T, dir string, env []string, args ...string) (int, string, string) {
	t.Helper()
	return runPalHome(t, dir, t.TempDir(), env, args...)
}

// runPalHome is runPal with the given home directory, so that state (the trust store) carries
// from one run to the next.
func runPalHome(t *testing.T, dir, home string, env []string, args ...string) (int, string, string) {
	t.Helper()
	seedCacheKey(t, filepath.Join(home, "state"))
	cmd := exec.Command(palBin, args...)
	cmd.Dir = dir
	cmd.Env = homeEnv(home, filepath.Join(home, "state"), env...)
	cmd.Stdin = strings.NewReader("")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

func TestCLIServeWithoutKey(t *testing.T) {
	code, out, errOut := runPal(t, t.TempDir(), nil, "serve")
	if code == 0 {
		t.Fatal("pal serve without a provider key exited 0")
	}
	if out != "" {
		t.Errorf("wrote to stdout: %q", out)
	}
	for _, v := range []string{"GEMINI_API_KEY", "OPENAI_API_KEY"} {
		if !strings.Contains(errOut, v) {
			t.Errorf("stderr does not name %s:\n%s", v, errOut)
		}
	}
}

func TestCLIUnknownConfigKey(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "pal.toml")
	if err := os.WriteFile(cfg, []byte("[limits]\ncall_timeout = \"1m\"\ncall_timout = \"2m\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"OPENAI_API_KEY=" + apiKey}
	for _, args := range [][]string{{"serve"}, {"serve", "-config", cfg}, {"tools", "-config", cfg}} {
		code, out, errOut := runPal(t, dir, env, args...)
		if code == 0 || out != "" {
			t.Errorf("%v: exit %d, stdout %q", args, code, out)
		}
		for _, want := range []string{cfg, "limits.call_timout", "unknown key", `"limits.call_timeout"`} {
			if !strings.Contains(errOut, want) {
				t.Errorf("%v: stderr lacks %q:\n%s", args, want, errOut)
			}
		}
	}
}

func TestCLITools(t *testing.T) {
	code, out, errOut := runPal(t, t.TempDir(), []string{"OPENAI_API_KEY=" + apiKey}, "tools")
	if code != 0 {
		t.Fatalf("pal tools: exit %d\n%s", code, errOut)
	}
	// Each tool is a line "name  summary" and an indented line "grant: caps".
	names := func(out string) (names []string, grants map[string]string) {
		grants = map[string]string{}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		for i := 0; i+1 < len(lines); i += 2 {
			name, _, _ := strings.Cut(lines[i], " ")
			names = append(names, name)
			grants[name] = strings.TrimPrefix(strings.TrimSpace(lines[i+1]), "grant: ")
		}
		return names, grants
	}
	got, grants := names(out)
	for _, want := range []string{"chat", "listmodels", "version", "codereview", "secaudit"} {
		if !slices.Contains(got, want) {
			t.Errorf("pal tools does not list %s: %q", want, out)
		}
	}
	if grants["listmodels"] != "model.list" || !strings.Contains(grants["chat"], "model.generate") {
		t.Errorf("grants %v", grants)
	}
	if !strings.Contains(out, "List the models this server can consult") {
		t.Errorf("no summary for listmodels:\n%s", out)
	}
	if strings.Contains(out+errOut, apiKey) {
		t.Error("pal tools printed the key")
	}
	// DISABLED_TOOLS removes chat; version and listmodels cannot be disabled.
	_, out, _ = runPal(t, t.TempDir(), []string{"OPENAI_API_KEY=" + apiKey, "DISABLED_TOOLS=chat,version"}, "tools")
	if got, _ = names(out); slices.Contains(got, "chat") || !slices.Contains(got, "listmodels") || !slices.Contains(got, "version") {
		t.Errorf("with DISABLED_TOOLS=chat,version: %q", out)
	}
}

func TestCLIVersionAndUnknownCommand(t *testing.T) {
	code, out, _ := runPal(t, t.TempDir(), nil, "version")
	if code != 0 || !strings.HasPrefix(out, "pal ") || strings.Count(out, "\n") != 1 {
		t.Fatalf("pal version: exit %d, %q", code, out)
	}
	code, out, errOut := runPal(t, t.TempDir(), nil, "frobnicate")
	if code != 2 || out != "" || !strings.Contains(errOut, `unknown command "frobnicate"`) || !strings.Contains(errOut, "usage:") {
		t.Fatalf("unknown command: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
