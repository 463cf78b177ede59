package policy

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCLIConfig(t *testing.T) {
	c, err := Load(writeConfig(t, `
[[cli]]
name = "gemini"
executable = "/usr/local/bin/gemini"
args = ["-o", "json"]
allowed_args = ["--model", "flash"]
env = ["PATH", "LANG"]
`))
	if err != nil {
		t.Fatal(err)
	}
	g := c.CLI("gemini")
	if g == nil || g.Timeout.Duration != DefaultCLITimeout || g.OutputBytes != DefaultCLIOutputBytes || len(g.Args) != 2 {
		t.Fatalf("entry: %+v", g)
	}
	if c.CLI("codex") != nil || len(Default().CLIs) != 0 {
		t.Fatal("a CLI that is not configured, or a default one")
	}

	entry := func(extra string) string {
		return "[[cli]]\nname = \"x\"\nexecutable = \"/opt/x\"\n" + extra + "\n"
	}
	for _, tc := range []struct {
		name, content, key, want string
	}{
		{"bad name", "[[cli]]\nname = \"X Y\"\nexecutable = \"/opt/x\"\n", "cli[0].name", "must be 1-32"},
		{"twice", entry("") + entry(""), "cli[1].name", "listed twice"},
		{"relative executable", "[[cli]]\nname = \"x\"\nexecutable = \"bin/x\"\n", "cli[0].executable", "absolute"},
		{"bare name", "[[cli]]\nname = \"x\"\nexecutable = \"gemini\"\n", "cli[0].executable", "no PATH lookup"},
		{"yolo in args", entry(`args = ["--yolo"]`), "cli[0].args", "unsafe_args"},
		{"bypass in allowed_args", entry(`allowed_args = ["--dangerously-bypass-approvals-and-sandbox"]`), "cli[0].allowed_args", "unsafe_args"},
		{"permission mode value", entry(`args = ["--permission-mode=bypassPermissions"]`), "cli[0].args", "sandbox"},
		{"approval mode as a value", entry(`allowed_args = ["yolo"]`), "cli[0].allowed_args", "unsafe_args"},
		{"provider key", entry(`env = ["OPENAI_API_KEY"]`), "cli[0].env", "provider key"},
		{"gemini key", entry(`env = ["GEMINI_API_KEY"]`), "cli[0].env", "provider key"},
		{"bad env name", entry(`env = ["path"]`), "cli[0].env", "not an environment variable name"},
		{"timeout", entry(`timeout = "2h"`), "cli[0].timeout", "at most"},
		{"output", entry(`output_bytes = 100000000`), "cli[0].output_bytes", "must be 1 to"},
		{"working dir", entry(`working_dir = "rel"`), "cli[0].working_dir", "absolute"},
		{"unknown key", entry(`shell = true`), "cli.shell", "unknown key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, tc.content))
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Key != tc.key || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error on %s saying %q", err, tc.key, tc.want)
			}
		})
	}

	// An acknowledged unsafe flag is accepted; a key variable renamed by api_key_env is refused.
	c, err = Load(writeConfig(t, entry(`args = ["--yolo"]`+"\nunsafe_args = [\"--yolo\"]\ntimeout = \"90s\"")))
	if err != nil || c.CLIs[0].Timeout.Duration != 90*time.Second {
		t.Fatalf("acknowledged flag: %v", err)
	}
	_, err = Load(writeConfig(t, "[providers.openai]\napi_key_env = \"CORP_OPENAI\"\n"+entry(`env = ["CORP_OPENAI"]`)))
	if err == nil || !strings.Contains(err.Error(), "provider key") {
		t.Fatalf("renamed key variable: %v", err)
	}
	if !UnsafeArg("--approval-mode=yolo") || UnsafeArg("--model") {
		t.Fatal("UnsafeArg")
	}
}

// TestCLIIsTrustedOnly: an untrusted project file cannot add a program, not even one the
// trusted layers already list.
func TestCLIIsTrustedOnly(t *testing.T) {
	r, ok := ruleFor("cli")
	if !ok || r.project || r.kind != kindEqual {
		t.Fatalf("rule for cli: %+v %v", r, ok)
	}
}
