package policy

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "pal.toml")
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestDefault(t *testing.T) {
	c := Default()
	checks := []struct {
		name      string
		got, want any
	}{
		{"roots", len(c.Paths.Roots), 0},
		{"deny", c.Paths.Deny, DefaultDeny},
		{"max_file_bytes", c.Paths.MaxFileBytes, int64(1_000_000)},
		{"max_list_entries", c.Paths.MaxListEntries, 2000},
		{"max_depth", c.Paths.MaxDepth, 8},
		{"call_timeout", c.Limits.CallTimeout.Duration, 10 * time.Minute},
		{"memory_mb", c.Limits.MemoryMB, 256},
		{"output_bytes", c.Limits.OutputBytes, int64(4 << 20)},
		{"prompt_chars", c.Limits.PromptChars, 60_000},
		{"default_model", c.Providers.DefaultModel, "auto"},
		{"ttl", c.Memory.TTL.Duration, 3 * time.Hour},
		{"max_turns", c.Memory.MaxTurns, 50},
		{"audit enabled", c.Audit.Enabled, true},
		{"audit path", strings.HasSuffix(c.Audit.Path, filepath.Join("pal", "audit.jsonl")), true},
		{"cache dir", filepath.Base(c.Cache.Dir), "pal"},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	// Default returns a fresh copy each time.
	c.Paths.Deny[0] = "changed"
	if Default().Paths.Deny[0] != DefaultDeny[0] {
		t.Error("Default shares the deny slice")
	}
}

func TestDefaultAuditPathFollowsXDG(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/var/state-test")
	if got := Default().Audit.Path; got != "/var/state-test/pal/audit.jsonl" {
		t.Fatalf("audit path = %q", got)
	}
	t.Setenv("XDG_STATE_HOME", "relative/ignored")
	if got := Default().Audit.Path; strings.Contains(got, "relative") {
		t.Fatalf("relative XDG_STATE_HOME used: %q", got)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		wantErr error
		key     string   // the dotted key the message must name
		want    []string // further substrings of the message
		never   []string // substrings the message must not hold
	}{
		{name: "unknown key", content: "[paths]\nrooots = [\"/x\"]\n", wantErr: ErrUnknownKey,
			key: "paths.rooots", want: []string{`did you mean "paths.roots"`}},
		{name: "unknown table", content: "[pathz]\nroots = []\n", wantErr: ErrUnknownKey, key: "pathz"},
		{name: "unknown top-level key", content: "lockd = true\n", wantErr: ErrUnknownKey, key: "lockd"},
		{name: "unknown provider", content: "[providers.mistral]\nbase_url = \"https://x\"\n", wantErr: ErrUnknownKey, key: "providers.mistral"},
		{name: "upper-case key", content: "[Paths]\nmax_depth = 3\n", wantErr: ErrUnknownKey, key: "Paths"},
		{name: "wrong type", content: "[paths]\nmax_depth = \"8\"\n", wantErr: ErrInvalidValue, key: "paths.max_depth",
			want: []string{"incompatible types"}},
		{name: "wrong type in list", content: "[paths]\nroots = [1]\n", wantErr: ErrInvalidValue, key: "paths.roots"},
		{name: "api_key literal", content: "[providers.openai]\napi_key = \"sk-test-1234567890abcdef\"\n",
			wantErr: ErrKeyLiteral, key: "providers.openai.api_key", want: []string{"api_key_env", "api_key_file"},
			never: []string{"sk-test", "1234567890"}},
		{name: "api_key literal unquoted", content: "[providers.gemini]\n[providers.google]\napi_key = AIzaSyExampleExample123\n",
			wantErr: ErrKeyLiteral, key: "providers.google.api_key", never: []string{"AIza"}},
		{name: "api_key at top of providers", content: "[providers]\napi_key = \"sk-abcdefgh12345678\"\n",
			wantErr: ErrKeyLiteral, key: "providers.api_key", never: []string{"sk-abc"}},
		{name: "key pasted into api_key_env", content: "[providers.openai]\napi_key_env = \"sk-proj-abcdef123456\"\n",
			wantErr: ErrInvalidValue, key: "providers.openai.api_key_env", never: []string{"sk-proj", "abcdef123456"}},
		{name: "lower-case key pasted into api_key_env", content: "[providers.google]\napi_key_env = \"AIzaSyExampleKey0123456789\"\n",
			wantErr: ErrInvalidValue, key: "providers.google.api_key_env", never: []string{"AIzaSy"}},
		{name: "both key sources", content: "[providers.xai]\napi_key_env = \"X\"\napi_key_file = \"/k\"\n",
			wantErr: ErrInvalidValue, key: "providers.xai", want: []string{"not both"}},
		{name: "base_url with password", content: "[providers.custom]\nbase_url = \"http://me:hunter22secret@localhost:11434/v1\"\n",
			wantErr: ErrInvalidValue, key: "providers.custom.base_url", never: []string{"hunter22secret"}},
		{name: "base_url scheme", content: "[providers.custom]\nbase_url = \"ftp://host\"\n", wantErr: ErrInvalidValue, key: "providers.custom.base_url"},
		{name: "base_url no host", content: "[providers.custom]\nbase_url = \"http://\"\n", wantErr: ErrInvalidValue, key: "providers.custom.base_url"},
		{name: "bad duration text", content: "[limits]\ncall_timeout = \"10 minutes\"\n", wantErr: ErrInvalidValue,
			key: "limits.call_timeout", want: []string{`"10 minutes"`}},
		{name: "duration as number", content: "[limits]\ncall_timeout = 600\n", wantErr: ErrInvalidValue,
			key: "limits.call_timeout", want: []string{"duration string"}},
		{name: "negative duration", content: "[memory]\nttl = \"-1h\"\n", wantErr: ErrInvalidValue, key: "memory.ttl"},
		{name: "zero max_depth", content: "[paths]\nmax_depth = 0\n", wantErr: ErrInvalidValue, key: "paths.max_depth"},
		{name: "huge max_depth", content: "[paths]\nmax_depth = 1000\n", wantErr: ErrInvalidValue, key: "paths.max_depth"},
		{name: "negative file cap", content: "[paths]\nmax_file_bytes = -1\n", wantErr: ErrInvalidValue, key: "paths.max_file_bytes"},
		{name: "zero entries", content: "[paths]\nmax_list_entries = 0\n", wantErr: ErrInvalidValue, key: "paths.max_list_entries"},
		{name: "bad deny glob", content: "[paths]\ndeny = [\"[x\"]\n", wantErr: ErrInvalidValue, key: "paths.deny"},
		{name: "bad extra deny glob", content: "[paths]\nextra_deny = [\"/abs\"]\n", wantErr: ErrInvalidValue, key: "paths.extra_deny"},
		{name: "empty root", content: "[paths]\nroots = [\"\"]\n", wantErr: ErrInvalidValue, key: "paths.roots"},
		{name: "tilde user", content: "[paths]\nroots = [\"~bob/x\"]\n", wantErr: ErrInvalidValue, key: "paths.roots"},
		{name: "memory too big", content: "[limits]\nmemory_mb = 5000\n", wantErr: ErrInvalidValue, key: "limits.memory_mb"},
		{name: "zero output", content: "[limits]\noutput_bytes = 0\n", wantErr: ErrInvalidValue, key: "limits.output_bytes"},
		{name: "zero prompt", content: "[limits]\nprompt_chars = 0\n", wantErr: ErrInvalidValue, key: "limits.prompt_chars"},
		{name: "empty default model", content: "[providers]\ndefault_model = \" \"\n", wantErr: ErrInvalidValue, key: "providers.default_model"},
		{name: "zero turns", content: "[memory]\nmax_turns = 0\n", wantErr: ErrInvalidValue, key: "memory.max_turns"},
		{name: "unknown capability", content: "[tools.chat]\ncapabilities = [\"fs.write\"]\n", wantErr: ErrInvalidValue,
			key: "tools.chat.capabilities", want: []string{`"fs.write"`, "fs.read"}},
		{name: "misspelled capabilities", content: "[tools.chat]\ncapabilites = [\"fs.read\"]\n",
			key: "tools.chat.capabilites", want: []string{`did you mean "capabilities"`}},
		{name: "capabilities not a list", content: "[tools.chat]\ncapabilities = \"fs.read\"\n",
			key: "tools.chat.capabilities", want: []string{"array of strings"}},
		{name: "bad tool name", content: "[tools.\"Chat Tool\"]\ncapabilities = []\n", key: `tools."Chat Tool"`},
		{name: "bad disabled name", content: "[tools]\ndisabled = [\"a b\"]\n", wantErr: ErrInvalidValue, key: "tools.disabled"},
		{name: "syntax error", content: "[paths\n", wantErr: ErrConfigSyntax},
		{name: "tools not a table", content: "tools = 3\n", key: "tools"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := writeConfig(t, tc.content)
			c, err := Load(file)
			if err == nil {
				t.Fatalf("Load accepted %q: %+v", tc.content, c)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v is not %v", err, tc.wantErr)
			}
			msg := err.Error()
			if !strings.Contains(msg, file) {
				t.Errorf("error %q does not name the file", msg)
			}
			if tc.key != "" && !strings.Contains(msg, tc.key) {
				t.Errorf("error %q does not name key %q", msg, tc.key)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			for _, n := range tc.never {
				if strings.Contains(msg, n) {
					t.Errorf("error %q repeats %q", msg, n)
				}
			}
		})
	}
}

func TestLoadValues(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "openai.key")
	if err := os.WriteFile(keyFile, []byte("  sk-from-file-123456\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "conf", "pal.toml")
	mkfile(t, file, `
[paths]
roots = ["proj", "/abs/root", "~/code"]
extra_deny = ["*.secret"]
max_file_bytes = 2_000
max_list_entries = 10
max_depth = 3

[tools]
enabled = ["Chat", " thinkdeep "]
disabled = ["version", "debug"]

[tools.chat]
capabilities = ["fs.read", "model.generate"]

[tools.locked]
capabilities = []

[limits]
call_timeout = "90s"
memory_mb = 128
output_bytes = 1024
prompt_chars = 500

[providers]
default_model = "flash"

[providers.openai]
api_key_file = "../openai.key"
allowed_models = [" O3 ", "", "gpt-5"]

[providers.azure]
api_key_env = "MY_AZURE_KEY"
base_url = "https://example.openai.azure.com"
api_version = "2024-10-21"
models_config = "azure.json"
disabled = true

[memory]
ttl = "24h"
max_turns = 40

[audit]
path = "audit/log.jsonl"
enabled = false

[cache]
dir = "~/.pal-cache"
`)
	c, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	home, _ := os.UserHomeDir()
	confDir := filepath.Join(dir, "conf")
	wantRoots := []string{filepath.Join(confDir, "proj"), "/abs/root", filepath.Join(home, "code")}
	checks := []struct {
		name      string
		got, want any
	}{
		{"roots", c.Paths.Roots, wantRoots},
		{"deny kept", c.Paths.Deny, DefaultDeny},
		{"deny globs", c.Paths.DenyGlobs(), append(slices.Clone(DefaultDeny), "*.secret")},
		{"caps", c.Paths.Caps(), Caps{MaxFileBytes: 2000, MaxListEntries: 10, MaxDepth: 3, MaxImageBytes: DefaultMaxImageBytes}},
		{"enabled", c.Tools.Enabled, []string{"chat", "thinkdeep"}},
		{"disabled", c.Tools.Disabled, []string{"debug"}},
		{"chat caps", c.Tools.Tool["chat"].Capabilities, []Capability{CapFSRead, CapModelGenerate}},
		{"locked caps", c.Tools.Tool["locked"].Capabilities, []Capability{}},
		{"timeout", c.Limits.CallTimeout.Duration, 90 * time.Second},
		{"limits", []any{c.Limits.MemoryMB, c.Limits.OutputBytes, c.Limits.PromptChars}, []any{128, int64(1024), 500}},
		{"default model", c.Providers.DefaultModel, "flash"},
		{"key file", c.Providers.OpenAI.APIKeyFile, keyFile},
		{"allowed", c.Providers.OpenAI.AllowedModels, []string{"o3", "gpt-5"}},
		{"azure", c.Providers.Azure, ProviderConfig{APIKeyEnv: "MY_AZURE_KEY", BaseURL: "https://example.openai.azure.com",
			APIVersion: "2024-10-21", ModelsConfig: filepath.Join(confDir, "azure.json"), Disabled: true}},
		{"memory", []any{c.Memory.TTL.Duration, c.Memory.MaxTurns}, []any{24 * time.Hour, 40}},
		{"audit", c.Audit, AuditConfig{Path: filepath.Join(confDir, "audit", "log.jsonl"), Enabled: false,
			MaxBytes: DefaultAuditMaxBytes, Keep: DefaultAuditKeep}},
		{"cache", c.Cache.Dir, filepath.Join(home, ".pal-cache")},
		{"sources", c.Sources, []string{file}},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %#v\nwant %#v", ch.name, ch.got, ch.want)
		}
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], `"version" cannot be disabled`) {
		t.Errorf("warnings = %q", c.Warnings)
	}

	key, err := c.APIKey("openai", func(string) string { t.Error("env read despite key file"); return "" })
	if err != nil || key != "sk-from-file-123456" {
		t.Errorf("APIKey(openai) = %q, %v", key, err)
	}
	env := map[string]string{"MY_AZURE_KEY": "azure-key-0123456789", "GEMINI_API_KEY": " g-key-0123456789 "}
	key, err = c.APIKey("azure", func(k string) string { return env[k] })
	if err != nil || key != "azure-key-0123456789" {
		t.Errorf("APIKey(azure) = %q, %v", key, err)
	}
	key, err = c.APIKey("google", func(k string) string { return env[k] })
	if err != nil || key != "g-key-0123456789" {
		t.Errorf("APIKey(google) = %q, %v", key, err)
	}
	if _, err := c.APIKey("xai", func(k string) string { return env[k] }); !errors.Is(err, ErrNoKey) ||
		!strings.Contains(err.Error(), "XAI_API_KEY") {
		t.Errorf("APIKey(xai) = %v, want ErrNoKey naming XAI_API_KEY", err)
	}
	if _, err := c.APIKey("nope", os.Getenv); err == nil {
		t.Error("unknown provider accepted")
	}
}

func TestKeyFilePermissions(t *testing.T) {
	if !keyFileModeMatters {
		t.Skip("no mode bits here")
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "k")
	const secret = "sk-perm-test-abcdef123456"
	if err := os.WriteFile(keyFile, []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	file := writeConfig(t, "[providers.openai]\napi_key_file = \""+keyFile+"\"\n")
	_, err := Load(file)
	if !errors.Is(err, ErrInvalidValue) || !strings.Contains(err.Error(), "providers.openai.api_key_file") ||
		!strings.Contains(err.Error(), "0644") || strings.Contains(err.Error(), secret) {
		t.Fatalf("Load with a 0644 key file = %v", err)
	}
	if err := os.Chmod(keyFile, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	// Loosened after loading: APIKey checks again.
	if err := os.Chmod(keyFile, 0o640); err != nil {
		t.Fatal(err)
	}
	if key, err := c.APIKey("openai", os.Getenv); err == nil || key != "" || strings.Contains(err.Error(), secret) {
		t.Fatalf("APIKey with a 0640 key file = %q, %v", key, err)
	}
	if err := os.Chmod(keyFile, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.APIKey("openai", os.Getenv); !errors.Is(err, ErrNoKey) {
		t.Fatalf("APIKey with an empty key file = %v", err)
	}
	missing := writeConfig(t, "[providers.openai]\napi_key_file = \"/nonexistent/key\"\n")
	if _, err := Load(missing); !errors.Is(err, ErrInvalidValue) {
		t.Fatalf("missing key file: %v", err)
	}
}

func TestLoadFileLeavesConfigOnError(t *testing.T) {
	c := Default()
	before := c.clone()
	bad := writeConfig(t, "[paths]\nmax_depth = 3\n[tools.chat]\ncapabilities = [\"fs.read\"]\n[limits]\nmemory_mb = 0\n")
	if err := c.LoadFile(bad); err == nil {
		t.Fatal("accepted memory_mb = 0")
	}
	if !reflect.DeepEqual(c, before) {
		t.Fatalf("config changed by a failed LoadFile:\n%+v\n%+v", c, before)
	}
}

func TestLoadFileLayers(t *testing.T) {
	c := Default()
	first := writeConfig(t, "[paths]\nmax_depth = 3\nextra_deny = [\"*.a\"]\n[tools.chat]\ncapabilities = [\"fs.read\"]\n")
	second := writeConfig(t, "[paths]\nextra_deny = [\"*.b\"]\n[tools.debug]\ncapabilities = []\n")
	if err := c.LoadFile(first); err != nil {
		t.Fatal(err)
	}
	if err := c.LoadFile(second); err != nil {
		t.Fatal(err)
	}
	if c.Paths.MaxDepth != 3 || !slices.Equal(c.Paths.ExtraDeny, []string{"*.b"}) ||
		c.Tools.Tool["chat"].Capabilities == nil || c.Tools.Tool["debug"].Capabilities == nil || len(c.Sources) != 2 {
		t.Fatalf("layered config = %+v", c)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.toml"))
	if err == nil || !strings.Contains(err.Error(), "absent.toml") {
		t.Fatalf("Load(missing) = %v", err)
	}
}

func TestEmptyDenyWarns(t *testing.T) {
	c, err := Load(writeConfig(t, "[paths]\ndeny = []\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Paths.Deny) != 0 || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "paths.deny is empty") {
		t.Fatalf("deny=%v warnings=%q", c.Paths.Deny, c.Warnings)
	}
}

// TestShippedPalToml loads the documented default configuration twice: as shipped (every key
// commented out, so it must equal Default) and with every key uncommented (so that each
// documented key exists in the schema and each documented default is the real one).
func TestShippedPalToml(t *testing.T) {
	shipped := filepath.Join("..", "pal.toml")
	data, err := os.ReadFile(shipped)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(shipped)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	c.Sources, c.Origins = nil, nil
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("shipped pal.toml is not the default:\n%+v\n%+v", c, want)
	}

	// Settings are commented with a bare "#" ("#max_depth = 8", "#[tools.chat]", and the
	// continuation lines of a list, "#  \"...\"" and "#]"); prose uses "# ".
	setting := regexp.MustCompile(`^#(?:[a-z\[\]]|  ")`)
	var out []string
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		if setting.MatchString(line) {
			line = line[1:]
			n++
		}
		out = append(out, line)
	}
	if n < 30 {
		t.Fatalf("only %d commented keys found in pal.toml", n)
	}
	file := writeConfig(t, strings.Join(out, "\n"))
	c, err = Load(file)
	if err != nil {
		t.Fatalf("uncommented pal.toml: %v", err)
	}
	// Paths that the file spells relative to itself or with ~ are resolved; compare the rest.
	want = Default()
	c.Sources, c.Origins, c.Audit.Path, c.Cache.Dir = nil, nil, want.Audit.Path, want.Cache.Dir
	c.Tools.Tool = map[string]ToolPolicy{}
	for _, name := range ProviderNames {
		pc, wp := c.Providers.Provider(name), want.Providers.Provider(name)
		if pc.APIKeyEnv != defaultKeyEnv[name] && pc.APIKeyEnv != "" {
			t.Errorf("providers.%s.api_key_env documented as %q, PAL uses %q", name, pc.APIKeyEnv, defaultKeyEnv[name])
		}
		pc.APIKeyEnv = wp.APIKeyEnv
		emptyToNil(reflect.ValueOf(pc))
		if !reflect.DeepEqual(*pc, *wp) {
			t.Errorf("providers.%s documented as %+v, default is %+v", name, *pc, *wp)
		}
	}
	emptyToNil(reflect.ValueOf(c))
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("uncommented pal.toml differs from the default:\n%+v\n%+v", c, want)
	}
}

// emptyToNil sets every empty slice reachable from v to nil, so that "x = []" in a file
// compares equal to an unset default.
func emptyToNil(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			emptyToNil(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				emptyToNil(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Len() == 0 && v.CanSet() {
			v.Set(reflect.Zero(v.Type()))
		}
	}
}

func TestModules(t *testing.T) {
	dir := t.TempDir()
	sum := strings.Repeat("ab", 32)
	write := func(body string) string {
		p := filepath.Join(dir, "pal.toml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c, err := Load(write("[[modules]]\npath = \"mods/x.wasm\"\nsha256 = \"" + sum + "\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Modules) != 1 || c.Modules[0].Path != filepath.Join(dir, "mods", "x.wasm") || c.Modules[0].SHA256 != sum {
		t.Fatalf("modules: %+v", c.Modules)
	}
	if c, err := Load(write("[[modules]]\npath = \"p.wasm\"\nsha256 = \"" + sum + "\"\nabi = \"extism\"\n")); err != nil || c.Modules[0].ABI != ModuleABIExtism {
		t.Fatalf("abi = \"extism\": %v %+v", err, c)
	}
	for body, key := range map[string]string{
		"[[modules]]\npath = \"x.wasm\"\n":                           "modules[0].sha256",
		"[[modules]]\npath = \"x.wasm\"\nsha256 = \"ABC\"\n":         "modules[0].sha256",
		"[[modules]]\nsha256 = \"" + sum + "\"\n":                    "modules[0].path",
		"[[modules]]\npath = \"x\"\nsha256 = \"" + sum + "\"\nx=1\n": "modules",
		// An ABI pal does not implement is refused, not guessed at.
		"[[modules]]\npath = \"x\"\nsha256 = \"" + sum + "\"\nabi = \"wasi\"\n": "modules[0].abi",
	} {
		_, err := Load(write(body))
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.HasPrefix(ce.Key, key) {
			t.Errorf("%q: want an error naming %s, got %v", body, key, err)
		}
	}
}
