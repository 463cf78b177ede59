//go:build !wasip1

package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/paltest"
)

func jsonRaw(s string) json.RawMessage { return json.RawMessage(s) }

func TestManifest(t *testing.T) {
	var m abi.Manifest
	if err := json.Unmarshal(pal.Describe(), &m); err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Fatalf("the host would refuse the manifest: %v", err)
	}
	if m.Name != "builtin" || m.Version != moduleVersion {
		t.Fatalf("module %s %s", m.Name, m.Version)
	}
	type want struct {
		category                                   string
		requiresModel                              bool
		readOnly, destructive, idempotent, openWld bool
		caps                                       []string
	}
	wants := map[string]want{
		"chat": {"fast", true, true, false, false, true,
			[]string{"fs.read", "fs.list", "model.generate", "thread.read", "thread.write", "progress", "host.info"}},
		"listmodels": {"balanced", false, true, false, true, false, []string{"model.list"}},
		"version":    {"fast", false, true, false, true, false, []string{"host.info"}},
		"challenge":  {"fast", false, true, false, true, false, []string{"host.info"}},
		"apilookup":  {"fast", false, true, false, true, false, []string{"host.info"}},
		"clink":      {"balanced", false, false, true, false, true, []string{"cli.run", "fs.read", "thread.read", "thread.write", "host.info"}},
	}
	if len(m.Tools) != len(wants)+len(workflowTools) {
		t.Fatalf("%d tools", len(m.Tools))
	}
	for _, tool := range m.Tools {
		if slices.Contains(workflowTools, tool.Name) {
			continue // TestWorkflowManifest
		}
		w, ok := wants[tool.Name]
		if !ok {
			t.Fatalf("unexpected tool %s", tool.Name)
		}
		a := tool.Annotations
		if tool.Category != w.category || tool.RequiresModel != w.requiresModel || *a.ReadOnlyHint != w.readOnly ||
			*a.DestructiveHint != w.destructive || *a.IdempotentHint != w.idempotent || *a.OpenWorldHint != w.openWld {
			t.Errorf("%s: %+v", tool.Name, tool)
		}
		if !slices.Equal(tool.Capabilities, w.caps) {
			t.Errorf("%s capabilities %v, want %v", tool.Name, tool.Capabilities, w.caps)
		}
		var schema struct {
			Type                 string         `json:"type"`
			Properties           map[string]any `json:"properties"`
			Required             []string       `json:"required"`
			AdditionalProperties *bool          `json:"additionalProperties"`
		}
		if err := json.Unmarshal(tool.InputSchema, &schema); err != nil || schema.AdditionalProperties == nil || *schema.AdditionalProperties {
			t.Errorf("%s schema must set additionalProperties false: %s", tool.Name, tool.InputSchema)
		}
		if tool.Name == "chat" {
			props := []string{"prompt", "absolute_file_paths", "images", "model", "temperature", "thinking_mode", "continuation_id", "working_directory_absolute_path"}
			for _, p := range props {
				if _, ok := schema.Properties[p]; !ok {
					t.Errorf("chat schema lacks %s", p)
				}
			}
			if len(schema.Properties) != len(props) || !slices.Equal(schema.Required, []string{"prompt"}) {
				t.Errorf("chat schema %s", tool.InputSchema)
			}
			if !strings.Contains(tool.Description, "never writes files") {
				t.Error("chat description does not say it writes nothing")
			}
		} else if tool.Name == "clink" {
			props := []string{"prompt", "cli_name", "role", "absolute_file_paths", "images", "args", "continuation_id"}
			for _, p := range props {
				if d, _ := schema.Properties[p].(map[string]any)["description"].(string); d == "" {
					t.Errorf("clink schema lacks %s or its description", p)
				}
			}
			if len(schema.Properties) != len(props) || !slices.Equal(schema.Required, []string{"prompt"}) {
				t.Errorf("clink schema %s", tool.InputSchema)
			}
		} else if tool.Name == "challenge" || tool.Name == "apilookup" {
			if len(schema.Properties) != 1 || !slices.Equal(schema.Required, []string{"prompt"}) {
				t.Errorf("%s schema %s", tool.Name, tool.InputSchema)
			}
		} else if len(schema.Properties) != 0 {
			t.Errorf("%s takes input: %s", tool.Name, tool.InputSchema)
		}
	}
}

func TestListModels(t *testing.T) {
	h := newHost()
	h.Restricted = []string{"openai"}
	h.Unconfigured = []string{"xai"}
	h.Models = append(h.Models,
		paltest.Model{Name: "anthropic/claude-sonnet-4.5", Provider: "openrouter", ContextWindow: 200_000, Score: 12},
		paltest.Model{Name: "meta-llama/llama-3-70b", Provider: "openrouter", ContextWindow: 8192, Score: 5},
		paltest.Model{Name: "gemini-2.5-pro", Provider: "google", ContextWindow: 1_048_576, Score: 18, SupportsThinking: true, AllowCodeGeneration: true})
	h.ProviderNames["openrouter"] = "OpenRouter"
	out := invoke(t, h, "listmodels", map[string]any{})
	mustSucceed(t, out)
	c := out.Content
	for _, w := range []string{
		"# Models available through this server",
		"**auto**",
		"## Google Gemini ✅\n- `gemini-2.5-pro` — 1M context, score 18, thinking, code generation\n",
		"- `gemini-2.5-flash` — 1M context, score 10, thinking, images\n  Fast and cheap.\n",
		"**Aliases:** `flash` → `gemini-2.5-flash`",
		"## OpenAI ✅\n_Restricted by policy",
		"- `o3` — 200K context, score 14",
		"## OpenRouter ✅\n\n**anthropic**\n- `anthropic/claude-sonnet-4.5` — 200K context",
		"**meta-llama**\n- `meta-llama/llama-3-70b` — 8K context",
		"## X.AI (Grok) ❌\nNot configured",
		"- Providers configured: 3\n- Models available: 5\n",
	} {
		if !strings.Contains(c, w) {
			t.Errorf("listing lacks %q:\n%s", w, c)
		}
	}
	if out.Metadata["tool_name"] != "listmodels" || out.Metadata["configured_providers"] != float64(3) {
		t.Errorf("metadata %v", out.Metadata)
	}
	if h.CountRequests("model.list ok") != 1 || len(h.Requests) != 1 {
		t.Errorf("requests %v", h.Requests)
	}

	out = invoke(t, newHost(), "listmodels", map[string]any{"verbose": true})
	mustFail(t, out, "error", `unknown argument "verbose"`)

	h = newHost()
	h.Grant = []string{}
	out = invoke(t, h, "listmodels", map[string]any{})
	mustFail(t, out, "error", "Cannot list models")
}

func TestVersion(t *testing.T) {
	h := newHost()
	h.Info = pal.ServerInfo{Name: "pal", Version: "0.3.1", ModelSelection: "auto", DefaultModel: "auto", Providers: []string{"google", "openai"},
		ModelsAvailable: 7, Client: pal.ClientInfo{Name: "claude-code", Version: "2.0"}, Platform: "darwin/arm64", GoVersion: "go1.26.8"}
	out := invoke(t, h, "version", nil)
	mustSucceed(t, out)
	for _, w := range []string{"# pal 0.3.1", "**Server version:** 0.3.1", "**Tool ABI:** 1 (built-in tools module " + moduleVersion + ")",
		"**Model selection:** auto", "**Providers configured:** google, openai", "**Models available:** 7",
		"**Connected client:** claude-code 2.0", "**Platform:** darwin/arm64 (go1.26.8)", "Update check not available"} {
		if !strings.Contains(out.Content, w) {
			t.Errorf("version lacks %q:\n%s", w, out.Content)
		}
	}
	m := out.Metadata
	if m["tool_name"] != "version" || m["server_version"] != "0.3.1" || m["abi"] != float64(1) || m["model_selection_mode"] != "auto" ||
		m["platform"] != "darwin/arm64" || m["client"] != "claude-code 2.0" {
		t.Errorf("metadata %v", m)
	}

	h.Info.ModelSelection, h.Info.DefaultModel = "o3", "o3"
	out = invoke(t, h, "version", map[string]any{})
	if !strings.Contains(out.Content, "fixed default `o3`") || out.Metadata["model_selection_mode"] != "default" {
		t.Errorf("fixed mode: %s %v", out.Content, out.Metadata)
	}
	out = invoke(t, newHost(), "version", map[string]any{"check": true})
	mustFail(t, out, "error", "unknown argument")
}

func TestContextLabel(t *testing.T) {
	for n, want := range map[int]string{1_048_576: "1M", 2_000_000: "2M", 1_500_000: "1.5M", 200_000: "200K", 131_072: "131K", 8192: "8K", 512: "512", 0: "unknown"} {
		if got := contextLabel(n); got != want {
			t.Errorf("contextLabel(%d) = %s, want %s", n, got, want)
		}
	}
}
