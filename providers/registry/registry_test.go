package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/providers"
)

var (
	gem    = map[string]string{"GEMINI_API_KEY": "g-key-1234"}
	oai    = map[string]string{"OPENAI_API_KEY": "o-key-1234"}
	xai    = map[string]string{"XAI_API_KEY": "x-key-1234"}
	ant    = map[string]string{"ANTHROPIC_API_KEY": "a-key-1234"}
	dial   = map[string]string{"DIAL_API_KEY": "d-key-1234"}
	orr    = map[string]string{"OPENROUTER_API_KEY": "r-key-1234"}
	custom = map[string]string{"CUSTOM_API_URL": "http://localhost:11434/v1"}
)

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func TestNoProviderError(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"nothing set": {},
		"placeholders": {
			"GEMINI_API_KEY": "your_gemini_api_key_here", "OPENAI_API_KEY": "your_openai_api_key_here",
			"XAI_API_KEY": "your_xai_api_key_here", "DIAL_API_KEY": "your_dial_api_key_here",
			"OPENROUTER_API_KEY": "your_openrouter_api_key_here", "AZURE_OPENAI_API_KEY": "your_azure_openai_key_here",
			"ANTHROPIC_API_KEY": "  ",
		},
		"blank key":                  {"OPENAI_API_KEY": "   "},
		"custom key without url":     {"CUSTOM_API_KEY": "k-1234"},
		"azure key without endpoint": {"AZURE_OPENAI_API_KEY": "az-key-1234"},
		"azure without deployments":  {"AZURE_OPENAI_API_KEY": "az-key-1234", "AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com"},
	} {
		err := buildErr(t, Config{Getenv: envOf(env)})
		if !errors.Is(err, ErrNoProvider) {
			t.Errorf("%s: error %v does not wrap ErrNoProvider", name, err)
			continue
		}
		for _, v := range []string{"GEMINI_API_KEY", "OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "XAI_API_KEY", "ANTHROPIC_API_KEY", "DIAL_API_KEY", "OPENROUTER_API_KEY", "CUSTOM_API_URL"} {
			if !strings.Contains(err.Error(), v) {
				t.Errorf("%s: error does not name %s: %v", name, v, err)
			}
		}
		if strings.Contains(err.Error(), "az-key-1234") || strings.Contains(err.Error(), "k-1234") {
			t.Errorf("%s: error contains a key", name)
		}
	}
	err := buildErr(t, Config{Getenv: envOf(map[string]string{"AZURE_OPENAI_API_KEY": "az-key-1234"})})
	if !strings.Contains(err.Error(), "AZURE_OPENAI_API_KEY is set but AZURE_OPENAI_ENDPOINT is missing") {
		t.Errorf("azure reason missing: %v", err)
	}
	err = buildErr(t, Config{Getenv: envOf(map[string]string{"AZURE_OPENAI_API_KEY": "az-key-1234", "AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com"})})
	if !strings.Contains(err.Error(), "lists no models") {
		t.Errorf("azure catalogue reason missing: %v", err)
	}
	err = buildErr(t, Config{Getenv: envOf(oai), Providers: map[providers.Type]ProviderConfig{providers.OpenAI: {Disabled: true}}})
	if !errors.Is(err, ErrNoProvider) || !strings.Contains(err.Error(), "disabled in pal.toml") {
		t.Errorf("disabled provider: %v", err)
	}
}

func TestPlaceholderKeysCountAsAbsent(t *testing.T) {
	r, _ := build(t, map[string]string{"OPENAI_API_KEY": "your_openai_api_key_here", "GEMINI_API_KEY": "g-key-1234"})
	if got := r.Configured(); len(got) != 1 || got[0] != providers.Google {
		t.Errorf("configured %v, want only google", got)
	}
	for _, s := range r.SecretValues() {
		if providers.IsPlaceholderKey(s) {
			t.Errorf("placeholder %q reported as a secret", s)
		}
	}
	// A pal.toml placeholder falls back to the environment.
	f := newFakes()
	r, err := New(Config{Getenv: envOf(oai), Constructors: f.table(),
		Providers: map[providers.Type]ProviderConfig{providers.OpenAI: {APIKey: "your_openai_api_key_here"}}})
	if err != nil {
		t.Fatal(err)
	}
	if k := f.get(providers.OpenAI).settings.APIKey; k != "o-key-1234" {
		t.Errorf("key %q, want the environment's", k)
	}
	_ = r
}

func TestSettingsFromEnvironmentAndPalToml(t *testing.T) {
	dir := t.TempDir()
	azCat := filepath.Join(dir, "azure.json")
	if err := os.WriteFile(azCat, []byte(`{"models":[{"model_name":"gpt-5.2","aliases":["az"],"deployment":"prod-52","context_window":400000}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := merge(gem, oai, xai, ant, dial, orr, custom, map[string]string{
		"GEMINI_BASE_URL":          "https://gemini.example.com",
		"OPENAI_BASE_URL":          "https://openai-compatible.example.com/v1",
		"AZURE_OPENAI_API_KEY":     "az-key-1234",
		"AZURE_OPENAI_ENDPOINT":    "https://res.openai.azure.com",
		"AZURE_MODELS_CONFIG_PATH": azCat,
		"DIAL_API_HOST":            "https://dial.example.com",
		"DIAL_API_VERSION":         "2025-01-01",
		"ANTHROPIC_BASE_URL":       "https://anthropic.example.com",
		"OPENROUTER_REFERER":       "https://example.com/me",
		"CUSTOM_API_KEY":           "c-key-1234",
		"CUSTOM_CONNECT_TIMEOUT":   "5",
		"CUSTOM_READ_TIMEOUT":      "2.5",
	})
	r, f := build(t, env)
	if got := len(r.Configured()); got != 8 {
		t.Fatalf("%d providers configured, want 8: %v", got, r.Configured())
	}
	checks := []struct {
		typ               providers.Type
		key, url, version string
	}{
		{providers.Google, "g-key-1234", "https://gemini.example.com", ""},
		{providers.OpenAI, "o-key-1234", "https://openai-compatible.example.com/v1", ""},
		{providers.Azure, "az-key-1234", "https://res.openai.azure.com", "2024-02-15-preview"},
		{providers.XAI, "x-key-1234", "", ""},
		{providers.DIAL, "d-key-1234", "https://dial.example.com", "2025-01-01"},
		{providers.Anthropic, "a-key-1234", "https://anthropic.example.com", ""},
		{providers.Custom, "c-key-1234", "http://localhost:11434/v1", ""},
		{providers.OpenRouter, "r-key-1234", "", ""},
	}
	for _, c := range checks {
		s := f.get(c.typ).settings
		if s.Type != c.typ || s.APIKey != c.key || s.BaseURL != c.url || s.APIVersion != c.version {
			t.Errorf("%s settings: type %s key %q url %q version %q", c.typ, s.Type, s.APIKey, s.BaseURL, s.APIVersion)
		}
		if s.ConnectTimeout != 5*time.Second || s.ReadTimeout != 2500*time.Millisecond {
			t.Errorf("%s timeouts %v/%v", c.typ, s.ConnectTimeout, s.ReadTimeout)
		}
		if s.Logger == nil {
			t.Errorf("%s: no logger", c.typ)
		}
	}
	h := f.get(providers.OpenRouter).settings.Headers
	if h["HTTP-Referer"] != "https://example.com/me" || h["X-Title"] != DefaultOpenRouterTitle {
		t.Errorf("openrouter headers %v", h)
	}
	if len(r.SecretValues()) != 8 {
		t.Errorf("secrets %d, want 8", len(r.SecretValues()))
	}
	res, err := r.Resolve("az", providers.CategoryBalanced)
	if err != nil || res.Type != providers.Azure || res.Caps.Deployment != "prod-52" {
		t.Errorf("azure alias: %+v %v", res, err)
	}

	// pal.toml wins over the environment.
	f2 := newFakes()
	_, err = New(Config{Getenv: envOf(merge(oai, map[string]string{"OPENAI_ALLOWED_MODELS": "o3"})), Constructors: f2.table(),
		Providers: map[providers.Type]ProviderConfig{providers.OpenAI: {APIKey: "toml-key-1234", BaseURL: "https://proxy.example.com/v1", AllowedModels: []string{"gpt-5.2"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if s := f2.get(providers.OpenAI).settings; s.APIKey != "toml-key-1234" || s.BaseURL != "https://proxy.example.com/v1" {
		t.Errorf("pal.toml did not override: %q %q", s.APIKey, s.BaseURL)
	}
	r2, err := New(Config{Getenv: envOf(merge(oai, map[string]string{"OPENAI_ALLOWED_MODELS": "o3"})), Constructors: newFakes().table(),
		Providers: map[providers.Type]ProviderConfig{providers.OpenAI: {AllowedModels: []string{"gpt-5.2"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r2.Resolve("o3", ""); !errors.Is(err, providers.ErrRestricted) {
		t.Errorf("pal.toml allowlist did not replace the environment's: %v", err)
	}
	if _, err := r2.Resolve("gpt-5.2", ""); err != nil {
		t.Errorf("pal.toml allowlist: %v", err)
	}
	// A blank pal.toml list does not lift the environment's allowlist.
	r3, err := New(Config{Getenv: envOf(merge(oai, map[string]string{"OPENAI_ALLOWED_MODELS": "o3"})), Constructors: newFakes().table(),
		Providers: map[providers.Type]ProviderConfig{providers.OpenAI: {AllowedModels: []string{" ", ""}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r3.Resolve("gpt-5.2", ""); !errors.Is(err, providers.ErrRestricted) {
		t.Errorf("blank pal.toml allowlist lifted the environment's: %v", err)
	}
}

func TestConfigurationErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"custom url scheme", map[string]string{"CUSTOM_API_URL": "ftp://host/v1"}, "CUSTOM_API_URL"},
		{"custom url port", map[string]string{"CUSTOM_API_URL": "http://host:70000/v1"}, "CUSTOM_API_URL"},
		{"custom url no host", map[string]string{"CUSTOM_API_URL": "http:///v1"}, "CUSTOM_API_URL"},
		{"gemini url", merge(gem, map[string]string{"GEMINI_BASE_URL": "not a url"}), "GEMINI_BASE_URL"},
		{"dial host", merge(dial, map[string]string{"DIAL_API_HOST": "https://user:pw-1234@dial.example.com"}), "DIAL_API_HOST"},
		{"timeout word", merge(oai, map[string]string{"CUSTOM_CONNECT_TIMEOUT": "soon"}), "CUSTOM_CONNECT_TIMEOUT"},
		{"timeout negative", merge(oai, map[string]string{"CUSTOM_READ_TIMEOUT": "-3"}), "CUSTOM_READ_TIMEOUT"},
		{"timeout zero", merge(oai, map[string]string{"CUSTOM_READ_TIMEOUT": "0"}), "CUSTOM_READ_TIMEOUT"},
		{"bad catalogue", merge(oai, map[string]string{"OPENAI_MODELS_CONFIG_PATH": "/nonexistent/openai.json"}), "/nonexistent/openai.json"},
	}
	for _, tt := range tests {
		err := buildErr(t, Config{Getenv: envOf(tt.env)})
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q does not name %s", tt.name, err, tt.want)
		}
		if strings.Contains(err.Error(), "pw-1234") {
			t.Errorf("%s: error echoes a URL password", tt.name)
		}
	}
	f := newFakes()
	f.err[providers.OpenAI] = errBoom
	_, err := New(Config{Getenv: envOf(oai), Constructors: f.table()})
	if !errors.Is(err, errBoom) {
		t.Errorf("constructor failure not reported: %v", err)
	}
}

func TestAliasResolution(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		model  string
		typ    providers.Type
		canon  string
		option string
	}{
		{"canonical", gem, "gemini-2.5-flash", providers.Google, "gemini-2.5-flash", ""},
		{"alias", gem, "flash", providers.Google, "gemini-2.5-flash", ""},
		{"alias any case", gem, "  FLASH ", providers.Google, "gemini-2.5-flash", ""},
		{"canonical any case", gem, "Gemini-3-Pro-Preview", providers.Google, "gemini-3-pro-preview", ""},
		{"pro: gemini before openrouter", merge(gem, orr), "pro", providers.Google, "gemini-3-pro-preview", ""},
		{"flash: gemini before openrouter", merge(orr, gem), "flash", providers.Google, "gemini-2.5-flash", ""},
		{"flash: openrouter alone", orr, "flash", providers.OpenRouter, "google/gemini-2.5-flash", ""},
		{"o3: openai before dial and openrouter", merge(oai, dial, orr), "o3", providers.OpenAI, "o3", ""},
		{"o3: dial before openrouter", merge(dial, orr), "o3", providers.DIAL, "o3-2025-04-16", ""},
		{"gpt5: openai first", merge(oai, orr), "gpt5", providers.OpenAI, "gpt-5", ""},
		{"grok: xai first", merge(xai, orr), "grok", providers.XAI, "grok-4", ""},
		{"grok: openrouter alone", orr, "GROK", providers.OpenRouter, "x-ai/grok-4", ""},
		{"opus: anthropic first", merge(ant, orr), "opus", providers.Anthropic, "claude-opus-4-5", ""},
		{"opus: openrouter alone", orr, "opus", providers.OpenRouter, "anthropic/claude-opus-4.5", ""},
		{"haiku: anthropic", merge(orr, ant), "Haiku", providers.Anthropic, "claude-haiku-4-5", ""},
		{"codex: openai", merge(oai, orr), "codex", providers.OpenAI, "gpt-5-codex", ""},
		{"gpt-5.1 is gpt-5.2", oai, "gpt-5.1", providers.OpenAI, "gpt-5.2", ""},
		{"openrouter unknown vendor/model", orr, "mistralai/brand-new-model", providers.OpenRouter, "mistralai/brand-new-model", ""},
		{"openrouter :free kept", orr, "meta-llama/llama-3-8b:free", providers.OpenRouter, "meta-llama/llama-3-8b:free", ""},
		{"openrouter vendor/model with option", orr, "meta-llama/llama-3-8b:latest", providers.OpenRouter, "meta-llama/llama-3-8b", "latest"},
		{"custom tag as option", custom, "llama3.2:latest", providers.Custom, "llama3.2", "latest"},
		{"custom alias", custom, "local-llama", providers.Custom, "llama3.2", ""},
		{"custom before openrouter", merge(custom, orr), "llama3.2", providers.Custom, "llama3.2", ""},
		{"dial name containing ':'", dial, "anthropic.claude-opus-4.1-20250805-v1:0", providers.DIAL, "anthropic.claude-opus-4.1-20250805-v1:0", ""},
		{"option on native model", oai, "o3:for", providers.OpenAI, "o3", "for"},
	}
	for _, tt := range tests {
		r, _ := build(t, tt.env)
		res, err := r.Resolve(tt.model, providers.CategoryBalanced)
		if err != nil {
			t.Errorf("%s: Resolve(%q): %v", tt.name, tt.model, err)
			continue
		}
		if res.Type != tt.typ || res.Caps.ModelName != tt.canon || res.Option != tt.option || res.Provider == nil {
			t.Errorf("%s: Resolve(%q) = %s %s option %q, want %s %s option %q", tt.name, tt.model, res.Type, res.Caps.ModelName, res.Option, tt.typ, tt.canon, tt.option)
		}
		if res.Requested != strings.TrimSpace(tt.model) {
			t.Errorf("%s: Requested %q", tt.name, res.Requested)
		}
	}
}

func TestCustomStripsTagWhenLookingUp(t *testing.T) {
	r, _ := build(t, custom)
	st := r.active[0]
	if m, ok := st.lookup("llama3.2:latest"); !ok || m.ModelName != "llama3.2" {
		t.Errorf("custom lookup of a tagged name: %v %v", m, ok)
	}
	if _, ok := st.lookup("mistral:7b"); ok {
		t.Errorf("custom provider accepted a model it does not list")
	}
}

func TestUnknownModels(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		model string
	}{
		{"unknown name", merge(gem, oai), "no-such-model"},
		{"openrouter rejects names without vendor", orr, "no-such-model"},
		{"vendor/model needs openrouter", merge(gem, oai), "mistralai/mistral-large-2411"},
		{"bad vendor/model id", orr, "vendor/has space"},
		{"empty vendor", orr, "/model"},
		{"dot-dot id", orr, "vendor/../x"},
	}
	for _, tt := range tests {
		r, _ := build(t, tt.env)
		_, err := r.Resolve(tt.model, providers.CategoryFast)
		var ue *UnavailableError
		if !errors.As(err, &ue) || !errors.Is(err, providers.ErrNotConfigured) {
			t.Errorf("%s: error %v, want an UnavailableError", tt.name, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), fmt.Sprintf("Model '%s' is not available with current API keys. Available models: ", strings.TrimSpace(tt.model))) {
			t.Errorf("%s: message %q", tt.name, err)
		}
	}
	r, _ := build(t, oai)
	_, err := r.Resolve("nope", providers.CategoryFast)
	var ue *UnavailableError
	errors.As(err, &ue)
	if ue.Suggested != "gpt-5.2" || ue.Category != providers.CategoryFast {
		t.Errorf("suggestion %q category %q", ue.Suggested, ue.Category)
	}
	if !strings.HasSuffix(err.Error(), "Suggested model: 'gpt-5.2' (category: fast).") {
		t.Errorf("message %q", err)
	}
	if got := ue.ForTool("chat"); !strings.Contains(got, "Suggested model for chat: 'gpt-5.2' (category: fast).") {
		t.Errorf("ForTool: %q", got)
	}
	if !strings.Contains(err.Error(), "Available models: gpt-5.1-codex, ") || !strings.Contains(err.Error(), "more via `listmodels`") {
		t.Errorf("available list: %q", err)
	}
}

func TestRestrictions(t *testing.T) {
	type lookup struct {
		model string
		ok    bool
		canon string
		typ   providers.Type
	}
	tests := []struct {
		name    string
		env     map[string]string
		lookups []lookup
	}{
		{"alias in allowlist allows the canonical name", merge(oai, map[string]string{"OPENAI_ALLOWED_MODELS": "mini"}), []lookup{
			{"gpt-5-mini", true, "gpt-5-mini", providers.OpenAI}, {"mini", true, "gpt-5-mini", providers.OpenAI},
			{"gpt5mini", true, "gpt-5-mini", providers.OpenAI}, {"o3", false, "", ""}, {"gpt-5.2", false, "", ""},
		}},
		{"canonical in allowlist allows aliases", merge(oai, map[string]string{"OPENAI_ALLOWED_MODELS": " GPT-5-MINI , o3 "}), []lookup{
			{"mini", true, "gpt-5-mini", providers.OpenAI}, {"O3", true, "o3", providers.OpenAI}, {"o3-pro", false, "", ""},
		}},
		{"google allowlist", merge(gem, map[string]string{"GOOGLE_ALLOWED_MODELS": "flash"}), []lookup{
			{"gemini-2.5-flash", true, "gemini-2.5-flash", providers.Google}, {"pro", false, "", ""},
		}},
		{"refused natively, served by openrouter", merge(oai, orr, map[string]string{"OPENAI_ALLOWED_MODELS": "gpt-5.2"}), []lookup{
			{"o3", true, "openai/o3", providers.OpenRouter}, {"gpt-5.2", true, "gpt-5.2", providers.OpenAI},
		}},
		{"openrouter allowlist with unknown vendor/model", merge(orr, map[string]string{"OPENROUTER_ALLOWED_MODELS": "vendor/new-model,opus"}), []lookup{
			{"vendor/new-model", true, "vendor/new-model", providers.OpenRouter}, {"Vendor/New-Model", true, "Vendor/New-Model", providers.OpenRouter},
			{"vendor/other", false, "", ""}, {"anthropic/claude-opus-4.5", true, "anthropic/claude-opus-4.5", providers.OpenRouter},
			{"sonnet", false, "", ""},
		}},
		{"azure alternate variable", merge(map[string]string{"AZURE_OPENAI_API_KEY": "az-1234", "AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com", "AZURE_ALLOWED_MODELS": "b"}), nil},
		{"anthropic allowlist", merge(ant, map[string]string{"ANTHROPIC_ALLOWED_MODELS": "sonnet"}), []lookup{
			{"claude-sonnet-4-5", true, "claude-sonnet-4-5", providers.Anthropic}, {"opus", false, "", ""},
		}},
		{"custom allowlist", merge(custom, gem, map[string]string{"CUSTOM_ALLOWED_MODELS": "other"}), []lookup{
			{"llama3.2", false, "", ""},
		}},
		{"dial allowlist", merge(dial, map[string]string{"DIAL_ALLOWED_MODELS": "o3"}), []lookup{
			{"o3-2025-04-16", true, "o3-2025-04-16", providers.DIAL}, {"o4-mini", false, "", ""},
			{"anthropic.claude-opus-4.1-20250805-v1:0", false, "", ""},
		}},
		{"xai allowlist", merge(xai, map[string]string{"XAI_ALLOWED_MODELS": "grok-4"}), []lookup{
			{"grok", true, "grok-4", providers.XAI}, {"grok-4.1", false, "", ""},
		}},
	}
	for _, tt := range tests {
		if tt.lookups == nil {
			continue
		}
		r, _ := build(t, merge(tt.env, map[string]string{"DEFAULT_MODEL": "auto"}))
		for _, l := range tt.lookups {
			res, err := r.Resolve(l.model, providers.CategoryBalanced)
			if l.ok {
				if err != nil || res.Caps.ModelName != l.canon || res.Type != l.typ {
					t.Errorf("%s: Resolve(%q) = %v %v, want %s via %s", tt.name, l.model, res, err, l.canon, l.typ)
				}
				continue
			}
			var re *RestrictedError
			if !errors.As(err, &re) || !errors.Is(err, providers.ErrRestricted) {
				t.Errorf("%s: Resolve(%q) error %v, want a RestrictedError", tt.name, l.model, err)
				continue
			}
			if !strings.Contains(err.Error(), "is not allowed by restriction policy") {
				t.Errorf("%s: message %q", tt.name, err)
			}
		}
	}

	// AZURE_ALLOWED_MODELS applies when AZURE_OPENAI_ALLOWED_MODELS is unset; the first wins when both are.
	dir := t.TempDir()
	path := filepath.Join(dir, "az.json")
	os.WriteFile(path, []byte(`{"models":[{"model_name":"a","deployment":"da"},{"model_name":"b","deployment":"db"}]}`), 0o600)
	azEnv := map[string]string{"AZURE_OPENAI_API_KEY": "az-1234", "AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com", "AZURE_MODELS_CONFIG_PATH": path}
	r, _ := build(t, merge(azEnv, map[string]string{"AZURE_ALLOWED_MODELS": "b"}))
	if _, err := r.Resolve("a", ""); !errors.Is(err, providers.ErrRestricted) {
		t.Errorf("AZURE_ALLOWED_MODELS ignored: %v", err)
	}
	r, _ = build(t, merge(azEnv, map[string]string{"AZURE_ALLOWED_MODELS": "b", "AZURE_OPENAI_ALLOWED_MODELS": "a"}))
	if _, err := r.Resolve("a", ""); err != nil {
		t.Errorf("AZURE_OPENAI_ALLOWED_MODELS must win: %v", err)
	}
}

func TestRestrictionsApplyToListingAndAutoSelection(t *testing.T) {
	r, _ := build(t, merge(oai, gem, map[string]string{"OPENAI_ALLOWED_MODELS": "o4-mini,mini", "GOOGLE_ALLOWED_MODELS": "flash-lite"}))
	l := r.List()
	names := func(p providers.Type) []string {
		for _, pl := range l.Providers {
			if pl.Type == p {
				var out []string
				for _, m := range pl.Models {
					out = append(out, m.Name)
				}
				return out
			}
		}
		return nil
	}
	if got := strings.Join(names(providers.OpenAI), ","); got != "gpt-5-mini,o4-mini" {
		t.Errorf("openai listing %q", got)
	}
	if got := strings.Join(names(providers.Google), ","); got != "gemini-2.0-flash-lite" {
		t.Errorf("google listing %q", got)
	}
	if l.AvailableModels != 3 {
		t.Errorf("available %d", l.AvailableModels)
	}
	// Gemini comes first and always picks among what it is allowed.
	for _, cat := range []providers.Category{providers.CategoryExtended, providers.CategoryFast, providers.CategoryBalanced} {
		res, err := r.Resolve("auto", cat)
		if err != nil || res.Caps.ModelName != "gemini-2.0-flash-lite" {
			t.Errorf("auto %s: %v %v", cat, res, err)
		}
	}
	r, _ = build(t, merge(oai, map[string]string{"OPENAI_ALLOWED_MODELS": "o4-mini,o3"}))
	for cat, want := range map[providers.Category]string{providers.CategoryExtended: "o3", providers.CategoryFast: "o4-mini", providers.CategoryBalanced: "o4-mini"} {
		if res, err := r.Resolve("auto", cat); err != nil || res.Caps.ModelName != want {
			t.Errorf("restricted openai auto %s: %v %v, want %s", cat, res, err, want)
		}
	}
	// Nothing left in auto mode: refuse to start.
	err := buildErr(t, Config{Getenv: envOf(merge(gem, map[string]string{"GOOGLE_ALLOWED_MODELS": "gpt-5"}))})
	if !errors.Is(err, ErrNoAllowedModels) || !strings.Contains(err.Error(), "google allows gpt-5") {
		t.Errorf("zero allowed models: %v", err)
	}
	// With a fixed default that is allowed elsewhere, the same allowlist is fine.
	if _, err := New(Config{Getenv: envOf(merge(gem, oai, map[string]string{"GOOGLE_ALLOWED_MODELS": "gpt-5", "DEFAULT_MODEL": "o3"})), Constructors: newFakes().table()}); err != nil {
		t.Errorf("fixed default: %v", err)
	}
}

func TestAutoSelection(t *testing.T) {
	ext, fast, bal := providers.CategoryExtended, providers.CategoryFast, providers.CategoryBalanced
	tests := []struct {
		name string
		env  map[string]string
		want map[providers.Category]string
	}{
		{"openai only", oai, map[providers.Category]string{ext: "gpt-5.1-codex", fast: "gpt-5.2", bal: "gpt-5.2"}},
		{"gemini only", gem, map[providers.Category]string{ext: "gemini-3-pro-preview", fast: "gemini-2.5-flash", bal: "gemini-2.5-flash"}},
		{"xai only", xai, map[providers.Category]string{ext: "grok-4-1-fast-reasoning", fast: "grok-4-1-fast-reasoning", bal: "grok-4-1-fast-reasoning"}},
		{"anthropic only", ant, map[providers.Category]string{ext: "claude-opus-4-5", fast: "claude-haiku-4-5", bal: "claude-sonnet-4-5"}},
		{"gemini and openai: gemini first", merge(oai, gem), map[providers.Category]string{ext: "gemini-3-pro-preview", fast: "gemini-2.5-flash", bal: "gemini-2.5-flash"}},
		{"openai and xai: openai first", merge(xai, oai), map[providers.Category]string{ext: "gpt-5.1-codex", fast: "gpt-5.2"}},
		{"xai and anthropic: xai first", merge(xai, ant), map[providers.Category]string{ext: "grok-4-1-fast-reasoning"}},
		{"anthropic and openrouter", merge(orr, ant), map[providers.Category]string{ext: "claude-opus-4-5", fast: "claude-haiku-4-5"}},
		{"dial and xai: xai has the preference", merge(dial, xai), map[providers.Category]string{ext: "grok-4-1-fast-reasoning"}},
		{"openrouter only: first by name", orr, map[providers.Category]string{ext: "anthropic/claude-3.5-haiku", fast: "anthropic/claude-3.5-haiku"}},
		{"custom only", custom, map[providers.Category]string{ext: "llama3.2", fast: "llama3.2", bal: "llama3.2"}},
		{"dial and openrouter: dial's first", merge(dial, orr), map[providers.Category]string{ext: "anthropic.claude-opus-4.1-20250805-v1:0"}},
		{"custom and openrouter: custom's first", merge(orr, custom), map[providers.Category]string{bal: "llama3.2"}},
		{"no category means balanced", oai, map[providers.Category]string{"": "gpt-5.2", "bogus": "gpt-5.2"}},
	}
	for _, tt := range tests {
		r, _ := build(t, tt.env)
		for cat, want := range tt.want {
			res, err := r.Resolve("auto", cat)
			if err != nil {
				t.Errorf("%s: auto %q: %v", tt.name, cat, err)
				continue
			}
			if res.Caps.ModelName != want || res.Requested != "auto" {
				t.Errorf("%s: auto %q = %s (requested %q), want %s", tt.name, cat, res.Caps.ModelName, res.Requested, want)
			}
			if res2, _ := r.Resolve("", cat); res2 == nil || res2.Caps.ModelName != want {
				t.Errorf("%s: \"\" in auto mode %q = %v, want %s", tt.name, cat, res2, want)
			}
			if res3, _ := r.Resolve("AUTO", cat); res3 == nil || res3.Caps.ModelName != want {
				t.Errorf("%s: AUTO %q, want %s", tt.name, cat, want)
			}
		}
	}
}

func TestDefaultModel(t *testing.T) {
	r, _ := build(t, merge(gem, map[string]string{"DEFAULT_MODEL": "flash"}))
	if r.AutoMode() || r.DefaultModel() != "flash" {
		t.Errorf("fixed default: auto %v default %q", r.AutoMode(), r.DefaultModel())
	}
	res, err := r.Resolve("", providers.CategoryExtended)
	if err != nil || res.Caps.ModelName != "gemini-2.5-flash" {
		t.Errorf("\"\" with a fixed default: %v %v", res, err)
	}
	// "auto" still means auto even with a fixed default (PAL's pipeline step 4).
	if res, err := r.Resolve("auto", providers.CategoryExtended); err != nil || res.Caps.ModelName != "gemini-3-pro-preview" {
		t.Errorf("auto with a fixed default: %v %v", res, err)
	}
	// A default no provider serves means auto mode.
	r, _ = build(t, merge(gem, map[string]string{"DEFAULT_MODEL": "o3"}))
	if !r.AutoMode() {
		t.Errorf("unserved default must mean auto mode")
	}
	if res, err := r.Resolve("", providers.CategoryFast); err != nil || res.Caps.ModelName != "gemini-2.5-flash" {
		t.Errorf("\"\" with an unserved default: %v %v", res, err)
	}
	// Config.DefaultModel beats DEFAULT_MODEL; neither means auto.
	f := newFakes()
	r, err = New(Config{Getenv: envOf(merge(gem, map[string]string{"DEFAULT_MODEL": "flash"})), DefaultModel: "pro", Constructors: f.table()})
	if err != nil || r.DefaultModel() != "pro" {
		t.Errorf("Config.DefaultModel: %v %q", err, r.DefaultModel())
	}
	r, _ = build(t, gem)
	if !r.AutoMode() || r.DefaultModel() != "auto" {
		t.Errorf("no default: auto %v %q", r.AutoMode(), r.DefaultModel())
	}
}

func TestCatalogueOverride(t *testing.T) {
	dir := t.TempDir()
	envPath := filepath.Join(dir, "env.json")
	tomlPath := filepath.Join(dir, "toml.json")
	os.WriteFile(envPath, []byte(`{"models":[{"model_name":"env-model","aliases":["mine"]}]}`), 0o600)
	os.WriteFile(tomlPath, []byte(`{"models":[{"model_name":"toml-model"}]}`), 0o600)

	r, _ := build(t, merge(oai, map[string]string{"OPENAI_MODELS_CONFIG_PATH": envPath}))
	if res, err := r.Resolve("mine", ""); err != nil || res.Caps.ModelName != "env-model" {
		t.Errorf("env catalogue: %v %v", res, err)
	}
	if _, err := r.Resolve("o3", ""); !errors.Is(err, providers.ErrNotConfigured) {
		t.Errorf("shipped model still served after override: %v", err)
	}
	f := newFakes()
	r, err := New(Config{Getenv: envOf(merge(oai, map[string]string{"OPENAI_MODELS_CONFIG_PATH": envPath})), Constructors: f.table(),
		Providers: map[providers.Type]ProviderConfig{providers.OpenAI: {CatalogPath: tomlPath}}})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := r.Resolve("toml-model", ""); err != nil || res.Type != providers.OpenAI {
		t.Errorf("pal.toml catalogue: %v %v", res, err)
	}
	if l := r.List(); l.Providers[1].Catalogue != tomlPath {
		t.Errorf("listing catalogue source %q", l.Providers[1].Catalogue)
	}
	// Every provider's variable is honoured.
	for typ, envVar := range map[providers.Type]string{
		providers.Google: "GEMINI_MODELS_CONFIG_PATH", providers.XAI: "XAI_MODELS_CONFIG_PATH", providers.DIAL: "DIAL_MODELS_CONFIG_PATH",
		providers.OpenRouter: "OPENROUTER_MODELS_CONFIG_PATH", providers.Custom: "CUSTOM_MODELS_CONFIG_PATH", providers.Anthropic: "ANTHROPIC_MODELS_CONFIG_PATH",
	} {
		env := merge(gem, xai, dial, orr, custom, ant, map[string]string{envVar: envPath})
		r, _ := build(t, env)
		res, err := r.Resolve("env-model", "")
		if err != nil || res.Type != typ {
			t.Errorf("%s: %v %v", envVar, res, err)
		}
	}
}

func TestGenerateAppliesModelRules(t *testing.T) {
	r, f := build(t, merge(oai, gem))
	ctx := context.Background()
	temp := func(v float64) *float64 { return &v }
	png := []byte("\x89PNG\r\n\x1a\n0000")
	tests := []struct {
		name     string
		model    string
		req      providers.Request
		wantTemp *float64
		wantErr  error
	}{
		{"fixed temperature", "gpt-5.2", providers.Request{Temperature: temp(0.2)}, temp(1.0), nil},
		{"no temperature", "o3", providers.Request{Temperature: temp(0.7)}, nil, nil},
		{"range clamp", "flash", providers.Request{Temperature: temp(3.5)}, temp(2.0), nil},
		{"range untouched", "flash", providers.Request{Temperature: temp(0.4)}, temp(0.4), nil},
		{"no temperature asked", "flash", providers.Request{}, nil, nil},
		{"image ok", "flash", providers.Request{Images: []providers.Image{{MIMEType: "image/png", Data: png}}}, nil, nil},
		{"image refused", "flash-lite", providers.Request{Images: []providers.Image{{MIMEType: "image/png", Data: png}}}, nil, providers.ErrInvalidRequest},
		{"image lies", "flash", providers.Request{Images: []providers.Image{{MIMEType: "image/gif", Data: png}}}, nil, providers.ErrInvalidRequest},
		{"bad thinking mode", "pro", providers.Request{ThinkingMode: "ultra"}, nil, providers.ErrInvalidRequest},
		{"thinking mode case", "pro", providers.Request{ThinkingMode: "HIGH"}, nil, nil},
	}
	for _, tt := range tests {
		res, err := r.Resolve(tt.model, "")
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		fp := f.get(res.Type)
		before := len(fp.calls)
		resp, err := r.Generate(ctx, res, tt.req)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("%s: error %v, want %v", tt.name, err, tt.wantErr)
			}
			if len(fp.calls) != before {
				t.Errorf("%s: provider called despite the error", tt.name)
			}
			continue
		}
		if err != nil || resp.Content != "ok" {
			t.Errorf("%s: %v %v", tt.name, resp, err)
			continue
		}
		got := fp.calls[len(fp.calls)-1]
		if got.Model != res.Caps.ModelName {
			t.Errorf("%s: provider got model %q, want canonical %q", tt.name, got.Model, res.Caps.ModelName)
		}
		if (got.Temperature == nil) != (tt.wantTemp == nil) || (got.Temperature != nil && *got.Temperature != *tt.wantTemp) {
			t.Errorf("%s: temperature %v, want %v", tt.name, got.Temperature, tt.wantTemp)
		}
		if tt.req.ThinkingMode != "" && got.ThinkingMode != strings.ToLower(tt.req.ThinkingMode) {
			t.Errorf("%s: thinking mode %q", tt.name, got.ThinkingMode)
		}
	}
	if _, err := r.Generate(ctx, nil, providers.Request{}); !errors.Is(err, providers.ErrInvalidRequest) {
		t.Errorf("nil resolved: %v", err)
	}
	// Changing the returned capabilities changes nothing in the registry.
	res, _ := r.Resolve("flash", "")
	res.Caps.SupportsImages = false
	res.Caps.Aliases[0] = "changed"
	again, _ := r.Resolve("flash", "")
	if !again.Caps.SupportsImages || again.Caps.Aliases[0] == "changed" {
		t.Errorf("Resolve hands out the registry's own capabilities")
	}
}

func TestModelFieldDescription(t *testing.T) {
	r, _ := build(t, gem)
	d := r.ModelFieldDescription()
	want := "Top models: gemini-2.5-pro (score 18, 1M ctx, thinking, code-gen); gemini-3-pro-preview (score 18, 1M ctx, thinking, code-gen); " +
		"gemini-2.5-flash (score 10, 1M ctx, thinking); gemini-2.0-flash (score 9, 1M ctx, thinking); gemini-2.0-flash-lite (score 7, 1M ctx)."
	if !strings.Contains(d, want) || !strings.Contains(d, "Auto mode") || strings.Contains(d, "more via") {
		t.Errorf("gemini only:\n%s\nwant it to contain\n%s", d, want)
	}
	// The score the field names is the one listmodels shows (issue 11: the field said 100 where
	// listmodels said 19).
	for _, p := range r.List().Providers {
		for _, m := range p.Models {
			if s := fmt.Sprintf("%s (score %d,", m.Name, m.Score); !strings.Contains(d, s) {
				t.Errorf("the model field does not say %q, which listmodels shows:\n%s", s, d)
			}
		}
	}

	r, _ = build(t, merge(gem, oai))
	d = r.ModelFieldDescription()
	if !strings.Contains(d, "Top models: ") || !strings.Contains(d, "; +13 more via `listmodels`.") {
		t.Errorf("gemini+openai: %s", d)
	}

	r, _ = build(t, merge(gem, oai, map[string]string{"OPENAI_ALLOWED_MODELS": "o3,mini"}))
	d = r.ModelFieldDescription()
	if !strings.Contains(d, "Allowed models: ") || !strings.Contains(d, "Policy allows only → OpenAI: mini, o3.") {
		t.Errorf("restricted: %s", d)
	}
	if strings.Contains(d, "gpt-5.2") {
		t.Errorf("restricted description names a refused model: %s", d)
	}

	r, _ = build(t, merge(oai, map[string]string{"OPENAI_ALLOWED_MODELS": "o3", "DEFAULT_MODEL": "o3"}))
	d = r.ModelFieldDescription()
	if !strings.Contains(d, "the default is 'o3'") || !strings.Contains(d, "Allowed models: o3 (score 14, 200K ctx).") || strings.Contains(d, "Policy allows") {
		t.Errorf("fixed default, restricted, nothing hidden: %s", d)
	}

	r, _ = build(t, merge(gem, map[string]string{"DEFAULT_MODEL": "flash"}))
	d = r.ModelFieldDescription()
	if !strings.Contains(d, "Preferred alternatives: ") || strings.Contains(d, "Auto mode") {
		t.Errorf("fixed default: %s", d)
	}

	// The same model through OpenRouter is named once.
	r, _ = build(t, merge(gem, orr, map[string]string{"OPENROUTER_ALLOWED_MODELS": "google/gemini-2.5-pro"}))
	d = r.ModelFieldDescription()
	if strings.Count(d, "gemini-2.5-pro") != 1 {
		t.Errorf("duplicate model across providers: %s", d)
	}
}

func TestFormatContext(t *testing.T) {
	for in, want := range map[int]string{0: "", -5: "", 512: "512", 8192: "8K", 32768: "33K", 128000: "128K", 200000: "200K",
		400000: "400K", 1048576: "1M", 1000000: "1M", 2000000: "2M", 1050000: "1.1M", 1500000: "1.5M"} {
		if got := FormatContext(in); got != want {
			t.Errorf("FormatContext(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestListing(t *testing.T) {
	r, _ := build(t, merge(gem, orr, map[string]string{"OPENROUTER_ALLOWED_MODELS": "vendor/x,opus"}))
	l := r.List()
	if len(l.Providers) != len(providers.Priority) {
		t.Fatalf("%d providers listed", len(l.Providers))
	}
	for i, p := range l.Providers {
		if p.Type != providers.Priority[i] {
			t.Errorf("provider %d is %s, want %s", i, p.Type, providers.Priority[i])
		}
	}
	g, o, x := l.Providers[0], l.Providers[7], l.Providers[3]
	if !g.Configured || g.Restricted || len(g.Models) != 5 || g.Name != "Google Gemini" {
		t.Errorf("google listing %+v", g)
	}
	if g.Models[0].Rank < g.Models[len(g.Models)-1].Rank {
		t.Errorf("models not ranked")
	}
	if g.Models[1].Name != "gemini-3-pro-preview" || strings.Join(g.Models[1].Aliases, ",") != "pro,gemini3,gemini-pro" || !g.Models[1].CodeGeneration {
		t.Errorf("google model %+v", g.Models[1])
	}
	if !o.Configured || !o.Restricted || strings.Join(o.AllowedModels, ",") != "opus,vendor/x" || len(o.Models) != 2 {
		t.Errorf("openrouter listing %+v", o)
	}
	var generic int
	for _, m := range o.Models {
		if m.Generic {
			generic++
			if m.Name != "vendor/x" || m.ContextWindow != 32768 || m.Score != 9 {
				t.Errorf("generic model %+v", m)
			}
		}
	}
	if generic != 1 {
		t.Errorf("%d generic models", generic)
	}
	if x.Configured || x.Note != "set XAI_API_KEY" || len(x.Models) != 0 {
		t.Errorf("xai listing %+v", x)
	}
	if l.ConfiguredProviders != 2 || l.AvailableModels != 7 || !l.AutoMode || l.DefaultModel != "auto" {
		t.Errorf("summary %+v", l)
	}
}

// TestKeysNeverLeak uses a known key everywhere a key can go and checks that no error, log
// line (debug level), listing or description contains it.
func TestKeysNeverLeak(t *testing.T) {
	const key = "sk-test-KEY-7f3a9c"
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newFakes()
	f.genErr = &providers.APIError{Provider: providers.OpenAI, Kind: providers.KindAuth, StatusCode: 401, Message: "bad key " + key}
	env := map[string]string{
		"OPENAI_API_KEY": key, "CUSTOM_API_URL": "http://localhost:1/v1", "CUSTOM_API_KEY": key,
		"OPENAI_ALLOWED_MODELS": "o3,unknown-" + key,
	}
	r, err := New(Config{Getenv: envOf(env), Logger: logger, Constructors: f.table()})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	res, err := r.Resolve("o3", providers.CategoryFast)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Generate(context.Background(), res, providers.Request{Prompt: "hi", Temperature: new(float64)})
	if err == nil || !errors.Is(err, providers.ErrUpstream) {
		t.Fatalf("Generate error %v must still wrap ErrUpstream", err)
	}
	var apiErr *providers.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 {
		t.Errorf("APIError lost: %v", err)
	}
	texts = append(texts, err.Error())
	for _, name := range []string{"gpt-5.2", "nope", key, "auto"} {
		if _, err := r.Resolve(name, ""); err != nil {
			texts = append(texts, err.Error())
		}
	}
	texts = append(texts, r.ModelFieldDescription(), fmt.Sprintf("%+v", r.List()))

	// A constructor that echoes the key in its error.
	f2 := newFakes()
	f2.err[providers.OpenAI] = fmt.Errorf("cannot use key %s", key)
	_, err = New(Config{Getenv: envOf(env), Logger: logger, Constructors: f2.table()})
	if err == nil || !strings.Contains(err.Error(), policy.Redacted) {
		t.Errorf("constructor error not redacted: %v", err)
	} else {
		texts = append(texts, err.Error())
	}
	// A URL carrying the key.
	_, err = New(Config{Getenv: envOf(map[string]string{"CUSTOM_API_URL": "http://u:" + key + "@localhost/v1"}), Logger: logger, Constructors: newFakes().table()})
	if err == nil {
		t.Errorf("URL with credentials accepted")
	} else {
		texts = append(texts, err.Error())
	}

	texts = append(texts, logs.String())
	if logs.Len() == 0 || !strings.Contains(logs.String(), policy.Redacted) {
		t.Errorf("expected the fake provider's key logging to be captured and blanked; log:\n%s", logs.String())
	}
	for _, s := range texts {
		if strings.Contains(s, key) {
			t.Errorf("key leaked in: %s", s)
		}
	}
	found := false
	for _, s := range r.SecretValues() {
		if s == key {
			found = true
		}
	}
	if !found {
		t.Errorf("SecretValues lacks the key in use")
	}
}

type nilProvider struct{}

func (nilProvider) Type() providers.Type { return providers.OpenAI }
func (nilProvider) Generate(context.Context, *providers.Capabilities, providers.Request) (*providers.Response, error) {
	return nil, nil
}

func TestGenerateNilResponse(t *testing.T) {
	ctors := map[providers.Type]Constructor{providers.OpenAI: func(providers.Settings) (providers.Provider, error) { return nilProvider{}, nil }}
	r, err := New(Config{Getenv: envOf(oai), Constructors: ctors})
	if err != nil {
		t.Fatal(err)
	}
	res, _ := r.Resolve("o3", "")
	if _, err := r.Generate(context.Background(), res, providers.Request{}); !errors.Is(err, providers.ErrUpstream) {
		t.Errorf("nil response: %v", err)
	}
}
