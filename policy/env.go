package policy

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Environment variables PAL reads that map onto pal.toml keys. ApplyEnv applies them.
const (
	EnvDisabledTools      = "DISABLED_TOOLS"             // tools.disabled (added to)
	EnvDefaultModel       = "DEFAULT_MODEL"              // providers.default_model
	EnvConversationHours  = "CONVERSATION_TIMEOUT_HOURS" // memory.ttl, whole hours
	EnvMaxTurns           = "MAX_CONVERSATION_TURNS"     // memory.max_turns
	EnvMaxMCPOutputTokens = "MAX_MCP_OUTPUT_TOKENS"      // limits.prompt_chars = int(n*0.6)*4
)

// providerEnv names PAL's per-provider variables. An empty name means PAL has none.
type providerEnv struct {
	provider      string
	allowedModels []string // first one set wins
	baseURL       string
	apiVersion    string
	modelsConfig  string
}

var providerEnvs = []providerEnv{
	{"google", []string{"GOOGLE_ALLOWED_MODELS"}, "GEMINI_BASE_URL", "", "GEMINI_MODELS_CONFIG_PATH"},
	{"openai", []string{"OPENAI_ALLOWED_MODELS"}, "", "", "OPENAI_MODELS_CONFIG_PATH"},
	{"azure", []string{"AZURE_OPENAI_ALLOWED_MODELS", "AZURE_ALLOWED_MODELS"}, "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_VERSION", "AZURE_MODELS_CONFIG_PATH"},
	{"xai", []string{"XAI_ALLOWED_MODELS"}, "", "", "XAI_MODELS_CONFIG_PATH"},
	{"dial", []string{"DIAL_ALLOWED_MODELS"}, "DIAL_API_HOST", "DIAL_API_VERSION", "DIAL_MODELS_CONFIG_PATH"},
	{"custom", []string{"CUSTOM_ALLOWED_MODELS"}, "CUSTOM_API_URL", "", "CUSTOM_MODELS_CONFIG_PATH"},
	{"openrouter", []string{"OPENROUTER_ALLOWED_MODELS"}, "", "", "OPENROUTER_MODELS_CONFIG_PATH"},
	{"anthropic", []string{"ANTHROPIC_ALLOWED_MODELS"}, "ANTHROPIC_BASE_URL", "", "ANTHROPIC_MODELS_CONFIG_PATH"},
}

// ApplyEnv applies PAL's environment variables over c, as the top layer: a variable that is
// set and valid replaces the file's value (DISABLED_TOOLS adds to tools.disabled). An empty
// variable counts as unset. An invalid value is ignored, leaving the value from the lower
// layers (the default when no file set it), and explained in a warning; the warnings are
// returned and also appended to c.Warnings. Values of secrets are never read here: keys are
// read by APIKey when a provider is built.
//
// Mapped: DISABLED_TOOLS, DEFAULT_MODEL, CONVERSATION_TIMEOUT_HOURS, MAX_CONVERSATION_TURNS,
// MAX_MCP_OUTPUT_TOKENS, and per provider <TYPE>_ALLOWED_MODELS, the endpoint variables
// (GEMINI_BASE_URL, AZURE_OPENAI_ENDPOINT, DIAL_API_HOST, CUSTOM_API_URL, ANTHROPIC_BASE_URL),
// AZURE_OPENAI_API_VERSION, DIAL_API_VERSION and <TYPE>_MODELS_CONFIG_PATH.
func (c *Config) ApplyEnv(getenv func(string) string) []string {
	var warns []string
	warn := func(format string, args ...any) { warns = append(warns, fmt.Sprintf(format, args...)) }
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }

	if v := get(EnvDisabledTools); v != "" {
		for _, n := range strings.Split(v, ",") {
			n = strings.ToLower(strings.TrimSpace(n))
			switch {
			case n == "":
			case slices.Contains(EssentialTools, n):
				warn("%s: %q cannot be disabled; ignored", EnvDisabledTools, n)
			case !toolNameRE.MatchString(n):
				warn("%s: %q is not a tool name; ignored", EnvDisabledTools, n)
			case !slices.Contains(c.Tools.Disabled, n):
				c.Tools.Disabled = append(c.Tools.Disabled, n)
				c.setOrigin("tools.disabled", EnvDisabledTools)
			}
		}
	}
	if v := get(EnvDefaultModel); v != "" {
		c.Providers.DefaultModel = v
		c.setOrigin("providers.default_model", EnvDefaultModel)
	}
	if n, ok := positiveInt(get(EnvConversationHours), EnvConversationHours, c.Memory.TTL.String(), warn); ok {
		c.Memory.TTL = Duration{time.Duration(n) * time.Hour}
		c.setOrigin("memory.ttl", EnvConversationHours)
	}
	if n, ok := positiveInt(get(EnvMaxTurns), EnvMaxTurns, strconv.Itoa(c.Memory.MaxTurns), warn); ok {
		c.Memory.MaxTurns = n
		c.setOrigin("memory.max_turns", EnvMaxTurns)
	}
	if n, ok := positiveInt(get(EnvMaxMCPOutputTokens), EnvMaxMCPOutputTokens, strconv.Itoa(c.Limits.PromptChars), warn); ok {
		if chars := PromptCharsForTokens(n); chars > 0 {
			c.Limits.PromptChars = chars
			c.setOrigin("limits.prompt_chars", EnvMaxMCPOutputTokens)
		} else {
			warn("%s=%d gives no room for a prompt; keeping %d", EnvMaxMCPOutputTokens, n, c.Limits.PromptChars)
		}
	}

	cwd, _ := os.Getwd()
	for _, pe := range providerEnvs {
		pc := c.Providers.Provider(pe.provider)
		for _, name := range pe.allowedModels {
			if v := get(name); v != "" {
				var models []string
				for _, m := range strings.Split(v, ",") {
					if m = strings.ToLower(strings.TrimSpace(m)); m != "" {
						models = append(models, m)
					}
				}
				if len(models) > 0 {
					pc.AllowedModels = models
					c.setOrigin("providers."+pe.provider+".allowed_models", name)
				}
				break
			}
		}
		if pe.baseURL != "" {
			if v := get(pe.baseURL); v != "" {
				if err := checkBaseURL(v); err != nil {
					warn("%s %v; ignored", pe.baseURL, err)
				} else {
					pc.BaseURL = v
					c.setOrigin("providers."+pe.provider+".base_url", pe.baseURL)
				}
			}
		}
		if pe.apiVersion != "" {
			if v := get(pe.apiVersion); v != "" {
				pc.APIVersion = v
				c.setOrigin("providers."+pe.provider+".api_version", pe.apiVersion)
			}
		}
		if v := get(pe.modelsConfig); v != "" {
			if p, err := expandPath(v, cwd); err != nil {
				warn("%s: %v; ignored", pe.modelsConfig, err)
			} else {
				pc.ModelsConfig = p
				c.setOrigin("providers."+pe.provider+".models_config", pe.modelsConfig)
			}
		}
	}
	c.Warnings = append(c.Warnings, warns...)
	return warns
}

// PromptCharsForTokens is PAL's MCP_PROMPT_SIZE_LIMIT for MAX_MCP_OUTPUT_TOKENS=tokens:
// int(tokens × 0.6) × 4 characters.
func PromptCharsForTokens(tokens int) int { return int(float64(tokens)*0.6) * 4 }

// positiveInt parses an environment value that must be a positive integer. "" is unset.
func positiveInt(v, name, keeping string, warn func(string, ...any)) (int, bool) {
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		warn("%s=%q is not a positive whole number; keeping %s", name, v, keeping)
		return 0, false
	}
	return n, true
}

// setOrigin records that the environment variable name set key.
func (c *Config) setOrigin(key, name string) {
	if c.Origins == nil {
		c.Origins = map[string]string{}
	}
	c.Origins[key] = LayerEnv + " " + name
}
