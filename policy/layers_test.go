package policy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// keyCase gives, for one key, a base value (what the system file sets), a wider one and a
// narrower-or-equal one, as TOML values. "@" stands for a scratch directory.
type keyCase struct {
	base, wider, narrower string
	// env, when set, is an environment assignment that widens the base value.
	env string
}

func keyCases() map[string]keyCase {
	cases := map[string]keyCase{
		"paths.roots":               {`["@/a"]`, `["@/b"]`, `["@/a/sub"]`, ""},
		"paths.deny":                {`[".env*", "secret*"]`, `[".env*"]`, `[".env*", "secret*", "x*"]`, ""},
		"paths.extra_deny":          {`["x*"]`, `[]`, `["x*", "y*"]`, ""},
		"paths.max_file_bytes":      {`1000`, `2000`, `500`, ""},
		"paths.max_list_entries":    {`100`, `200`, `50`, ""},
		"paths.max_depth":           {`4`, `8`, `2`, ""},
		"paths.max_image_bytes":     {`1000`, `2000`, `500`, ""},
		"paths.allow_hard_links":    {`false`, `true`, `false`, ""},
		"paths.client_roots":        {`"narrow"`, `"off"`, `"narrow"`, ""},
		"tools.enabled":             {`["chat", "debug"]`, `["chat", "debug", "planner"]`, `["chat"]`, ""},
		"tools.disabled":            {`["debug"]`, `[]`, `["debug", "planner"]`, ""},
		"tools.<name>.capabilities": {`["fs.read", "model.generate"]`, `["fs.read", "model.generate", "fs.list"]`, `["model.generate"]`, ""},
		"limits.call_timeout":       {`"1m"`, `"2m"`, `"30s"`, ""},
		"limits.memory_mb":          {`64`, `128`, `32`, ""},
		"limits.output_bytes":       {`1000`, `2000`, `500`, ""},
		"limits.heartbeat_interval": {`"10s"`, `"1s"`, `"10s"`, ""},
		"limits.prompt_chars":       {`1000`, `2000`, `500`, "MAX_MCP_OUTPUT_TOKENS=100000"},
		// limits.go's budgets; thread sizes stay apart so that total >= per thread holds.
		"limits.host_calls":             {`100000`, `200000`, `50000`, ""},
		"limits.read_bytes":             {`100000`, `200000`, `50000`, ""},
		"limits.read_files":             {`100000`, `200000`, `50000`, ""},
		"limits.provider_calls":         {`10000`, `20000`, `5000`, ""},
		"limits.progress_notifications": {`100000`, `200000`, `50000`, ""},
		"limits.audit_bytes":            {`100000`, `200000`, `50000`, ""},
		"limits.thread_bytes":           {`100000`, `200000`, `50000`, ""},
		"limits.threads_total_bytes":    {`33554432`, `67108864`, `16777216`, ""},
		"limits.waiting_requests":       {`100`, `200`, `50`, ""},
		"limits.concurrent_calls":       {`10`, `20`, `5`, ""},
		"providers.default_model":       {`"model-a"`, `"model-b"`, `"model-a"`, "DEFAULT_MODEL=model-b"},
		"memory.ttl":                    {`"1h"`, `"2h"`, `"30m"`, "CONVERSATION_TIMEOUT_HOURS=2"},
		"memory.max_turns":              {`10`, `20`, `5`, "MAX_CONVERSATION_TURNS=20"},
		"memory.path":                   {`"@/threads.db"`, `"@/other.db"`, `"@/threads.db"`, ""},
		"memory.backend":                {`"redis"`, `"local"`, `"redis"`, ""},
		"memory.redis.addr":             {`"redis.corp.internal:6379"`, `"attacker.invalid:6379"`, `"redis.corp.internal:6379"`, ""},
		"memory.redis.username":         {`"pal"`, `"other"`, `"pal"`, ""},
		"memory.redis.password_env":     {`"CORP_REDIS_PASSWORD"`, `"OTHER_PASSWORD"`, `"CORP_REDIS_PASSWORD"`, ""},
		"memory.redis.password_file":    {`"@/key1"`, `"@/key2"`, `"@/key1"`, ""},
		"memory.redis.db":               {`1`, `2`, `1`, ""},
		"memory.redis.prefix":           {`"team-a:"`, `"team-b:"`, `"team-a:"`, ""},
		"memory.redis.tls":              {`true`, `false`, `true`, ""},
		"memory.redis.tls_ca_file":      {`"@/key1"`, `"@/key2"`, `"@/key1"`, ""},
		"audit.path":                    {`"@/audit.jsonl"`, `"@/other.jsonl"`, `"@/audit.jsonl"`, ""},
		"audit.enabled":                 {`true`, `false`, `true`, ""},
		"audit.max_bytes":               {`1048576`, `2097152`, `1048576`, ""},
		"audit.keep":                    {`3`, `1`, `3`, ""},
		"redaction.enabled":             {`true`, `false`, `true`, ""},
		"redaction.rules": {`[{id = "r1", regex = "r1_[0-9]+"}]`, `[]`,
			`[{id = "r1", regex = "r1_[0-9]+"}, {id = "r2", regex = "r2_[0-9]+"}]`, ""},
		"cache.dir":         {`"@/cache"`, `"@/cache2"`, `"@/cache"`, ""},
		"modules":           {`"` + strings.Repeat("a", 64) + `"`, `"` + strings.Repeat("b", 64) + `"`, `"` + strings.Repeat("a", 64) + `"`, ""},
		"user_modules.dir":  {`"@/mods"`, `"@/mods2"`, `"@/mods"`, ""},
		"user_modules.pins": {`{"m.wasm" = "` + strings.Repeat("a", 64) + `"}`, `{"m.wasm" = "` + strings.Repeat("b", 64) + `"}`, `{"m.wasm" = "` + strings.Repeat("a", 64) + `"}`, ""},
		"cli":               {`"/usr/bin/true"`, `"/usr/bin/false"`, `"/usr/bin/true"`, ""},
		"locked":            {`true`, `false`, `true`, ""},
		// [http]: trusted-only; a project file may not open the port wider or loosen auth.
		"http.token_file":              {`"@/key1"`, `"@/key2"`, `"@/key1"`, ""},
		"http.token_env":               {`"PAL_TOKEN"`, `"OTHER_TOKEN"`, `"PAL_TOKEN"`, ""},
		"http.allowed_hosts":           {`["a.example", "b.example"]`, `["a.example", "b.example", "evil.example"]`, `["a.example"]`, ""},
		"http.allowed_origins":         {`["https://a.example"]`, `["https://a.example", "https://evil.example"]`, `["https://a.example"]`, ""},
		"http.tls_cert":                {`"@/key1"`, `"@/key2"`, `"@/key1"`, ""},
		"http.tls_key":                 {`"@/key1"`, `"@/key2"`, `"@/key1"`, ""},
		"http.max_body_bytes":          {`100000`, `200000`, `50000`, ""},
		"http.rate_per_minute":         {`100`, `200`, `50`, ""},
		"http.concurrent_per_client":   {`4`, `8`, `2`, ""},
		"http.session_ttl":             {`"10m"`, `"20m"`, `"5m"`, ""},
		"http.sessions_per_client":     {`10`, `20`, `5`, ""},
		"providers.openai.base_url":    {`"https://llm.corp.internal/v1"`, `"https://attacker.invalid/v1"`, `"https://llm.corp.internal/v1"`, ""},
		"providers.openai.api_key_env": {`"CORP_OPENAI_KEY"`, `"OTHER_KEY"`, `"CORP_OPENAI_KEY"`, ""},
	}
	envNames := map[string]struct{ allowed, baseURL, version, catalog string }{
		"google":     {"GOOGLE_ALLOWED_MODELS", "GEMINI_BASE_URL", "", "GEMINI_MODELS_CONFIG_PATH"},
		"openai":     {"OPENAI_ALLOWED_MODELS", "", "", "OPENAI_MODELS_CONFIG_PATH"},
		"azure":      {"AZURE_OPENAI_ALLOWED_MODELS", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_VERSION", "AZURE_MODELS_CONFIG_PATH"},
		"xai":        {"XAI_ALLOWED_MODELS", "", "", "XAI_MODELS_CONFIG_PATH"},
		"dial":       {"DIAL_ALLOWED_MODELS", "DIAL_API_HOST", "DIAL_API_VERSION", "DIAL_MODELS_CONFIG_PATH"},
		"custom":     {"CUSTOM_ALLOWED_MODELS", "CUSTOM_API_URL", "", "CUSTOM_MODELS_CONFIG_PATH"},
		"openrouter": {"OPENROUTER_ALLOWED_MODELS", "", "", "OPENROUTER_MODELS_CONFIG_PATH"},
		"anthropic":  {"ANTHROPIC_ALLOWED_MODELS", "ANTHROPIC_BASE_URL", "", "ANTHROPIC_MODELS_CONFIG_PATH"},
	}
	for _, p := range ProviderNames {
		k := "providers." + p + "."
		e := envNames[p]
		withEnv := func(name, value string) string {
			if name == "" {
				return ""
			}
			return name + "=" + value
		}
		cases[k+"api_key_env"] = keyCase{`"CORP_KEY"`, `"OTHER_KEY"`, `"CORP_KEY"`, ""}
		cases[k+"api_key_file"] = keyCase{`"@/key1"`, `"@/key2"`, `"@/key1"`, ""}
		cases[k+"base_url"] = keyCase{`"https://llm.corp.internal/v1"`, `"https://attacker.invalid/v1"`, `"https://llm.corp.internal/v1"`,
			withEnv(e.baseURL, "https://attacker.invalid/v1")}
		cases[k+"api_version"] = keyCase{`"v1"`, `"v2"`, `"v1"`, withEnv(e.version, "v2")}
		cases[k+"models_config"] = keyCase{`"@/models1.json"`, `"@/models2.json"`, `"@/models1.json"`, withEnv(e.catalog, "/elsewhere/models.json")}
		cases[k+"allowed_models"] = keyCase{`["m1", "m2"]`, `["m1", "m2", "m3"]`, `["m1"]`, withEnv(e.allowed, "m1,m2,m3")}
		cases[k+"disabled"] = keyCase{`true`, `false`, `true`, ""}
	}
	return cases
}

// tomlFor writes key = value as a TOML document.
func tomlFor(key, value string) string {
	switch {
	case key == "locked":
		return "locked = " + value + "\n"
	case key == "cli":
		return "[[cli]]\nname = \"agent\"\nexecutable = " + value + "\n"
	case key == "modules":
		return "[[modules]]\npath = \"/srv/pal/m.wasm\"\nsha256 = " + value + "\n"
	case key == "tools.<name>.capabilities":
		return "[tools.chat]\ncapabilities = " + value + "\n"
	}
	i := strings.LastIndexByte(key, '.')
	return "[" + key[:i] + "]\n" + key[i+1:] + " = " + value + "\n"
}

// scratch makes the directories and files the cases name.
func scratch(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"a/sub", "b", "work"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"key1", "key2"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("k\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func writeLayer(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// testSources returns Sources confined to dir: no real system or user file is read.
func testSources(dir string, env map[string]string) Sources {
	return Sources{
		SystemFile: filepath.Join(dir, "system", "pal.toml"),
		UserFile:   filepath.Join(dir, "user", "pal.toml"),
		WorkDir:    filepath.Join(dir, "work"),
		Getenv:     func(k string) string { return env[k] },
		Trust:      &TrustStore{Path: filepath.Join(dir, "state", "trusted.json")},
	}
}

func TestEveryKeyHasARuleAndACase(t *testing.T) {
	cases := keyCases()
	for _, k := range knownKeys {
		if strings.Contains(k, "<name>") && k != "tools.<name>.capabilities" {
			continue
		}
		if _, ok := ruleFor(k); ok {
			if _, ok := cases[k]; !ok {
				t.Errorf("key %s has a rule but no test case", k)
			}
			continue
		}
		// Tables (paths, providers.openai, ...) hold keys; they are not keys themselves.
		isTable := slices.ContainsFunc(keyRules, func(r keyRule) bool { return strings.HasPrefix(r.key, k+".") })
		if !isTable {
			t.Errorf("key %s has no rule in keyRules: decide whether it may be set by an untrusted project and what widening means", k)
		}
	}
	for k := range cases {
		if _, ok := ruleFor(k); !ok {
			t.Errorf("test case for %s, which has no rule", k)
		}
	}
}

// TestLockedValuesCannotBeWidened: for every key, a locked system value is a ceiling that the
// user file, the config file, the environment and a (trusted) project file cannot widen, while
// an equal or narrower value is accepted.
func TestLockedValuesCannotBeWidened(t *testing.T) {
	for key, kc := range keyCases() {
		if key == "locked" {
			continue
		}
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			dir := scratch(t)
			at := func(v string) string { return strings.ReplaceAll(v, "@", dir) }
			layers := []struct {
				name string
				set  func(src *Sources, env map[string]string, content string)
			}{
				{LayerUser, func(src *Sources, _ map[string]string, content string) {
					writeLayer(t, src.UserFile, content)
				}},
				{LayerConfig, func(src *Sources, _ map[string]string, content string) {
					src.ConfigFile = writeLayer(t, filepath.Join(dir, "cfg", "pal.toml"), content)
				}},
				{LayerProject, func(src *Sources, _ map[string]string, content string) {
					p := writeLayer(t, filepath.Join(src.WorkDir, "pal.toml"), content)
					if _, err := src.Trust.Trust(p); err != nil {
						t.Fatal(err)
					}
				}},
			}
			for _, layer := range layers {
				for _, tc := range []struct {
					value string
					ok    bool
				}{{kc.wider, false}, {kc.narrower, true}} {
					env := map[string]string{}
					src := testSources(dir, env)
					writeLayer(t, src.SystemFile, "locked = true\n"+tomlFor(key, at(kc.base)))
					layer.set(&src, env, tomlFor(key, at(tc.value)))
					_, err := LoadLayers(src)
					if tc.ok {
						if err != nil {
							t.Errorf("%s: %s = %s under the lock: %v", layer.name, key, tc.value, err)
						}
						continue
					}
					if !errors.Is(err, ErrLocked) {
						t.Errorf("%s: widening %s to %s: err = %v, want ErrLocked", layer.name, key, tc.value, err)
						continue
					}
					msg := err.Error()
					for _, want := range []string{key, layer.name, src.SystemFile} {
						if key == "tools.<name>.capabilities" && want == key {
							want = "tools.<name>.capabilities"
						}
						if !strings.Contains(msg, want) {
							t.Errorf("%s: message lacks %q: %s", layer.name, want, msg)
						}
					}
				}
				os.RemoveAll(filepath.Join(dir, "user"))
				os.RemoveAll(filepath.Join(dir, "work", "pal.toml"))
			}
			if kc.env != "" {
				name, value, _ := strings.Cut(kc.env, "=")
				env := map[string]string{name: value}
				src := testSources(dir, env)
				writeLayer(t, src.SystemFile, "locked = true\n"+tomlFor(key, at(kc.base)))
				_, err := LoadLayers(src)
				if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), LayerEnv) {
					t.Errorf("environment %s: err = %v, want ErrLocked naming the variable", kc.env, err)
				}
			}
			// Without the lock, the same widening from a trusted layer is accepted.
			src := testSources(dir, map[string]string{})
			writeLayer(t, src.SystemFile, tomlFor(key, at(kc.base)))
			writeLayer(t, src.UserFile, tomlFor(key, at(kc.wider)))
			if _, err := LoadLayers(src); err != nil {
				t.Errorf("unlocked system file, user widens %s: %v", key, err)
			}
		})
	}
}

// TestUntrustedProjectMayOnlyNarrow plants a pal.toml for every key in a project directory:
// keys only trusted layers may set are refused whatever their value, the others are refused
// when they widen; `pal trust` makes the same file acceptable, and a change after trust makes
// it untrusted again.
func TestUntrustedProjectMayOnlyNarrow(t *testing.T) {
	for key, kc := range keyCases() {
		if key == "locked" {
			continue
		}
		r, _ := ruleFor(key)
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			dir := scratch(t)
			at := func(v string) string { return strings.ReplaceAll(v, "@", dir) }
			src := testSources(dir, map[string]string{})
			// The trusted base: system file sets the base value; roots default to the work dir,
			// so for paths.roots the base is set by the system file too.
			writeLayer(t, src.SystemFile, tomlFor(key, at(kc.base)))
			project := filepath.Join(src.WorkDir, "pal.toml")

			values := []struct {
				value string
				ok    bool
			}{{kc.wider, false}, {kc.narrower, r.project}}
			for _, v := range values {
				writeLayer(t, project, tomlFor(key, at(v.value)))
				_, err := LoadLayers(src)
				if v.ok {
					if err != nil {
						t.Errorf("untrusted narrowing %s = %s refused: %v", key, v.value, err)
					}
					continue
				}
				if !errors.Is(err, ErrUntrusted) {
					t.Fatalf("untrusted %s = %s: err = %v, want ErrUntrusted", key, v.value, err)
				}
				for _, want := range []string{key, project, "pal trust " + src.WorkDir} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("message lacks %q: %v", want, err)
					}
				}
			}

			// After pal trust, the widening file is accepted...
			writeLayer(t, project, tomlFor(key, at(kc.wider)))
			if _, err := src.Trust.Trust(src.WorkDir); err != nil {
				t.Fatal(err)
			}
			cfg, err := LoadLayers(src)
			if err != nil {
				t.Fatalf("trusted project file refused: %v", err)
			}
			if got := cfg.Origins[originKey(key)]; !strings.HasPrefix(got, LayerProject+" ") {
				t.Errorf("origin of %s = %q, want the project file", key, got)
			}
			// ...until it changes.
			writeLayer(t, project, tomlFor(key, at(kc.wider))+"# edited\n")
			if _, err := LoadLayers(src); !errors.Is(err, ErrUntrusted) {
				t.Errorf("project file changed after trust: err = %v, want ErrUntrusted", err)
			}
			// Revoking trust makes the original untrusted too.
			writeLayer(t, project, tomlFor(key, at(kc.wider)))
			if _, err := LoadLayers(src); err != nil {
				t.Errorf("restored trusted file refused: %v", err)
			}
			if ok, err := src.Trust.Revoke(project); err != nil || !ok {
				t.Fatalf("Revoke = %v, %v", ok, err)
			}
			if _, err := LoadLayers(src); !errors.Is(err, ErrUntrusted) {
				t.Errorf("after revoke: err = %v, want ErrUntrusted", err)
			}
		})
	}
}

func originKey(key string) string {
	if key == "tools.<name>.capabilities" {
		return "tools.chat.capabilities"
	}
	return key
}

// A project file may narrow a tool it has no table for only by a limit: the limit never grants.
func TestUntrustedToolTableOnlyTakesAway(t *testing.T) {
	dir := scratch(t)
	src := testSources(dir, nil)
	writeLayer(t, filepath.Join(src.WorkDir, "pal.toml"), "[tools.chat]\ncapabilities = [\"fs.read\", \"progress\"]\n[tools.wordcount]\ncapabilities = [\"fs.read\"]\n")
	cfg, err := LoadLayers(src)
	if err != nil {
		t.Fatal(err)
	}
	if g := cfg.Grant("chat", []Capability{CapFSRead, CapModelGenerate}, true); g != NewCapSet(CapFSRead) {
		t.Errorf("chat grant = %v, want {fs.read}", g)
	}
	// A tool from another module gets nothing without a trusted table, whatever the project says.
	if g := cfg.Grant("wordcount", []Capability{CapFSRead}, false); !g.Empty() {
		t.Errorf("untrusted table granted %v to a module tool", g)
	}
}

func TestLockedOnlyInSystemFile(t *testing.T) {
	dir := scratch(t)
	src := testSources(dir, nil)
	writeLayer(t, src.UserFile, "locked = true\n")
	if _, err := LoadLayers(src); err == nil || !strings.Contains(err.Error(), "only the system file") {
		t.Errorf("locked in the user file: %v", err)
	}
}

// A config file that is the user file (PAL_CONFIG pointing at ~/.config/pal/pal.toml) applies
// once: its warnings appear once (issue 11: start-up warnings printed twice).
func TestConfigFileSameAsUserFileAppliesOnce(t *testing.T) {
	dir := scratch(t)
	src := testSources(dir, nil)
	writeLayer(t, src.UserFile, "[tools]\ndisabled = [\"version\"]\n")
	src.ConfigFile = src.UserFile
	cfg, err := LoadLayers(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "cannot be disabled") {
		t.Errorf("warnings %q, want the one warning once", cfg.Warnings)
	}
	if got, want := cfg.Origins["tools.disabled"], LayerUser+" "+src.UserFile; got != "" && got != want {
		t.Errorf("origin %q", got)
	}
}

func TestOriginsNameTheLayer(t *testing.T) {
	dir := scratch(t)
	env := map[string]string{"DEFAULT_MODEL": "m-env"}
	src := testSources(dir, env)
	writeLayer(t, src.SystemFile, "[limits]\nmemory_mb = 100\n")
	writeLayer(t, src.UserFile, "[paths]\nmax_depth = 3\n")
	writeLayer(t, filepath.Join(src.WorkDir, "pal.toml"), "[paths]\nmax_file_bytes = 10\n")
	cfg, err := LoadLayers(src)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"limits.memory_mb":        LayerSystem + " " + src.SystemFile,
		"paths.max_depth":         LayerUser + " " + src.UserFile,
		"providers.default_model": LayerEnv + " DEFAULT_MODEL",
		"paths.max_file_bytes":    LayerProject + " " + filepath.Join(src.WorkDir, "pal.toml"),
	} {
		if got := cfg.Origins[key]; got != want {
			t.Errorf("origin of %s = %q, want %q", key, got, want)
		}
	}
}

// A module manifest cannot widen a locked tool ceiling: whatever a tool declares, its grant
// stays within the locked [tools.<name>] table.
func TestManifestCannotWidenLockedCeiling(t *testing.T) {
	dir := scratch(t)
	src := testSources(dir, nil)
	writeLayer(t, src.SystemFile, "locked = true\n[tools.chat]\ncapabilities = [\"model.generate\"]\n")
	cfg, err := LoadLayers(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, builtin := range []bool{true, false} {
		g := cfg.Grant("chat", AllCapabilities, builtin)
		if g != NewCapSet(CapModelGenerate) {
			t.Errorf("builtin=%v: grant = %v, want {model.generate}", builtin, g)
		}
	}
}

// When the real system file is locked, another system file may not replace it.
func TestSystemFileFlagRefusedWhenLocked(t *testing.T) {
	dir := scratch(t)
	real := writeLayer(t, filepath.Join(dir, "etc", "pal.toml"), "locked = true\n[limits]\nmemory_mb = 64\n")
	old := realSystemFile
	realSystemFile = real
	t.Cleanup(func() { realSystemFile = old })
	src := testSources(dir, nil)
	writeLayer(t, src.SystemFile, "[limits]\nmemory_mb = 4096\n")
	if _, err := LoadLayers(src); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), real) {
		t.Errorf("replacing a locked system file: %v", err)
	}
	// Unlocked, the replacement is fine; and naming the real file itself is fine.
	writeLayer(t, real, "[limits]\nmemory_mb = 64\n")
	if _, err := LoadLayers(src); err != nil {
		t.Errorf("replacing an unlocked system file: %v", err)
	}
	// A system file that exists but cannot be parsed counts as locked.
	writeLayer(t, real, "locked = \n")
	if _, err := LoadLayers(src); !errors.Is(err, ErrLocked) {
		t.Errorf("replacing an unreadable system file: %v", err)
	}
}

// An untrusted project may add redaction rules (that only narrows), but not so many or so large
// that every read, prompt and log line pays for them.
func TestUntrustedProjectCannotFloodRedactionRules(t *testing.T) {
	dir := scratch(t)
	src := testSources(dir, nil)
	var b strings.Builder
	for i := range MaxRedactionRules + 1 {
		fmt.Fprintf(&b, "[[redaction.rules]]\nid = \"r%d\"\nregex = 'x%d[a-z]+'\n", i, i)
	}
	writeLayer(t, filepath.Join(src.WorkDir, "pal.toml"), b.String())
	if _, err := LoadLayers(src); err == nil || !strings.Contains(err.Error(), "redaction.rules") {
		t.Errorf("%d rules from a project file: %v", MaxRedactionRules+1, err)
	}
	writeLayer(t, filepath.Join(src.WorkDir, "pal.toml"), "[[redaction.rules]]\nid = \"big\"\nregex = '"+strings.Repeat("a", MaxRedactionRegexBytes+1)+"'\n")
	if _, err := LoadLayers(src); err == nil || !strings.Contains(err.Error(), "regex is") {
		t.Errorf("an oversized regex from a project file: %v", err)
	}
	writeLayer(t, filepath.Join(src.WorkDir, "pal.toml"), "[[redaction.rules]]\nid = \"ok\"\nregex = 'acme_[a-z0-9]{32}'\nkeywords = [\"acme_\"]\n")
	if _, err := LoadLayers(src); err != nil {
		t.Errorf("one narrowing rule from a project file: %v", err)
	}
}

// pal policy check's view of a project file under a locked system file: a narrowing file is
// accepted (it was refused, because the check named another system file, which the lock
// forbids), and a file that widens a locked key is refused for the lock.
func TestCheckProjectFileUnderLockedSystemFile(t *testing.T) {
	dir := scratch(t)
	real := writeLayer(t, filepath.Join(dir, "etc", "pal.toml"), "locked = true\n[limits]\nmemory_mb = 64\n")
	old := realSystemFile
	realSystemFile = real
	t.Cleanup(func() { realSystemFile = old })
	project := filepath.Join(dir, "work", "pal.toml")
	writeLayer(t, project, "[limits]\nmemory_mb = 32\n")
	if err := CheckProjectFile(project); err != nil {
		t.Errorf("a narrowing project file under the lock: %v", err)
	}
	writeLayer(t, project, "[limits]\nmemory_mb = 128\n")
	if err := CheckProjectFile(project); !errors.Is(err, ErrUntrusted) && !errors.Is(err, ErrLocked) {
		t.Errorf("a widening project file under the lock: %v", err)
	}
	writeLayer(t, project, "[memory]\npath = \"/tmp/x.db\"\n")
	if err := CheckProjectFile(project); !errors.Is(err, ErrUntrusted) {
		t.Errorf("a trusted-only key: %v, want ErrUntrusted", err)
	}
	// With no system file, the defaults are the base.
	realSystemFile = filepath.Join(dir, "etc", "missing.toml")
	writeLayer(t, project, "[limits]\nmemory_mb = 64\n")
	if err := CheckProjectFile(project); err != nil {
		t.Errorf("a narrowing project file, no system file: %v", err)
	}
}
