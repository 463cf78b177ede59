package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/pal-mcp/pal/internal/app"
	"github.com/pal-mcp/pal/policy"
)

// providerURLs names, per provider, the variable that sets its endpoint and the endpoint used
// when nothing sets it ("" when the provider has none without configuration).
var providerURLs = map[string][2]string{
	"google":     {"GEMINI_BASE_URL", "https://generativelanguage.googleapis.com/"},
	"openai":     {"OPENAI_BASE_URL", "https://api.openai.com/v1"},
	"azure":      {"AZURE_OPENAI_ENDPOINT", ""},
	"xai":        {"XAI_BASE_URL", "https://api.x.ai/v1"},
	"anthropic":  {"ANTHROPIC_BASE_URL", "https://api.anthropic.com/"},
	"dial":       {"DIAL_API_HOST", "https://core.dialx.ai"},
	"custom":     {"CUSTOM_API_URL", ""},
	"openrouter": {"OPENROUTER_BASE_URL", "https://openrouter.ai/api/v1"},
}

// doctor checks what pal needs to serve, without serving: the configuration layers, which
// provider keys are set (names only, never values), with -online whether each configured
// provider's endpoint answers (no key is sent), and the private directories; then it prints
// the client configuration snippets. It exits 1 when something would stop pal serving tools.
func doctor(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var opts app.Options
	fs.StringVar(&opts.ConfigPath, "config", "", "pal.toml to load")
	fs.StringVar(&opts.SystemConfigPath, "system-config", "", "system file")
	online := fs.Bool("online", false, "check that each configured provider answers")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return 0
		}
		fmt.Fprintf(stderr, "pal doctor: %v\n", err)
		return 2
	}
	getenv := os.Getenv
	failed := false
	fail := func(format string, a ...any) { failed = true; fmt.Fprintf(stdout, "FAIL  "+format+"\n", a...) }
	ok := func(format string, a ...any) { fmt.Fprintf(stdout, "ok    "+format+"\n", a...) }
	note := func(format string, a ...any) { fmt.Fprintf(stdout, "--    "+format+"\n", a...) }

	fmt.Fprintf(stdout, "pal %s\n\nconfiguration\n", app.Version)
	_, _, cfg, err := app.LoadConfig(opts)
	if err != nil {
		fail("%v", err)
		cfg = policy.Default()
	} else {
		if len(cfg.Sources) == 0 {
			ok("no pal.toml: built-in defaults and the environment")
		}
		for _, src := range cfg.Sources {
			ok("loaded %s", src)
		}
		for _, w := range cfg.Warnings {
			note("warning: %s", w)
		}
	}

	fmt.Fprintf(stdout, "\nprovider keys (names only)\n")
	var keyed []string // variables holding a key
	for _, name := range policy.ProviderNames {
		key, err := cfg.APIKey(name, getenv)
		switch {
		case err == nil && key != "":
			ok("%s: key set (%s)", name, keySource(cfg, name))
			keyed = append(keyed, name)
		case err != nil && !errors.Is(err, policy.ErrNoKey):
			fail("%s: %v", name, err)
		default:
			note("%s: %s not set", name, cfg.KeyEnv(name))
		}
	}
	if url := strings.TrimSpace(getenv("CUSTOM_API_URL")); url != "" && !contains(keyed, "custom") {
		ok("custom: CUSTOM_API_URL set (no key needed for a local server)")
		keyed = append(keyed, "custom")
	}
	if len(keyed) == 0 {
		fail("no provider key: set at least one of GEMINI_API_KEY, OPENAI_API_KEY, XAI_API_KEY, ANTHROPIC_API_KEY, OPENROUTER_API_KEY, DIAL_API_KEY, AZURE_OPENAI_API_KEY or CUSTOM_API_URL, in the client's env block or in pal.toml")
	}

	if *online {
		fmt.Fprintf(stdout, "\nproviders reachable (-online; no key is sent)\n")
		client := &http.Client{Timeout: 10 * time.Second}
		for _, name := range keyed {
			url := endpoint(cfg, name, getenv)
			if url == "" {
				note("%s: no endpoint configured", name)
				continue
			}
			req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
			if err != nil {
				fail("%s: %s: %v", name, url, err)
				continue
			}
			resp, err := client.Do(req)
			if err != nil {
				fail("%s: %s unreachable: %v", name, url, err)
				continue
			}
			resp.Body.Close()
			ok("%s: %s answers (HTTP %d)", name, url, resp.StatusCode)
		}
	}

	fmt.Fprintf(stdout, "\ndirectories (private: owned by you, mode 0700, no symlink)\n")
	dirs := [][2]string{{"cache.dir", cfg.Cache.Dir}, {"state", policy.StateDir(getenv)}}
	if cfg.Audit.Enabled {
		dirs = append(dirs, [2]string{"audit.path", filepath.Dir(cfg.Audit.Path)})
	}
	if cfg.Memory.Path != "" {
		dirs = append(dirs, [2]string{"memory.path", filepath.Dir(cfg.Memory.Path)})
	}
	for _, d := range dirs {
		if d[1] == "" {
			note("%s: none (set XDG_STATE_HOME or HOME)", d[0])
			continue
		}
		if msg := checkPrivateDir(d[1]); msg != "" {
			fail("%s %s: %s", d[0], d[1], msg)
		} else {
			ok("%s %s", d[0], d[1])
		}
	}

	printSnippets(stdout, keyed, cfg, getenv)
	if failed {
		return 1
	}
	return 0
}

// keySource says where a provider's key comes from: a file or a variable, by name.
func keySource(cfg *policy.Config, name string) string {
	if f := cfg.Providers.Provider(name).APIKeyFile; f != "" {
		return "file " + f
	}
	return cfg.KeyEnv(name)
}

// endpoint is the URL a provider is reached at: pal.toml's base_url, else its variable, else
// its public default.
func endpoint(cfg *policy.Config, name string, getenv func(string) string) string {
	if u := cfg.Providers.Provider(name).BaseURL; u != "" {
		return u
	}
	if u := strings.TrimSpace(getenv(providerURLs[name][0])); u != "" {
		return u
	}
	return providerURLs[name][1]
}

// checkPrivateDir says what is wrong with a directory pal keeps private, "" when nothing is
// (a missing one is made by pal, 0700, when it starts).
func checkPrivateDir(dir string) string {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	switch {
	case err != nil:
		return err.Error()
	case fi.Mode()&fs.ModeSymlink != 0:
		return "is a symbolic link; pal refuses it"
	case !fi.IsDir():
		return "is not a directory"
	case fi.Mode().Perm()&0o077 != 0:
		return fmt.Sprintf("mode %04o lets others in; run chmod 700 %s", fi.Mode().Perm(), dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Sprintf("owned by uid %d, not you", st.Uid)
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// printSnippets prints the configuration of pal for Claude Code, Codex CLI, Cursor and Gemini
// CLI, with the env block each needs: these clients do not all pass their own environment to
// a stdio server, so every key variable is listed, as a reference to the client's
// environment, never as a value.
func printSnippets(w io.Writer, keyed []string, cfg *policy.Config, getenv func(string) string) {
	exe, err := os.Executable()
	if err != nil {
		exe = "/path/to/pal"
	}
	var vars []string
	for _, name := range keyed {
		if cfg.Providers.Provider(name).APIKeyFile != "" {
			continue // read from its file; nothing to pass
		}
		if name == "custom" {
			vars = append(vars, "CUSTOM_API_URL")
			if strings.TrimSpace(getenv("CUSTOM_API_KEY")) != "" {
				vars = append(vars, "CUSTOM_API_KEY")
			}
			continue
		}
		vars = append(vars, cfg.KeyEnv(name))
	}
	if len(vars) == 0 {
		vars = []string{"GEMINI_API_KEY"}
	}
	block := func(indent, format string) string {
		lines := make([]string, len(vars))
		for i, v := range vars {
			lines[i] = fmt.Sprintf(indent+format, v, v)
		}
		return strings.Join(lines, ",\n")
	}
	fmt.Fprintf(w, "\nclient configuration (keys by reference, never by value)\n")
	fmt.Fprintf(w, "\nClaude Code: .mcp.json in the project (Claude Code expands ${VAR})\n"+
		"{\n  \"mcpServers\": {\n    \"pal\": {\n      \"type\": \"stdio\",\n      \"command\": %q,\n      \"args\": [\"serve\"],\n"+
		"      \"env\": {\n%s\n      }\n    }\n  }\n}\n", exe, block("        ", "%q: \"${%s}\""))
	quoted := make([]string, len(vars))
	for i, v := range vars {
		quoted[i] = fmt.Sprintf("%q", v)
	}
	fmt.Fprintf(w, "\nCodex CLI: ~/.codex/config.toml (env_vars forwards the named variables)\n"+
		"[mcp_servers.pal]\ncommand = %q\nargs = [\"serve\"]\nenv_vars = [%s]\n", exe, strings.Join(quoted, ", "))
	fmt.Fprintf(w, "\nCursor: .cursor/mcp.json (Cursor expands ${env:VAR})\n"+
		"{\n  \"mcpServers\": {\n    \"pal\": {\n      \"command\": %q,\n      \"args\": [\"serve\"],\n"+
		"      \"env\": {\n%s\n      }\n    }\n  }\n}\n", exe, block("        ", "%q: \"${env:%s}\""))
	fmt.Fprintf(w, "\nGemini CLI: ~/.gemini/settings.json (Gemini CLI expands $VAR)\n"+
		"{\n  \"mcpServers\": {\n    \"pal\": {\n      \"command\": %q,\n      \"args\": [\"serve\"],\n"+
		"      \"env\": {\n%s\n      }\n    }\n  }\n}\n", exe, block("        ", "%q: \"$%s\""))
}
