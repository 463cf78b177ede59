package hostfns

import (
	"context"

	"github.com/pal-mcp/pal/providers"
	"github.com/pal-mcp/pal/providers/registry"
	"github.com/pal-mcp/pal/runtime/abi"
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

// List implements Models.
func (m RegistryModels) List() abi.ModelListResult {
	l := m.R.List()
	out := abi.ModelListResult{Mode: "fixed", DefaultModel: l.DefaultModel, Providers: []abi.ProviderModels{}}
	if l.AutoMode {
		out.Mode = "auto"
	}
	for _, p := range l.Providers {
		pl := abi.ProviderModels{ID: string(p.Type), Name: p.Name, Configured: p.Configured, Note: p.Note,
			Restricted: p.Restricted, AllowedModels: p.AllowedModels, Models: []abi.ListedModel{}}
		for _, md := range p.Models {
			aliases := md.Aliases
			if aliases == nil {
				aliases = []string{}
			}
			pl.Models = append(pl.Models, abi.ListedModel{
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
