package hostfns

import (
	"context"

	"github.com/pal-mcp/pal/providers"
	"github.com/pal-mcp/pal/providers/registry"
)

// RegistryModels serves the model ops from a provider registry.
type RegistryModels struct {
	R *registry.Registry
}

var _ Models = RegistryModels{}

// Resolve implements Models.
func (m RegistryModels) Resolve(name string, cat providers.Category) (ModelInfo, error) {
	res, err := m.R.Resolve(name, cat)
	if err != nil {
		return ModelInfo{}, err
	}
	return infoOf(res), nil
}

// Generate implements Models.
func (m RegistryModels) Generate(ctx context.Context, name string, cat providers.Category, req providers.Request) (*providers.Response, ModelInfo, error) {
	res, err := m.R.Resolve(name, cat)
	if err != nil {
		return nil, ModelInfo{}, err
	}
	req.Model = res.Caps.ModelName
	resp, err := m.R.Generate(ctx, res, req)
	return resp, infoOf(res), err
}

// ModelList is the model.list result (docs/abi.md).
type ModelList struct {
	Mode         string         `json:"mode"` // auto or fixed
	DefaultModel string         `json:"default_model"`
	Providers    []ProviderList `json:"providers"`
}

// ProviderList is one provider of a ModelList.
type ProviderList struct {
	ID            string      `json:"id"`
	Name          string      `json:"name"`
	Configured    bool        `json:"configured"`
	Note          string      `json:"note,omitempty"`
	Restricted    bool        `json:"restricted"`
	AllowedModels []string    `json:"allowed_models,omitempty"`
	Models        []ModelItem `json:"models"`
}

// ModelItem is one model of a ProviderList.
type ModelItem struct {
	Name                string   `json:"name"`
	FriendlyName        string   `json:"friendly_name,omitempty"`
	Aliases             []string `json:"aliases"`
	ContextWindow       int      `json:"context_window"`
	MaxOutputTokens     int      `json:"max_output_tokens"`
	Score               int      `json:"score"`
	Rank                int      `json:"rank"`
	Description         string   `json:"description,omitempty"`
	SupportsThinking    bool     `json:"supports_thinking"`
	SupportsImages      bool     `json:"supports_images"`
	AllowCodeGeneration bool     `json:"allow_code_generation"`
}

// List implements Models.
func (m RegistryModels) List() any {
	l := m.R.List()
	out := ModelList{Mode: "fixed", DefaultModel: l.DefaultModel, Providers: []ProviderList{}}
	if l.AutoMode {
		out.Mode = "auto"
	}
	for _, p := range l.Providers {
		pl := ProviderList{ID: string(p.Type), Name: p.Name, Configured: p.Configured, Note: p.Note,
			Restricted: p.Restricted, AllowedModels: p.AllowedModels, Models: []ModelItem{}}
		for _, md := range p.Models {
			aliases := md.Aliases
			if aliases == nil {
				aliases = []string{}
			}
			pl.Models = append(pl.Models, ModelItem{
				Name: md.Name, FriendlyName: md.FriendlyName, Aliases: aliases, ContextWindow: md.ContextWindow,
				MaxOutputTokens: md.MaxOutputTokens, Score: md.Score, Rank: md.Rank, Description: md.Description,
				SupportsThinking: md.Thinking, SupportsImages: md.Images, AllowCodeGeneration: md.CodeGeneration,
			})
		}
		out.Providers = append(out.Providers, pl)
	}
	return out
}

// Summary implements Models.
func (m RegistryModels) Summary() ([]string, int) {
	l := m.R.List()
	names := []string{}
	for _, p := range l.Providers {
		if p.Configured {
			names = append(names, string(p.Type))
		}
	}
	return names, l.AvailableModels
}

func infoOf(res *registry.Resolved) ModelInfo {
	c := res.Caps
	return ModelInfo{
		Model:               c.ModelName,
		Provider:            string(res.Type),
		FriendlyName:        c.FriendlyName,
		ContextWindow:       c.ContextWindow,
		MaxOutputTokens:     c.MaxOutputTokens,
		SupportsImages:      c.SupportsImages,
		MaxImageSizeMB:      c.MaxImageSizeMB,
		SupportsTemperature: c.AcceptsTemperature(),
		SupportsThinking:    c.SupportsThinking,
		AllowCodeGeneration: c.AllowCodeGeneration,
	}
}
