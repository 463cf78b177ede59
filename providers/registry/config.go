package registry

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pal-mcp/pal/providers"
	"github.com/pal-mcp/pal/providers/catalog"
)

// Constructor builds one provider from its settings (openaicompat.New, gemini.New, anthropic.New).
type Constructor func(providers.Settings) (providers.Provider, error)

// Config says how to build a Registry. The zero value reads everything from the environment
// with PAL's variable names.
type Config struct {
	// Getenv reads one variable; nil means os.Getenv. Tests pass a map lookup.
	Getenv func(string) string
	// DefaultModel is the model used when a call names none; "" means the DEFAULT_MODEL
	// variable, and "auto" when that is empty too.
	DefaultModel string
	// Providers holds per-provider settings from pal.toml. A non-empty value overrides the
	// environment variable it corresponds to.
	Providers map[providers.Type]ProviderConfig
	// HTTPClient, when set, is handed to every provider (tests point it at httptest servers).
	HTTPClient *http.Client
	// Retry is the retry schedule handed to every provider; the zero value means
	// providers.DefaultRetry.
	Retry providers.RetryPolicy
	// Logger receives configuration notes and warnings; nil discards them. The registry and
	// every provider log through a filter that blanks the keys in use.
	Logger *slog.Logger
	// Constructors builds providers by type; a nil map means the real ones (gemini, anthropic,
	// openaicompat for the rest). A type missing from a non-nil map cannot be configured.
	Constructors map[providers.Type]Constructor
}

// ProviderConfig is one provider's pal.toml section. Empty fields fall back to the environment.
type ProviderConfig struct {
	APIKey     string
	BaseURL    string // endpoint; for Azure the resource endpoint, for DIAL the host
	APIVersion string // Azure's or DIAL's api-version
	// AllowedModels restricts the provider to these names (canonical names or aliases, any
	// case); empty means the *_ALLOWED_MODELS variable, and no restriction when that is unset.
	AllowedModels []string
	// CatalogPath replaces the embedded catalogue with this JSON file.
	CatalogPath string
	// Disabled switches the provider off even when a key is present.
	Disabled bool
}

// envSpec is one provider's environment variables (PAL's names).
type envSpec struct {
	typ            providers.Type
	name           string   // listing name
	noteName       string   // label in the "Policy allows only" note
	keyVar         string   // API key variable
	urlVar         string   // endpoint variable, "" when there is none
	versionVar     string   // api-version variable
	defaultVersion string   // api-version used when none is set
	allowVars      []string // allowlist variables, first non-empty wins
	urlRequired    bool     // the provider is off without an endpoint (Azure, custom)
	keyOptional    bool     // the provider works without a key (custom: Ollama needs none)
}

var specs = map[providers.Type]envSpec{
	providers.Google: {typ: providers.Google, name: "Google Gemini", noteName: "Google", keyVar: "GEMINI_API_KEY",
		urlVar: "GEMINI_BASE_URL", allowVars: []string{"GOOGLE_ALLOWED_MODELS"}},
	providers.OpenAI: {typ: providers.OpenAI, name: "OpenAI", noteName: "OpenAI", keyVar: "OPENAI_API_KEY",
		urlVar: "OPENAI_BASE_URL", allowVars: []string{"OPENAI_ALLOWED_MODELS"}},
	providers.Azure: {typ: providers.Azure, name: "Azure OpenAI", noteName: "Azure", keyVar: "AZURE_OPENAI_API_KEY",
		urlVar: "AZURE_OPENAI_ENDPOINT", versionVar: "AZURE_OPENAI_API_VERSION", defaultVersion: "2024-02-15-preview",
		allowVars: []string{"AZURE_OPENAI_ALLOWED_MODELS", "AZURE_ALLOWED_MODELS"}, urlRequired: true},
	providers.XAI: {typ: providers.XAI, name: "X.AI (Grok)", noteName: "X.AI", keyVar: "XAI_API_KEY",
		allowVars: []string{"XAI_ALLOWED_MODELS"}},
	providers.Anthropic: {typ: providers.Anthropic, name: "Anthropic", noteName: "Anthropic", keyVar: "ANTHROPIC_API_KEY",
		urlVar: "ANTHROPIC_BASE_URL", allowVars: []string{"ANTHROPIC_ALLOWED_MODELS"}},
	providers.DIAL: {typ: providers.DIAL, name: "AI DIAL", noteName: "DIAL", keyVar: "DIAL_API_KEY",
		urlVar: "DIAL_API_HOST", versionVar: "DIAL_API_VERSION", defaultVersion: "2024-12-01-preview",
		allowVars: []string{"DIAL_ALLOWED_MODELS"}},
	providers.Custom: {typ: providers.Custom, name: "Custom/Local API", noteName: "Custom", keyVar: "CUSTOM_API_KEY",
		urlVar: "CUSTOM_API_URL", allowVars: []string{"CUSTOM_ALLOWED_MODELS"}, urlRequired: true, keyOptional: true},
	providers.OpenRouter: {typ: providers.OpenRouter, name: "OpenRouter", noteName: "OpenRouter", keyVar: "OPENROUTER_API_KEY",
		allowVars: []string{"OPENROUTER_ALLOWED_MODELS"}},
}

// OpenRouter attribution headers, used when OPENROUTER_REFERER / OPENROUTER_TITLE are unset.
const (
	DefaultOpenRouterReferer = "https://github.com/pal-mcp/pal"
	DefaultOpenRouterTitle   = "pal"
)

// maxTimeout bounds CUSTOM_CONNECT_TIMEOUT and CUSTOM_READ_TIMEOUT.
const maxTimeout = 24 * time.Hour

type env struct {
	get func(string) string
}

func newEnv(f func(string) string) env {
	if f == nil {
		f = os.Getenv
	}
	return env{get: f}
}

func (e env) str(name string) string { return strings.TrimSpace(e.get(name)) }

// seconds reads a timeout in seconds (decimals allowed); 0 when unset.
func (e env) seconds(name string) (time.Duration, error) {
	v := e.str(name)
	if v == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 || f > maxTimeout.Seconds() {
		return 0, fmt.Errorf("%s must be a number of seconds between 0 and %d, got %q", name, int(maxTimeout.Seconds()), v)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// settingsFor is everything read for one provider before it is built.
type settingsFor struct {
	spec        envSpec
	key         string // "" when absent or a placeholder
	baseURL     string
	urlSource   string // variable or pal.toml key the URL came from
	version     string
	allow       []string // lower-cased, trimmed, de-duplicated, sorted
	allowSource string
	catalogPath string
	disabled    bool
}

func readSettings(t providers.Type, e env, pc ProviderConfig) (settingsFor, error) {
	sp := specs[t]
	s := settingsFor{spec: sp, disabled: pc.Disabled}

	s.key = strings.TrimSpace(pc.APIKey)
	if providers.IsPlaceholderKey(s.key) {
		s.key = e.str(sp.keyVar)
	}
	if providers.IsPlaceholderKey(s.key) {
		s.key = ""
	}

	s.baseURL, s.urlSource = strings.TrimSpace(pc.BaseURL), fmt.Sprintf("pal.toml providers.%s.base_url", t)
	if s.baseURL == "" && sp.urlVar != "" {
		s.baseURL, s.urlSource = e.str(sp.urlVar), sp.urlVar
	}
	if s.baseURL != "" {
		if err := providers.ValidateBaseURL(s.baseURL); err != nil {
			return s, fmt.Errorf("%s: %w", s.urlSource, err)
		}
	}

	s.version = strings.TrimSpace(pc.APIVersion)
	if s.version == "" && sp.versionVar != "" {
		s.version = e.str(sp.versionVar)
	}
	if s.version == "" {
		s.version = sp.defaultVersion
	}

	// A pal.toml list with nothing but blanks restricts nothing, so it must not replace (and
	// thereby lift) an allowlist set in the environment.
	if allow := normaliseList(pc.AllowedModels); len(allow) > 0 {
		s.allow, s.allowSource = allow, fmt.Sprintf("pal.toml providers.%s.allowed_models", t)
	} else {
		for _, v := range sp.allowVars {
			if raw := e.str(v); raw != "" {
				s.allow, s.allowSource = normaliseList(strings.Split(raw, ",")), v
				break
			}
		}
	}

	s.catalogPath = strings.TrimSpace(pc.CatalogPath)
	if s.catalogPath == "" {
		s.catalogPath = e.str(catalog.EnvVar(t))
	}
	return s, nil
}

// normaliseList trims, lower-cases, drops blanks and repeats, and sorts.
func normaliseList(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range in {
		v = strings.ToLower(strings.TrimSpace(v))
		if v == "" || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
	}
	sortStrings(out)
	return out
}
