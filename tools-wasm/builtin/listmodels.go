package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
)

const noInputSchema = `{"type":"object","properties":{},"additionalProperties":false}`

func init() {
	pal.Register(pal.Tool{
		Name:         "listmodels",
		Title:        "List available models",
		Description:  "List the models this server can consult, to pick a model name for other tools.",
		InputSchema:  json.RawMessage(noInputSchema),
		Annotations:  pal.Annotations{ReadOnly: true, Destructive: false, Idempotent: true, OpenWorld: false},
		Capabilities: []string{pal.CapModelList},
		Category:     "balanced",
		Handler:      handleListModels,
	})
}

func handleListModels(_ context.Context, _ *pal.Call, raw json.RawMessage) (*pal.Result, error) {
	if err := noArgs(raw); err != nil {
		return errorResult("listmodels", pal.FailInvalidArguments, err.Error(), nil), nil
	}
	cat, err := pal.ListModels()
	if err != nil {
		return errorResult("listmodels", pal.FailureCode(err), "Cannot list models: "+hostMessage(err), nil), nil
	}
	text, configured, total := renderCatalogue(cat)
	return result(toolOutput{Status: "success", Content: text, ContinuationOffer: noOffer,
		Metadata: map[string]any{"tool_name": "listmodels", "configured_providers": configured, "models_available": total}}, false), nil
}

// renderCatalogue writes the catalogue as Markdown and counts configured providers and
// available models.
func renderCatalogue(cat pal.Catalogue) (text string, configured, total int) {
	var b strings.Builder
	b.WriteString("# Models available through this server\n\n")
	if cat.Mode == "auto" {
		b.WriteString("Model selection: **auto** — name a model below, or pass `auto` and the server picks one suited to the tool.\n")
	} else {
		fmt.Fprintf(&b, "Model selection: fixed — `%s` is used when no model is named.\n", cat.DefaultModel)
	}
	for _, p := range cat.Providers {
		name := p.Name
		if name == "" {
			name = p.ID
		}
		if !p.Configured {
			fmt.Fprintf(&b, "\n## %s ❌\nNot configured on this server.\n", name)
			continue
		}
		configured++
		total += len(p.Models)
		fmt.Fprintf(&b, "\n## %s ✅\n", name)
		if p.Restricted {
			b.WriteString("_Restricted by policy: only the allowed models are listed._\n")
		}
		if len(p.Models) == 0 {
			b.WriteString("No models are allowed.\n")
			continue
		}
		if p.ID == "openrouter" {
			renderGrouped(&b, p.Models)
		} else {
			renderModels(&b, p.Models)
		}
	}
	b.WriteString("\n## Summary\n")
	fmt.Fprintf(&b, "- Providers configured: %d\n- Models available: %d\n", configured, total)
	b.WriteString("- Pass a model's name or one of its aliases as `model` to any tool that consults a model.\n")
	b.WriteString("- Higher scores mean stronger models; larger context windows take more files and longer conversations.\n")
	return b.String(), configured, total
}

// sortModels orders models by score, strongest first, then by name.
func sortModels(ms []pal.CatalogueModel) []pal.CatalogueModel {
	out := append([]pal.CatalogueModel(nil), ms...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func renderModels(b *strings.Builder, ms []pal.CatalogueModel) {
	var aliases []string
	for _, m := range sortModels(ms) {
		b.WriteString(modelLine(m) + "\n")
		if d := strings.TrimSpace(m.Description); d != "" {
			b.WriteString("  " + d + "\n")
		}
		for _, a := range m.Aliases {
			aliases = append(aliases, fmt.Sprintf("`%s` → `%s`", a, m.Name))
		}
	}
	if len(aliases) > 0 {
		b.WriteString("\n**Aliases:** " + strings.Join(aliases, ", ") + "\n")
	}
}

// renderGrouped lists models named vendor/model under their vendor.
func renderGrouped(b *strings.Builder, ms []pal.CatalogueModel) {
	groups := map[string][]pal.CatalogueModel{}
	var vendors []string
	for _, m := range ms {
		vendor := "other"
		if i := strings.IndexByte(m.Name, '/'); i > 0 {
			vendor = m.Name[:i]
		}
		if _, ok := groups[vendor]; !ok {
			vendors = append(vendors, vendor)
		}
		groups[vendor] = append(groups[vendor], m)
	}
	sort.Strings(vendors)
	for _, v := range vendors {
		fmt.Fprintf(b, "\n**%s**\n", v)
		renderModels(b, groups[v])
	}
}

// modelLine is one model's summary line.
func modelLine(m pal.CatalogueModel) string {
	traits := []string{contextLabel(m.ContextWindow) + " context"}
	if m.Score > 0 {
		traits = append(traits, fmt.Sprintf("score %d", m.Score))
	}
	if m.SupportsThinking {
		traits = append(traits, "thinking")
	}
	if m.SupportsImages {
		traits = append(traits, "images")
	}
	if m.AllowCodeGeneration {
		traits = append(traits, "code generation")
	}
	return fmt.Sprintf("- `%s` — %s", m.Name, strings.Join(traits, ", "))
}

// contextLabel writes a token count the short way: 1M, 1.5M, 200K, 512.
func contextLabel(tokens int) string {
	switch {
	case tokens >= 1_000_000:
		tenths := tokens / 100_000
		if tenths%10 == 0 {
			return fmt.Sprintf("%dM", tenths/10)
		}
		return fmt.Sprintf("%d.%dM", tenths/10, tenths%10)
	case tokens >= 1000:
		return fmt.Sprintf("%dK", tokens/1000)
	case tokens > 0:
		return fmt.Sprintf("%d", tokens)
	}
	return "unknown"
}
