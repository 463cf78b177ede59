package catalog

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/providers"
)

var allTypes = []providers.Type{providers.Google, providers.OpenAI, providers.Azure, providers.XAI, providers.DIAL, providers.OpenRouter, providers.Custom, providers.Anthropic}

func TestEmbeddedCataloguesLoad(t *testing.T) {
	for _, p := range allTypes {
		models, err := Embedded(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if p == providers.Azure {
			if len(models) != 0 {
				t.Errorf("azure: shipped catalogue has %d models, want none (Azure is off until the user lists deployments)", len(models))
			}
			continue
		}
		if len(models) == 0 {
			t.Errorf("%s: empty catalogue", p)
		}
		for _, m := range models {
			if m.Provider != p {
				t.Errorf("%s: %s has provider %q", p, m.ModelName, m.Provider)
			}
			if m.Description == "" || m.FriendlyName == "" || m.ContextWindow == 0 {
				t.Errorf("%s: %s lacks description, friendly name or context window", p, m.ModelName)
			}
		}
	}
}

// TestShippedFacts pins the catalogue facts PAL users rely on (inventory §3.3).
func TestShippedFacts(t *testing.T) {
	find := func(p providers.Type, name string) *providers.Capabilities {
		t.Helper()
		models, err := Embedded(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range models {
			if m.ModelName == name {
				return m
			}
		}
		t.Fatalf("%s: no model %s", p, name)
		return nil
	}
	hasAlias := func(m *providers.Capabilities, a string) bool {
		for _, x := range m.Aliases {
			if x == a {
				return true
			}
		}
		return false
	}
	g3 := find(providers.Google, "gemini-3-pro-preview")
	if g3.MaxThinkingTokens != 32768 || g3.IntelligenceScore != 18 || !g3.AllowCodeGeneration || !hasAlias(g3, "pro") || g3.ContextWindow != 1048576 {
		t.Errorf("gemini-3-pro-preview facts wrong: %+v", g3)
	}
	g25f := find(providers.Google, "gemini-2.5-flash")
	if g25f.MaxThinkingTokens != 24576 || !hasAlias(g25f, "flash") {
		t.Errorf("gemini-2.5-flash facts wrong: %+v", g25f)
	}
	lite := find(providers.Google, "gemini-2.0-flash-lite")
	if lite.SupportsThinking || lite.SupportsImages {
		t.Errorf("flash-lite must have no thinking and no images")
	}
	o3 := find(providers.OpenAI, "o3")
	if o3.AcceptsTemperature() || o3.TemperatureConstraint != providers.TemperatureFixed {
		t.Errorf("o3 must take no temperature")
	}
	codex := find(providers.OpenAI, "gpt-5.1-codex")
	if codex.IntelligenceScore != 19 || !codex.UseResponsesAPI || codex.DefaultReasoningEffort != "high" {
		t.Errorf("gpt-5.1-codex facts wrong: %+v", codex)
	}
	g52 := find(providers.OpenAI, "gpt-5.2")
	if !hasAlias(g52, "gpt-5.1") || g52.DefaultReasoningEffort != "medium" || g52.TemperatureConstraint != providers.TemperatureFixed {
		t.Errorf("gpt-5.2 facts wrong: %+v", g52)
	}
	pro := find(providers.OpenAI, "gpt-5.2-pro")
	if !pro.UseResponsesAPI || pro.DefaultReasoningEffort != "high" {
		t.Errorf("gpt-5.2-pro facts wrong")
	}
	if m := find(providers.OpenAI, "o3-pro"); !m.UseResponsesAPI {
		t.Errorf("o3-pro must use the Responses API")
	}
	if m := find(providers.OpenAI, "gpt-4.1"); m.ContextWindow != 1000000 {
		t.Errorf("gpt-4.1 context %d", m.ContextWindow)
	}
	if m := find(providers.XAI, "grok-4-1-fast-reasoning"); m.ContextWindow != 2000000 {
		t.Errorf("grok-4-1-fast-reasoning context %d", m.ContextWindow)
	}
	if m := find(providers.Custom, "llama3.2"); !hasAlias(m, "local-llama") || m.ContextWindow != 128000 {
		t.Errorf("llama3.2 facts wrong")
	}
	for _, name := range []string{"claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5"} {
		m := find(providers.Anthropic, name)
		if m.ContextWindow != 200000 || !m.SupportsThinking || m.MaxThinkingTokens <= 1024 || m.MaxOutputTokens <= m.MaxThinkingTokens {
			t.Errorf("%s: want 200K context and a thinking budget below max output: %+v", name, m)
		}
	}
	if m := find(providers.Anthropic, "claude-opus-4-5"); !hasAlias(m, "opus") {
		t.Errorf("claude-opus-4-5 lacks alias opus")
	}
}

func loadString(t *testing.T, p providers.Type, src string) ([]*providers.Capabilities, error) {
	t.Helper()
	return Load(strings.NewReader(src), "test_models.json", p)
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		p       providers.Type
		src     string
		wantErr []string // every piece must appear in the message
	}{
		{"unknown key", providers.OpenAI, `{"models":[{"model_name":"a"},{"model_name":"b","colour":"red"}]}`,
			[]string{"test_models.json", "models[1]", `"b"`, `unknown field "colour"`}},
		{"legacy max_tokens", providers.OpenAI, `{"models":[{"model_name":"old","max_tokens":4096}]}`,
			[]string{"test_models.json", "models[0]", `"old"`, "max_tokens"}},
		{"duplicate alias", providers.Google, `{"models":[{"model_name":"a","aliases":["fast"]},{"model_name":"b","aliases":["FAST"]}]}`,
			[]string{"test_models.json", "models[1]", `"b"`, `alias "FAST"`, "models[0]"}},
		{"alias is another model's name", providers.Google, `{"models":[{"model_name":"a","aliases":["B"]},{"model_name":"b"}]}`,
			[]string{"models[0]", `"a"`, `alias "B"`, "the name of models[1]"}},
		{"duplicate model name", providers.Google, `{"models":[{"model_name":"a"},{"model_name":"A"}]}`,
			[]string{"models[1]", "duplicates models[0]"}},
		{"duplicate alias in comma string", providers.Google, `{"models":[{"model_name":"a","aliases":"x, y"},{"model_name":"b","aliases":"y"}]}`,
			[]string{"models[1]", `alias "y"`}},
		{"missing name", providers.Google, `{"models":[{"description":"x"}]}`, []string{"models[0]", "model_name is missing"}},
		{"blank name", providers.Google, `{"models":[{"model_name":"   "}]}`, []string{"model_name is missing"}},
		{"name with space", providers.Google, `{"models":[{"model_name":"a b"}]}`, []string{"model_name must be"}},
		{"alias with newline", providers.Google, `{"models":[{"model_name":"a","aliases":["x\ny"]}]}`, []string{"alias"}},
		{"aliases wrong type", providers.Google, `{"models":[{"model_name":"a","aliases":7}]}`, []string{"aliases must be"}},
		{"aliases list of numbers", providers.Google, `{"models":[{"model_name":"a","aliases":[1]}]}`, []string{"aliases must be"}},
		{"string for int", providers.Google, `{"models":[{"model_name":"a","context_window":"big"}]}`, []string{"models[0]", "context_window"}},
		{"float for int", providers.Google, `{"models":[{"model_name":"a","context_window":1.5}]}`, []string{"context_window"}},
		{"string for bool", providers.Google, `{"models":[{"model_name":"a","supports_images":"yes"}]}`, []string{"supports_images"}},
		{"negative context", providers.Google, `{"models":[{"model_name":"a","context_window":-1}]}`, []string{"context_window must not be negative"}},
		{"negative image size", providers.Google, `{"models":[{"model_name":"a","max_image_size_mb":-1}]}`, []string{"max_image_size_mb"}},
		{"score too high", providers.Google, `{"models":[{"model_name":"a","intelligence_score":21}]}`, []string{"intelligence_score 21"}},
		{"bad constraint", providers.Google, `{"models":[{"model_name":"a","temperature_constraint":"wild"}]}`, []string{"temperature_constraint"}},
		{"bad effort", providers.OpenAI, `{"models":[{"model_name":"a","default_reasoning_effort":"turbo"}]}`, []string{"default_reasoning_effort"}},
		{"azure without deployment", providers.Azure, `{"models":[{"model_name":"gpt-5"}]}`, []string{"models[0]", `"gpt-5"`, "deployment"}},
		{"azure deployments disagree", providers.Azure, `{"models":[{"model_name":"gpt-5","deployment":"a","deployment_name":"b"}]}`, []string{"disagree"}},
		{"key differing in case", providers.Google, `{"models":[{"model_name":"a","Context_Window":5}]}`, []string{`unknown field "Context_Window"`}},
		{"entry not object", providers.Google, `{"models":["a"]}`, []string{"models[0]", "not a JSON object"}},
		{"null entry", providers.Google, `{"models":[null]}`, []string{"models[0]", "not a JSON object"}},
		{"models not array", providers.Google, `{"models":{"model_name":"a"}}`, []string{"test_models.json", `"models" must be an array`}},
		{"not an object", providers.Google, `[1,2]`, []string{"test_models.json", "not a JSON object"}},
		{"null document", providers.Google, `null`, []string{"not a JSON object"}},
		{"trailing garbage", providers.Google, `{"models":[]} x`, []string{"not a JSON object"}},
		{"empty input", providers.Google, ``, []string{"not a JSON object"}},
		{"unknown provider", providers.Type("martian"), `{"models":[]}`, []string{"unknown provider type"}},
	}
	for _, tt := range tests {
		_, err := loadString(t, tt.p, tt.src)
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error does not wrap ErrInvalid: %v", tt.name, err)
		}
		for _, w := range tt.wantErr {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tt.name, err, w)
			}
		}
	}
}

func TestLoadAccepts(t *testing.T) {
	src := `{
	  "_README": {"anything": ["goes", 1, null]},
	  "_example_models": [{"model_name": "ignored", "max_tokens": 5}],
	  "models": [
	    {"model_name": "alpha", "aliases": "a1, A2 ,, alpha", "supports_temperature": false},
	    {"model_name": "beta", "aliases": ["b1", "B1", "beta"], "temperature_constraint": "DISCRETE", "default_reasoning_effort": "High"},
	    {"model_name": "gamma", "aliases": null}
	  ]
	}`
	models, err := loadString(t, providers.OpenRouter, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(models) != 3 {
		t.Fatalf("got %d models", len(models))
	}
	a, b, g := models[0], models[1], models[2]
	if strings.Join(a.Aliases, ",") != "a1,A2" {
		t.Errorf("alpha aliases %q (own name and blanks must be dropped)", a.Aliases)
	}
	if strings.Join(b.Aliases, ",") != "b1" {
		t.Errorf("beta aliases %q (a repeat within one model is dropped)", b.Aliases)
	}
	if g.Aliases != nil {
		t.Errorf("gamma aliases %q", g.Aliases)
	}
	if a.AcceptsTemperature() {
		t.Errorf("alpha must take no temperature")
	}
	if b.TemperatureConstraint != providers.TemperatureDiscrete || b.DefaultReasoningEffort != "high" {
		t.Errorf("beta constraint %q effort %q", b.TemperatureConstraint, b.DefaultReasoningEffort)
	}
	if a.FriendlyName != "OpenRouter (alpha)" {
		t.Errorf("default friendly name %q", a.FriendlyName)
	}
	// A PAL file without "models" is an empty catalogue (PAL's azure_models.json).
	if m, err := loadString(t, providers.Azure, `{"_README": {}}`); err != nil || len(m) != 0 {
		t.Errorf("file without models: %v, %d", err, len(m))
	}
	az, err := loadString(t, providers.Azure, `{"models":[{"model_name":"gpt-5","deployment_name":"prod-gpt5"}]}`)
	if err != nil || az[0].Deployment != "prod-gpt5" {
		t.Errorf("azure deployment_name: %v %+v", err, az)
	}
}

func TestLoadTooLarge(t *testing.T) {
	big := `{"_README":"` + strings.Repeat("x", MaxFileSize) + `","models":[]}`
	_, err := loadString(t, providers.Google, big)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized file: %v", err)
	}
}

func TestForProviderAndLoadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mine.json")
	if err := os.WriteFile(path, []byte(`{"models":[{"model_name":"my-model","aliases":["mine"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	models, src, err := ForProvider(providers.Custom, path)
	if err != nil || src != path || len(models) != 1 || models[0].ModelName != "my-model" {
		t.Fatalf("ForProvider(path) = %v, %q, %v", models, src, err)
	}
	models, src, err = ForProvider(providers.Custom, "")
	if err != nil || src != "custom_models.json" || models[0].ModelName != "llama3.2" {
		t.Fatalf("ForProvider(\"\") = %v, %q, %v", models, src, err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"models":[{"model_name":"x","max_tokens":1}]}`), 0o600)
	if _, _, err := ForProvider(providers.Custom, bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("error must name the file: %v", err)
	}
	if _, err := LoadFile(filepath.Join(dir, "missing.json"), providers.Custom); err == nil || !strings.Contains(err.Error(), "missing.json") || !errors.Is(err, ErrInvalid) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := LoadFile(dir, providers.Custom); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: %v", err)
	}
	if EnvVar(providers.Anthropic) != "ANTHROPIC_MODELS_CONFIG_PATH" || EnvVar(providers.Google) != "GEMINI_MODELS_CONFIG_PATH" || EnvVar(providers.Azure) != "AZURE_MODELS_CONFIG_PATH" {
		t.Errorf("env var names wrong")
	}
}

func FuzzLoad(f *testing.F) {
	for _, p := range allTypes {
		data, err := embedded.ReadFile("data/" + FileName(p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(0))
	}
	f.Add([]byte(`{"models":[{"model_name":"a","aliases":"b,c"},{"model_name":"b"}]}`), uint8(1))
	f.Add([]byte(`{"models":[{"model_name":"a","max_tokens":1}]}`), uint8(2))
	f.Add([]byte(`{"models":[{"model_name":"a","deployment":"d"}]}`), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		p := allTypes[int(which)%len(allTypes)]
		models, err := Load(strings.NewReader(string(data)), "fuzz.json", p)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "fuzz.json") {
				t.Fatalf("error %q does not name the file or wrap ErrInvalid", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, m := range models {
			if m.ModelName == "" || m.Provider != p {
				t.Fatalf("bad model %+v", m)
			}
			if p == providers.Azure && m.Deployment == "" {
				t.Fatalf("azure model without deployment")
			}
			for _, n := range append([]string{m.ModelName}, m.Aliases...) {
				k := strings.ToLower(n)
				if seen[k] {
					t.Fatalf("name %q used twice", n)
				}
				seen[k] = true
			}
		}
	})
}

// TestShippedCataloguesAreExact (docs/RATIONALE.md §79): Embedded decodes each shipped entry
// once, without Load's check that every field name is written exactly (Go's decoder matches
// names in any case), so every shipped catalogue must pass Load's checks and give what
// Embedded gives. A file from the user always goes through Load: there a name that differs
// in case is refused, while the shipped path would take it.
func TestShippedCataloguesAreExact(t *testing.T) {
	for _, p := range allTypes {
		data, err := embedded.ReadFile("data/" + FileName(p))
		if err != nil {
			t.Fatal(err)
		}
		strict, err := Load(bytes.NewReader(data), FileName(p), p)
		if err != nil {
			t.Fatalf("%s: the shipped catalogue fails Load's checks: %v", p, err)
		}
		fast, err := Embedded(p)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(strict, fast) {
			t.Errorf("%s: Embedded and Load differ", p)
		}
	}
	cased := []byte(`{"models":[{"Model_Name":"m1","context_window":1000}]}`)
	if _, err := Load(bytes.NewReader(cased), "user.json", providers.Custom); err == nil {
		t.Error("Load took a field name that differs in case")
	}
	if _, err := load(cased, "shipped.json", providers.Custom, true); err != nil {
		t.Errorf("the shipped path: %v", err)
	}
	bad := []byte(`{"models":[{"model_name":"m1","max_tokens":5}, null]}`)
	_, errShipped := load(bad, "x.json", providers.Custom, true)
	_, errUser := Load(bytes.NewReader(bad), "x.json", providers.Custom)
	if errShipped == nil || errUser == nil || errShipped.Error() != errUser.Error() {
		t.Errorf("a refused entry: shipped path %v, Load %v; want the same message", errShipped, errUser)
	}
	null := []byte(`{"models":[null]}`)
	_, errShipped = load(null, "x.json", providers.Custom, true)
	_, errUser = Load(bytes.NewReader(null), "x.json", providers.Custom)
	if errShipped == nil || errUser == nil || errShipped.Error() != errUser.Error() {
		t.Errorf("a null entry: shipped path %v, Load %v; want the same message", errShipped, errUser)
	}
}
