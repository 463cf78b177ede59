package policy

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestApplyEnv(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, c *Config)
		warns []string // substrings, one per expected warning
	}{
		{name: "nothing set", env: nil, check: func(t *testing.T, c *Config) {
			want := Default()
			if c.Providers.DefaultModel != want.Providers.DefaultModel || c.Memory != want.Memory ||
				c.Limits != want.Limits || len(c.Tools.Disabled) != 0 {
				t.Errorf("config changed: %+v", c)
			}
		}},
		{name: "DISABLED_TOOLS", env: map[string]string{"DISABLED_TOOLS": " Analyze, refactor,,version , ListModels,bad name"},
			check: func(t *testing.T, c *Config) {
				if !slices.Equal(c.Tools.Disabled, []string{"analyze", "refactor"}) {
					t.Errorf("disabled = %v", c.Tools.Disabled)
				}
				if c.ToolEnabled("analyze") || !c.ToolEnabled("version") || !c.ToolEnabled("listmodels") || !c.ToolEnabled("chat") {
					t.Error("ToolEnabled disagrees with DISABLED_TOOLS")
				}
			},
			warns: []string{`"version" cannot be disabled`, `"listmodels" cannot be disabled`, `"bad name" is not a tool name`}},
		{name: "DEFAULT_MODEL", env: map[string]string{"DEFAULT_MODEL": " pro "}, check: func(t *testing.T, c *Config) {
			if c.Providers.DefaultModel != "pro" {
				t.Errorf("default model = %q", c.Providers.DefaultModel)
			}
		}},
		{name: "conversation settings", env: map[string]string{"CONVERSATION_TIMEOUT_HOURS": "24", "MAX_CONVERSATION_TURNS": "40"},
			check: func(t *testing.T, c *Config) {
				if c.Memory.TTL.Duration != 24*time.Hour || c.Memory.MaxTurns != 40 {
					t.Errorf("memory = %+v", c.Memory)
				}
			}},
		{name: "invalid conversation settings fall back", env: map[string]string{
			"CONVERSATION_TIMEOUT_HOURS": "0", "MAX_CONVERSATION_TURNS": "many"},
			check: func(t *testing.T, c *Config) {
				if c.Memory.TTL.Duration != 3*time.Hour || c.Memory.MaxTurns != 50 {
					t.Errorf("memory = %+v", c.Memory)
				}
			},
			warns: []string{"CONVERSATION_TIMEOUT_HOURS=\"0\"", "MAX_CONVERSATION_TURNS=\"many\""}},
		{name: "fractional hours refused", env: map[string]string{"CONVERSATION_TIMEOUT_HOURS": "1.5"},
			check: func(t *testing.T, c *Config) {
				if c.Memory.TTL.Duration != 3*time.Hour {
					t.Errorf("ttl = %v", c.Memory.TTL)
				}
			}, warns: []string{"CONVERSATION_TIMEOUT_HOURS"}},
		{name: "MAX_MCP_OUTPUT_TOKENS", env: map[string]string{"MAX_MCP_OUTPUT_TOKENS": "25000"},
			check: func(t *testing.T, c *Config) {
				if c.Limits.PromptChars != 60_000 { // int(25000*0.6)*4
					t.Errorf("prompt chars = %d", c.Limits.PromptChars)
				}
			}},
		{name: "MAX_MCP_OUTPUT_TOKENS odd", env: map[string]string{"MAX_MCP_OUTPUT_TOKENS": "7"},
			check: func(t *testing.T, c *Config) {
				if c.Limits.PromptChars != 16 { // int(4.2)*4
					t.Errorf("prompt chars = %d", c.Limits.PromptChars)
				}
			}},
		{name: "MAX_MCP_OUTPUT_TOKENS invalid", env: map[string]string{"MAX_MCP_OUTPUT_TOKENS": "-5"},
			check: func(t *testing.T, c *Config) {
				if c.Limits.PromptChars != 60_000 {
					t.Errorf("prompt chars = %d", c.Limits.PromptChars)
				}
			}, warns: []string{"MAX_MCP_OUTPUT_TOKENS"}},
		{name: "MAX_MCP_OUTPUT_TOKENS too small", env: map[string]string{"MAX_MCP_OUTPUT_TOKENS": "1"},
			check: func(t *testing.T, c *Config) {
				if c.Limits.PromptChars != 60_000 {
					t.Errorf("prompt chars = %d", c.Limits.PromptChars)
				}
			}, warns: []string{"no room"}},
		{name: "provider variables", env: map[string]string{
			"OPENAI_ALLOWED_MODELS":       "O3, gpt-5 ,",
			"AZURE_ALLOWED_MODELS":        "ignored-when-the-long-name-is-set",
			"AZURE_OPENAI_ALLOWED_MODELS": "gpt-4o",
			"AZURE_OPENAI_ENDPOINT":       "https://r.openai.azure.com/",
			"AZURE_OPENAI_API_VERSION":    "2025-01-01",
			"DIAL_API_HOST":               "https://dial.example",
			"CUSTOM_API_URL":              "http://localhost:11434/v1",
			"GEMINI_MODELS_CONFIG_PATH":   "/etc/pal/gemini.json",
			"GOOGLE_ALLOWED_MODELS":       "  ",
		}, check: func(t *testing.T, c *Config) {
			p := &c.Providers
			if !slices.Equal(p.OpenAI.AllowedModels, []string{"o3", "gpt-5"}) ||
				!slices.Equal(p.Azure.AllowedModels, []string{"gpt-4o"}) || p.Google.AllowedModels != nil {
				t.Errorf("allowed = %v %v %v", p.OpenAI.AllowedModels, p.Azure.AllowedModels, p.Google.AllowedModels)
			}
			if p.Azure.BaseURL != "https://r.openai.azure.com/" || p.Azure.APIVersion != "2025-01-01" ||
				p.DIAL.BaseURL != "https://dial.example" || p.Custom.BaseURL != "http://localhost:11434/v1" {
				t.Errorf("endpoints = %+v %+v %+v", p.Azure, p.DIAL, p.Custom)
			}
			if p.Google.ModelsConfig != "/etc/pal/gemini.json" {
				t.Errorf("catalogue = %q", p.Google.ModelsConfig)
			}
		}},
		{name: "bad endpoint ignored without echo", env: map[string]string{"CUSTOM_API_URL": "http://user:topsecretpw@host"},
			check: func(t *testing.T, c *Config) {
				if c.Providers.Custom.BaseURL != "" {
					t.Errorf("base url = %q", c.Providers.Custom.BaseURL)
				}
			}, warns: []string{"CUSTOM_API_URL"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			warns := c.ApplyEnv(func(k string) string { return tc.env[k] })
			tc.check(t, c)
			if len(warns) != len(tc.warns) {
				t.Fatalf("warnings = %q, want %d", warns, len(tc.warns))
			}
			for i, w := range tc.warns {
				if !strings.Contains(warns[i], w) {
					t.Errorf("warning %q lacks %q", warns[i], w)
				}
				if strings.Contains(warns[i], "topsecretpw") {
					t.Errorf("warning %q repeats a password", warns[i])
				}
			}
			if !slices.Equal(c.Warnings, warns) {
				t.Errorf("c.Warnings = %q, want %q", c.Warnings, warns)
			}
		})
	}
}

func TestApplyEnvOverridesFile(t *testing.T) {
	c, err := Load(writeConfig(t, "[providers]\ndefault_model = \"flash\"\n[memory]\nmax_turns = 10\n[tools]\ndisabled = [\"debug\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	c.ApplyEnv(func(k string) string {
		return map[string]string{"DEFAULT_MODEL": "o3", "MAX_CONVERSATION_TURNS": "zero", "DISABLED_TOOLS": "chat,debug"}[k]
	})
	if c.Providers.DefaultModel != "o3" {
		t.Errorf("env did not override the file: %q", c.Providers.DefaultModel)
	}
	if c.Memory.MaxTurns != 10 {
		t.Errorf("an invalid env value must keep the file's value, got %d", c.Memory.MaxTurns)
	}
	if !slices.Equal(c.Tools.Disabled, []string{"debug", "chat"}) {
		t.Errorf("DISABLED_TOOLS must add to the file's list: %v", c.Tools.Disabled)
	}
}

func TestPromptCharsForTokens(t *testing.T) {
	for tokens, want := range map[int]int{25_000: 60_000, 1: 0, 2: 4, 10: 24, 100_000: 240_000} {
		if got := PromptCharsForTokens(tokens); got != want {
			t.Errorf("PromptCharsForTokens(%d) = %d, want %d", tokens, got, want)
		}
	}
}
