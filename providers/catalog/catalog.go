// Package catalog holds pal's model catalogue: one JSON file per provider, in PAL's format
// ({"_README": {...}, "models": [...]}, with PAL's capability field names), embedded in the
// binary and replaceable by a file of the user's.
//
// Load is strict: an entry with an unknown field, the legacy max_tokens field, a bad value, or
// an alias that another model of the same file already uses is refused with an error naming the
// file and the entry. Top-level keys other than "models" are ignored, so "_README" and
// "_example_models" may say anything.
package catalog

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/pal-mcp/pal/providers"
)

//go:embed data/*.json
var embedded embed.FS

// MaxFileSize is the largest catalogue accepted, in bytes (the shipped ones are under 20 KB).
const MaxFileSize = 4 << 20

// ErrInvalid is wrapped by every catalogue error (errors.Is).
var ErrInvalid = errors.New("invalid model catalogue")

// Error is one catalogue problem. Entry is the index in "models", or -1 for the file as a whole;
// Model is the entry's model_name when it has a readable one.
type Error struct {
	Source string // file name or path, as given to Load
	Entry  int
	Model  string
	Msg    string
}

func (e *Error) Error() string {
	switch {
	case e.Entry < 0:
		return fmt.Sprintf("model catalogue %s: %s", e.Source, e.Msg)
	case e.Model != "":
		return fmt.Sprintf("model catalogue %s: models[%d] (%q): %s", e.Source, e.Entry, e.Model, e.Msg)
	default:
		return fmt.Sprintf("model catalogue %s: models[%d]: %s", e.Source, e.Entry, e.Msg)
	}
}

// Is makes every *Error an ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

type fileInfo struct {
	name   string // embedded file name
	envVar string // PAL's override variable
	label  string // default friendly-name prefix
}

var files = map[providers.Type]fileInfo{
	providers.Google:     {"gemini_models.json", "GEMINI_MODELS_CONFIG_PATH", "Gemini"},
	providers.OpenAI:     {"openai_models.json", "OPENAI_MODELS_CONFIG_PATH", "OpenAI"},
	providers.Azure:      {"azure_models.json", "AZURE_MODELS_CONFIG_PATH", "Azure OpenAI"},
	providers.XAI:        {"xai_models.json", "XAI_MODELS_CONFIG_PATH", "X.AI"},
	providers.DIAL:       {"dial_models.json", "DIAL_MODELS_CONFIG_PATH", "DIAL"},
	providers.OpenRouter: {"openrouter_models.json", "OPENROUTER_MODELS_CONFIG_PATH", "OpenRouter"},
	providers.Custom:     {"custom_models.json", "CUSTOM_MODELS_CONFIG_PATH", "Custom API"},
	providers.Anthropic:  {"anthropic_models.json", "ANTHROPIC_MODELS_CONFIG_PATH", "Anthropic"},
}

// FileName is the embedded catalogue's name for p (e.g. "gemini_models.json"), "" for an unknown type.
func FileName(p providers.Type) string { return files[p].name }

// EnvVar is the environment variable that points p's catalogue at a file
// (e.g. GEMINI_MODELS_CONFIG_PATH), "" for an unknown type.
func EnvVar(p providers.Type) string { return files[p].envVar }

// Embedded loads the catalogue shipped in the binary for p.
func Embedded(p providers.Type) ([]*providers.Capabilities, error) {
	fi, ok := files[p]
	if !ok {
		return nil, &Error{Source: string(p), Entry: -1, Msg: "no catalogue for this provider type"}
	}
	data, err := embedded.ReadFile("data/" + fi.name)
	if err != nil {
		return nil, &Error{Source: fi.name, Entry: -1, Msg: "not embedded"}
	}
	return load(data, fi.name, p, true)
}

// LoadFile loads p's catalogue from the file at path. The path is named in every error.
func LoadFile(path string, p providers.Type) ([]*providers.Capabilities, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{Source: path, Entry: -1, Msg: "cannot open: " + errText(err)}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, &Error{Source: path, Entry: -1, Msg: "cannot stat: " + errText(err)}
	}
	if !st.Mode().IsRegular() {
		return nil, &Error{Source: path, Entry: -1, Msg: "not a regular file"}
	}
	return Load(f, path, p)
}

// ForProvider loads p's catalogue from path when it is not empty, else the embedded one, and
// returns where it came from (the path or the embedded file name).
func ForProvider(p providers.Type, path string) ([]*providers.Capabilities, string, error) {
	if path = strings.TrimSpace(path); path != "" {
		m, err := LoadFile(path, p)
		return m, path, err
	}
	m, err := Embedded(p)
	return m, FileName(p), err
}

func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// entry is one catalogue entry as written. Pointers tell "absent" from "false"/0 where the
// default is not the zero value.
type entry struct {
	ModelName              string          `json:"model_name"`
	FriendlyName           string          `json:"friendly_name"`
	Aliases                json.RawMessage `json:"aliases"`
	IntelligenceScore      int             `json:"intelligence_score"`
	Description            string          `json:"description"`
	ContextWindow          int             `json:"context_window"`
	MaxOutputTokens        int             `json:"max_output_tokens"`
	MaxThinkingTokens      int             `json:"max_thinking_tokens"`
	SupportsThinking       bool            `json:"supports_extended_thinking"`
	SupportsSystemPrompts  *bool           `json:"supports_system_prompts"`
	SupportsStreaming      *bool           `json:"supports_streaming"`
	SupportsFunctionCalls  bool            `json:"supports_function_calling"`
	SupportsJSONMode       bool            `json:"supports_json_mode"`
	SupportsImages         bool            `json:"supports_images"`
	MaxImageSizeMB         float64         `json:"max_image_size_mb"`
	SupportsTemperature    *bool           `json:"supports_temperature"`
	TemperatureConstraint  string          `json:"temperature_constraint"`
	UseResponsesAPI        bool            `json:"use_openai_response_api"`
	DefaultReasoningEffort string          `json:"default_reasoning_effort"`
	AllowCodeGeneration    bool            `json:"allow_code_generation"`
	Deployment             string          `json:"deployment"`
	DeploymentName         string          `json:"deployment_name"`
	Provider               string          `json:"provider"`
}

// knownFields lists the entry fields Load accepts.
var knownFields = map[string]bool{
	"model_name": true, "friendly_name": true, "aliases": true, "intelligence_score": true,
	"description": true, "context_window": true, "max_output_tokens": true, "max_thinking_tokens": true,
	"supports_extended_thinking": true, "supports_system_prompts": true, "supports_streaming": true,
	"supports_function_calling": true, "supports_json_mode": true, "supports_images": true,
	"max_image_size_mb": true, "supports_temperature": true, "temperature_constraint": true,
	"use_openai_response_api": true, "default_reasoning_effort": true, "allow_code_generation": true,
	"deployment": true, "deployment_name": true, "provider": true,
}

// reasoningEfforts are the accepted default_reasoning_effort values.
var reasoningEfforts = map[string]bool{"none": true, "minimal": true, "low": true, "medium": true, "high": true, "xhigh": true}

// Limits on names, in bytes.
const (
	maxNameLen        = 256
	maxDescriptionLen = 4096
)

// Load reads one catalogue for provider p. source names the file in errors. Entries keep their
// file order; Provider is set to p; FriendlyName defaults to "<Provider> (<model_name>)".
// For Azure every entry needs a deployment ("deployment" or "deployment_name").
func Load(r io.Reader, source string, p providers.Type) ([]*providers.Capabilities, error) {
	if _, ok := files[p]; !ok {
		return nil, &Error{Source: source, Entry: -1, Msg: fmt.Sprintf("unknown provider type %q", p)}
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, &Error{Source: source, Entry: -1, Msg: "cannot read: " + errText(err)}
	}
	if len(data) > MaxFileSize {
		return nil, &Error{Source: source, Entry: -1, Msg: fmt.Sprintf("larger than %d bytes", MaxFileSize)}
	}
	return load(data, source, p, false)
}

// load is Load for data. shipped is true for the catalogues embedded in the binary: each
// entry is then decoded once, without first reading its fields by name to refuse a name that
// differs in case from a known one (Go's decoder matches names in any case), which
// TestShippedCataloguesAreExact checks of every shipped entry; that reading was half of the
// catalogue's ~0.5 ms at each start (docs/RATIONALE.md §79). An entry the decoder refuses is
// read again the careful way, for its message.
func load(data []byte, source string, p providers.Type, shipped bool) ([]*providers.Capabilities, error) {
	fi := files[p]
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil || top == nil {
		return nil, &Error{Source: source, Entry: -1, Msg: "not a JSON object: " + jsonErrText(err)}
	}
	var raws []json.RawMessage
	if m, ok := top["models"]; ok {
		if err := json.Unmarshal(m, &raws); err != nil {
			return nil, &Error{Source: source, Entry: -1, Msg: `"models" must be an array of objects`}
		}
	}

	models := make([]*providers.Capabilities, 0, len(raws))
	for i, raw := range raws {
		caps, err := parseEntry(raw, p, fi.label, shipped)
		if err != nil {
			err.Source, err.Entry = source, i
			return nil, err
		}
		models = append(models, caps)
	}
	if err := checkNames(models); err != nil {
		err.Source = source
		return nil, err
	}
	return models, nil
}

func jsonErrText(err error) string {
	if err == nil {
		return "null"
	}
	return err.Error()
}

func parseEntry(raw json.RawMessage, p providers.Type, label string, shipped bool) (*providers.Capabilities, *Error) {
	if shipped {
		var e entry
		if decodeEntry(raw, &e) != nil || !bytes.HasPrefix(bytes.TrimLeft(raw, " \t\r\n"), []byte("{")) {
			return parseEntry(raw, p, label, false)
		}
		return checkEntry(e, p, label, e.ModelName)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, &Error{Msg: "entry is not a JSON object"}
	}
	var e entry
	// The name first, so later errors can say which model they are about.
	name := ""
	if v, ok := fields["model_name"]; ok {
		_ = json.Unmarshal(v, &name)
		if len(name) > maxNameLen {
			name = name[:maxNameLen]
		}
	}
	fail := func(format string, args ...any) *Error {
		return &Error{Model: name, Msg: fmt.Sprintf(format, args...)}
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "max_tokens" {
			return nil, fail("the legacy field max_tokens is not supported: give context_window (and max_output_tokens) instead")
		}
		if !knownFields[k] {
			return nil, fail("unknown field %q", k)
		}
	}
	if err := decodeEntry(raw, &e); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fail("field %q: %s is not a valid %s", te.Field, te.Value, te.Type)
		}
		return nil, fail("%s", err)
	}
	return checkEntry(e, p, label, name)
}

// decodeEntry decodes raw into e, refusing fields entry does not have.
func decodeEntry(raw json.RawMessage, e *entry) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(e)
}

// checkEntry checks a decoded entry's values and makes its capabilities; name is what errors
// call the model.
func checkEntry(e entry, p providers.Type, label, name string) (*providers.Capabilities, *Error) {
	if len(name) > maxNameLen {
		name = name[:maxNameLen]
	}
	fail := func(format string, args ...any) *Error {
		return &Error{Model: name, Msg: fmt.Sprintf(format, args...)}
	}
	model := strings.TrimSpace(e.ModelName)
	switch {
	case model == "":
		return nil, fail("model_name is missing or empty")
	case !validName(model):
		return nil, fail("model_name must be at most %d bytes without spaces or control characters", maxNameLen)
	}
	aliases, err := parseAliases(e.Aliases)
	if err != nil {
		return nil, fail("%s", err)
	}
	if e.IntelligenceScore < 0 || e.IntelligenceScore > 20 {
		return nil, fail("intelligence_score %d is outside 1..20", e.IntelligenceScore)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"context_window", e.ContextWindow}, {"max_output_tokens", e.MaxOutputTokens}, {"max_thinking_tokens", e.MaxThinkingTokens}} {
		if f.v < 0 {
			return nil, fail("%s must not be negative", f.name)
		}
	}
	if e.MaxImageSizeMB < 0 {
		return nil, fail("max_image_size_mb must not be negative")
	}
	if len(e.Description) > maxDescriptionLen || len(e.FriendlyName) > maxNameLen {
		return nil, fail("description or friendly_name is too long")
	}
	constraint := providers.TemperatureConstraint(strings.ToLower(strings.TrimSpace(e.TemperatureConstraint)))
	switch constraint {
	case "", providers.TemperatureFixed, providers.TemperatureRange, providers.TemperatureDiscrete:
	default:
		return nil, fail("temperature_constraint %q is not fixed, range or discrete", e.TemperatureConstraint)
	}
	effort := strings.ToLower(strings.TrimSpace(e.DefaultReasoningEffort))
	if effort != "" && !reasoningEfforts[effort] {
		return nil, fail("default_reasoning_effort %q is not one of none, minimal, low, medium, high, xhigh", e.DefaultReasoningEffort)
	}
	deployment := strings.TrimSpace(e.Deployment)
	if dn := strings.TrimSpace(e.DeploymentName); dn != "" {
		if deployment != "" && deployment != dn {
			return nil, fail("deployment %q and deployment_name %q disagree", deployment, dn)
		}
		deployment = dn
	}
	if deployment != "" && !validName(deployment) {
		return nil, fail("deployment must be at most %d bytes without spaces or control characters", maxNameLen)
	}
	if p == providers.Azure && deployment == "" {
		return nil, fail("Azure entries need a deployment (or deployment_name)")
	}
	friendly := strings.TrimSpace(e.FriendlyName)
	if friendly == "" {
		friendly = fmt.Sprintf("%s (%s)", label, model)
	}
	return &providers.Capabilities{
		Provider:               p,
		ModelName:              model,
		FriendlyName:           friendly,
		Aliases:                aliases,
		IntelligenceScore:      e.IntelligenceScore,
		Description:            strings.TrimSpace(e.Description),
		ContextWindow:          e.ContextWindow,
		MaxOutputTokens:        e.MaxOutputTokens,
		MaxThinkingTokens:      e.MaxThinkingTokens,
		SupportsThinking:       e.SupportsThinking,
		SupportsSystemPrompts:  e.SupportsSystemPrompts,
		SupportsStreaming:      e.SupportsStreaming,
		SupportsFunctionCalls:  e.SupportsFunctionCalls,
		SupportsJSONMode:       e.SupportsJSONMode,
		SupportsImages:         e.SupportsImages,
		MaxImageSizeMB:         e.MaxImageSizeMB,
		SupportsTemperature:    e.SupportsTemperature,
		TemperatureConstraint:  constraint,
		UseResponsesAPI:        e.UseResponsesAPI,
		DefaultReasoningEffort: effort,
		AllowCodeGeneration:    e.AllowCodeGeneration,
		Deployment:             deployment,
		ProviderOverride:       strings.TrimSpace(e.Provider),
	}, nil
}

// parseAliases accepts a list of strings or one comma-separated string; blanks are dropped.
func parseAliases(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errors.New("aliases must be a list of strings or a comma-separated string")
		}
		list = strings.Split(s, ",")
	}
	out := make([]string, 0, len(list))
	for _, a := range list {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if !validName(a) {
			return nil, fmt.Errorf("alias %q must be at most %d bytes without spaces or control characters", a, maxNameLen)
		}
		out = append(out, a)
	}
	return out, nil
}

func validName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == '\uFFFD' || (r >= 0x80 && r <= 0x9f) {
			return false
		}
	}
	return true
}

// checkNames refuses two models with one name, an alias naming another model, and an alias
// shared by two models, all compared case-insensitively. An alias equal to its own model's name,
// or repeated within one model, is dropped.
func checkNames(models []*providers.Capabilities) *Error {
	owner := map[string]int{} // lower-case name or alias -> model index
	for i, m := range models {
		key := strings.ToLower(m.ModelName)
		if j, dup := owner[key]; dup {
			return &Error{Entry: i, Model: m.ModelName, Msg: fmt.Sprintf("model_name duplicates models[%d] (%q)", j, models[j].ModelName)}
		}
		owner[key] = i
	}
	for i, m := range models {
		kept := m.Aliases[:0]
		seen := map[string]bool{strings.ToLower(m.ModelName): true}
		for _, a := range m.Aliases {
			key := strings.ToLower(a)
			if seen[key] {
				continue
			}
			seen[key] = true
			if j, taken := owner[key]; taken && j != i {
				what := "an alias of"
				if strings.EqualFold(models[j].ModelName, a) {
					what = "the name of"
				}
				return &Error{Entry: i, Model: m.ModelName, Msg: fmt.Sprintf("alias %q is already %s models[%d] (%q)", a, what, j, models[j].ModelName)}
			}
			owner[key] = i
			kept = append(kept, a)
		}
		if len(kept) == 0 {
			kept = nil
		}
		m.Aliases = kept
	}
	return nil
}
