package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// trustEnv is a project directory beside a private home, outside each other.
type trustEnv struct {
	project, home, outside string
}

func newTrustEnv(t *testing.T) trustEnv {
	t.Helper()
	base := t.TempDir()
	e := trustEnv{project: filepath.Join(base, "project"), home: filepath.Join(base, "home"), outside: filepath.Join(base, "outside")}
	for _, d := range []string{e.project, e.home, e.outside} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e trustEnv) pal(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	return runPalHome(t, e.project, e.home, append([]string{"OPENAI_API_KEY=" + apiKey}, env...), args...)
}

// TestPlantedProjectConfigIsRefusedUntilTrusted plants a pal.toml in a project for every key a
// repository must not decide: each is refused with a message that names the key, the file and
// pal trust; after pal trust the same file is accepted; after a change it is refused again.
func TestPlantedProjectConfigIsRefusedUntilTrusted(t *testing.T) {
	e := newTrustEnv(t)
	keyFile := filepath.Join(e.outside, "key")
	if err := os.WriteFile(keyFile, []byte("sk-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		key, toml string
	}{
		{"providers.openai.base_url", "[providers.openai]\nbase_url = \"http://127.0.0.1:9/v1\"\n"},
		{"providers.openai.api_key_env", "[providers.openai]\napi_key_env = \"HOME\"\n"},
		{"providers.openai.api_key_file", fmt.Sprintf("[providers.openai]\napi_key_file = %q\n", keyFile)},
		{"providers.openai.api_version", "[providers.openai]\napi_version = \"2099-01-01\"\n"},
		{"audit.path", fmt.Sprintf("[audit]\npath = %q\n", filepath.Join(e.outside, "audit", "a.jsonl"))},
		{"audit.enabled", "[audit]\nenabled = false\n"},
		{"cache.dir", fmt.Sprintf("[cache]\ndir = %q\n", filepath.Join(e.outside, "cache"))},
		{"paths.allow_hard_links", "[paths]\nallow_hard_links = true\n"},
		{"paths.roots", fmt.Sprintf("[paths]\nroots = [%q]\n", e.outside)},
		{"paths.deny", "[paths]\ndeny = []\n"},
		{"limits.memory_mb", "[limits]\nmemory_mb = 1024\n"},
		{"tools.disabled", "[tools]\ndisabled = []\n"},
	}
	project := filepath.Join(e.project, "pal.toml")
	for _, tc := range cases {
		t.Run(tc.key, func(t *testing.T) {
			// A trusted base for the keys an untrusted file may narrow but not widen.
			userFile := filepath.Join(e.home, "config", "pal", "pal.toml")
			os.MkdirAll(filepath.Dir(userFile), 0o700)
			os.WriteFile(userFile, []byte("[tools]\ndisabled = [\"planner\"]\n"), 0o600)
			env := []string{"XDG_CONFIG_HOME=" + filepath.Join(e.home, "config")}

			if err := os.WriteFile(project, []byte(tc.toml), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := e.pal(t, env, "tools")
			if code == 0 {
				t.Fatalf("planted %s accepted:\n%s", tc.key, out)
			}
			for _, want := range []string{tc.key, project, "pal trust " + e.project} {
				if !strings.Contains(errOut, want) {
					t.Errorf("message lacks %q:\n%s", want, errOut)
				}
			}
			if strings.Contains(errOut, apiKey) {
				t.Errorf("the message carries the key")
			}
			if code, out, errOut := e.pal(t, env, "trust"); code != 0 || !strings.Contains(out, project) {
				t.Fatalf("pal trust: exit %d\n%s%s", code, out, errOut)
			}
			if code, _, errOut := e.pal(t, env, "tools"); code != 0 {
				t.Fatalf("trusted file refused: %s", errOut)
			}
			if err := os.WriteFile(project, []byte(tc.toml+"# changed\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if code, _, errOut := e.pal(t, env, "tools"); code == 0 || !strings.Contains(errOut, "pal trust") {
				t.Fatalf("changed file accepted (exit %d): %s", code, errOut)
			}
			if code, out, _ := e.pal(t, env, "trust", "-revoke"); code != 0 || !strings.Contains(out, "no longer trusted") {
				t.Errorf("pal trust -revoke: exit %d %s", code, out)
			}
		})
	}
}

// TestLockedSystemFileIsACeiling: a locked system file's values cannot be widened by the user
// file, -config, the environment or the project, nor by a client's arguments.
func TestLockedSystemFileIsACeiling(t *testing.T) {
	e := newTrustEnv(t)
	system := filepath.Join(e.outside, "system.toml")
	if err := os.WriteFile(system, []byte("locked = true\n[limits]\nmemory_mb = 64\nprompt_chars = 2000\n"+
		"[providers.openai]\nallowed_models = [\"gpt-5.2\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	userDir := filepath.Join(e.home, "config")
	write := func(path, content string) string {
		t.Helper()
		os.MkdirAll(filepath.Dir(path), 0o700)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	widen := "[limits]\nmemory_mb = 512\n"
	cases := []struct {
		name   string
		env    []string
		args   []string
		layer  string
		source string
	}{
		{"user file", []string{"XDG_CONFIG_HOME=" + userDir}, nil, "user file", write(filepath.Join(userDir, "pal", "pal.toml"), widen)},
		{"-config", nil, []string{"-config", write(filepath.Join(e.outside, "c.toml"), widen)}, "config file", filepath.Join(e.outside, "c.toml")},
		{"PAL_CONFIG", []string{"PAL_CONFIG=" + filepath.Join(e.outside, "c.toml")}, nil, "config file", filepath.Join(e.outside, "c.toml")},
		{"environment", []string{"OPENAI_ALLOWED_MODELS=gpt-5.2,o3"}, nil, "environment", "OPENAI_ALLOWED_MODELS"},
		{"project", nil, nil, "project file", filepath.Join(e.project, "pal.toml")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "project" {
				write(tc.source, widen)
				if code, _, errOut := e.pal(t, nil, "trust"); code != 0 {
					t.Fatal(errOut)
				}
				defer os.Remove(tc.source)
			}
			args := append([]string{"tools", "-system-config", system}, tc.args...)
			code, _, errOut := e.pal(t, tc.env, args...)
			if code == 0 {
				t.Fatal("widening accepted under the lock")
			}
			for _, want := range []string{tc.layer, tc.source, system, "locked"} {
				if !strings.Contains(errOut, want) {
					t.Errorf("message lacks %q:\n%s", want, errOut)
				}
			}
		})
	}
	os.Remove(filepath.Join(userDir, "pal", "pal.toml"))

	// Client arguments stay inside the lock: a model outside allowed_models and a prompt over
	// prompt_chars are refused, and nothing reaches the provider.
	w := newWorkspace(t)
	p := newProvider(t)
	csLocked, _ := startServe(t, w, p, []string{"-system-config", system})
	res, text := callTool(t, csLocked, "chat", map[string]any{"prompt": "hi", "model": "o3"})
	if !res.IsError {
		t.Errorf("model outside the locked allowed_models accepted: %s", text)
	}
	res, text = callTool(t, csLocked, "chat", map[string]any{"prompt": strings.Repeat("x", 3000), "model": "gpt-5.2"})
	if !res.IsError && !strings.Contains(text, "files_required_to_continue") && !strings.Contains(text, "resend_prompt") {
		t.Errorf("prompt over the locked prompt_chars accepted: %s", text)
	}
	if n := len(p.requests()); n != 0 {
		t.Errorf("the provider was called %d times", n)
	}
}

// TestRefusedStartDirectories: started with no explicit root in /, the home directory, a
// directory above it, or a shared directory such as /tmp, pal refuses and says what to do.
func TestRefusedStartDirectories(t *testing.T) {
	e := newTrustEnv(t)
	for _, dir := range []string{"/", e.home, filepath.Dir(e.home), "/tmp", "/var", "/run", "/etc", "/usr"} {
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		code, _, errOut := runPalHome(t, dir, e.home, []string{"OPENAI_API_KEY=" + apiKey}, "tools")
		if code == 0 {
			t.Errorf("started in %s", dir)
			continue
		}
		if !strings.Contains(errOut, "start pal in your project directory") || !strings.Contains(errOut, "roots") {
			t.Errorf("%s: message does not say what to do:\n%s", dir, errOut)
		}
	}
	// A project beneath /tmp is fine.
	if code, _, errOut := e.pal(t, nil, "tools"); code != 0 {
		t.Errorf("project beneath a temp dir refused: %s", errOut)
	}
}

// TestDefaultDenyThroughTheBinary: a file matching each default deny glob is refused by the
// chat tool, and its contents never reach the provider; an ordinary file beside them is read.
func TestDefaultDenyThroughTheBinary(t *testing.T) {
	w := newWorkspace(t)
	p := newProvider(t)
	files := []string{
		".env.local", ".envrc", "infra/terraform.tfstate", "infra/terraform.tfstate.backup", "prod.tfvars",
		".vault-token", ".netrc", ".pgpass", ".npmrc", ".pypirc", ".git-credentials", "credentials.json", "kubeconfig",
		".ssh/config", ".aws/credentials", ".azure/accessTokens.json", ".gnupg/pubring.kbx", ".kube/config",
		".docker/config.json", ".config/gh/hosts.yml", ".config/gcloud/application_default_credentials.json",
		"certs/server.pem", "certs/server.key", "certs/a.p12", "certs/a.pfx", "certs/a.keystore", "certs/a.jks",
		"certs/a.crt", "certs/a.cer", "certs/a.der", "keys/putty.ppk", "keys/id_rsa", "keys/id_ed25519",
	}
	for i, f := range files {
		path := filepath.Join(w.root, f)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(fmt.Sprintf("DENY-CANARY-%02d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cs := start(t, w, p)
	for _, f := range files {
		res, text := callTool(t, cs, "chat", map[string]any{"prompt": "read it", "absolute_file_paths": []string{filepath.Join(w.root, f)}, "model": "gpt-5.2"})
		if !res.IsError || !strings.Contains(text, "deny rule") {
			t.Errorf("%s: not refused by a deny rule: %s", f, text)
		}
	}
	// Positive control: an ordinary file is read and sent.
	res, text := callTool(t, cs, "chat", map[string]any{"prompt": "read it", "absolute_file_paths": []string{filepath.Join(w.root, "src", "calc.go")}, "model": "gpt-5.2"})
	if res.IsError {
		t.Fatalf("ordinary file refused: %s", text)
	}
	reqs := p.requests()
	if len(reqs) != 1 || !strings.Contains(reqs[0].Body, "MARKER-IN-ROOT-42") {
		t.Fatalf("the ordinary file did not reach the provider (%d requests)", len(reqs))
	}
	for _, r := range reqs {
		if strings.Contains(r.Body, "DENY-CANARY-") {
			t.Errorf("a denied file reached the provider")
		}
	}
}

// TestHardLinkRefused: a hard link inside the root to a file outside it is refused.
func TestHardLinkRefused(t *testing.T) {
	w := newWorkspace(t)
	p := newProvider(t)
	link := filepath.Join(w.root, "src", "linked.txt")
	if err := os.Link(filepath.Join(w.outside, "notes.txt"), link); err != nil {
		t.Skipf("hard links not available: %v", err)
	}
	cs := start(t, w, p)
	res, text := callTool(t, cs, "chat", map[string]any{"prompt": "read it", "absolute_file_paths": []string{link}, "model": "gpt-5.2"})
	if !res.IsError || !strings.Contains(text, "hard link") {
		t.Errorf("hard-linked file not refused: %s", text)
	}
	for _, r := range p.requests() {
		if strings.Contains(r.Body, "MARKER-OUTSIDE-99") {
			t.Fatal("the hard-linked file reached the provider")
		}
	}
}

// TestWhereCacheAndAuditLive: a cache dir inside a root, a symlinked one, a group-writable one
// and an audit path that is a symlink are each refused at start.
func TestWhereCacheAndAuditLive(t *testing.T) {
	e := newTrustEnv(t)
	realCache := filepath.Join(e.outside, "real-cache")
	os.MkdirAll(realCache, 0o700)
	linkCache := filepath.Join(e.outside, "link-cache")
	os.Symlink(realCache, linkCache)
	groupCache := filepath.Join(e.outside, "group-cache")
	os.MkdirAll(groupCache, 0o700)
	os.Chmod(groupCache, 0o770)
	victim := filepath.Join(e.outside, "victim.sh")
	os.WriteFile(victim, []byte("#!/bin/sh\n"), 0o600)
	auditDir := filepath.Join(e.outside, "audit")
	os.MkdirAll(auditDir, 0o700)
	os.Symlink(victim, filepath.Join(auditDir, "audit.jsonl"))

	config := func(body string) string {
		p := filepath.Join(e.outside, "cfg-"+fmt.Sprint(len(body))+".toml")
		os.WriteFile(p, []byte(body), 0o600)
		return p
	}
	cases := []struct {
		name, cfg, want string
	}{
		{"cache inside the root", fmt.Sprintf("[cache]\ndir = %q\n", filepath.Join(e.project, ".cache")), "inside a root"},
		{"symlinked cache dir", fmt.Sprintf("[cache]\ndir = %q\n", linkCache), "symbolic link"},
		{"group-writable cache dir", fmt.Sprintf("[cache]\ndir = %q\n", groupCache), "writable"},
		{"audit path is a symlink", fmt.Sprintf("[audit]\npath = %q\n", filepath.Join(auditDir, "audit.jsonl")), "symbolic link"},
		{"audit inside the root", fmt.Sprintf("[audit]\npath = %q\n", filepath.Join(e.project, "audit.jsonl")), "inside a root"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := e.pal(t, nil, "tools", "-config", config(tc.cfg))
			if code == 0 {
				t.Fatal("accepted")
			}
			if !strings.Contains(strings.ToLower(errOut), tc.want) {
				t.Errorf("message lacks %q:\n%s", tc.want, errOut)
			}
		})
	}
	if data, _ := os.ReadFile(victim); string(data) != "#!/bin/sh\n" {
		t.Errorf("the symlink's target was written: %q", data)
	}
	// XDG_CACHE_HOME pointing into the project is refused the same way.
	code, _, errOut := runPalHome(t, e.project, e.home, []string{"OPENAI_API_KEY=" + apiKey, "XDG_CACHE_HOME=" + filepath.Join(e.project, "c")}, "tools")
	if code == 0 || !strings.Contains(errOut, "cache.dir") {
		t.Errorf("cache under the project accepted (exit %d): %s", code, errOut)
	}
}
