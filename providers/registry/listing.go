package registry

import (
	"fmt"
	"strings"

	"github.com/pal-mcp/pal/providers"
)

// Listing is what the listmodels tool shows: every provider type in priority order, configured
// or not, with the models a call may use. It holds no secrets.
type Listing struct {
	DefaultModel        string
	AutoMode            bool
	Providers           []ProviderListing
	ConfiguredProviders int // providers with Configured set
	AvailableModels     int // models across configured providers, restrictions applied
}

// ProviderListing is one provider in a Listing.
type ProviderListing struct {
	Type       providers.Type
	Name       string // display name, e.g. "Google Gemini"
	Configured bool
	// Note says what is missing when the provider is not configured (e.g. "set XAI_API_KEY").
	Note string
	// Restricted is set when an allowlist applies; AllowedModels is that list as configured.
	Restricted    bool
	AllowedModels []string
	Catalogue     string         // file the models came from
	Models        []ModelListing // allowed models, highest rank first; empty when not configured
}

// ModelListing is one model in a ProviderListing.
type ModelListing struct {
	Name            string // canonical
	FriendlyName    string
	Description     string
	Aliases         []string
	Rank            int // providers.Capabilities.Rank
	Score           int // effective intelligence score, 1..20
	ContextWindow   int // tokens
	MaxOutputTokens int // tokens
	Thinking        bool
	Images          bool
	CodeGeneration  bool
	Generic         bool // an OpenRouter id without a catalogue entry
}

// List describes the providers and models for the listmodels tool.
func (r *Registry) List() Listing {
	l := Listing{DefaultModel: r.defaultModel, AutoMode: r.AutoMode()}
	for _, st := range r.all {
		pl := ProviderListing{Type: st.typ, Name: st.spec.name, Configured: st.configured, Note: st.reason, Catalogue: st.source}
		if st.configured {
			l.ConfiguredProviders++
			pl.Restricted = st.restricted
			pl.AllowedModels = append([]string(nil), st.allowList...)
			for _, m := range rankModels(st.allowedModels()) {
				pl.Models = append(pl.Models, ModelListing{
					Name: m.ModelName, FriendlyName: m.FriendlyName, Description: m.Description,
					Aliases: append([]string(nil), m.Aliases...), Rank: m.Rank(), Score: m.EffectiveScore(),
					ContextWindow: m.ContextWindow, MaxOutputTokens: m.MaxOutputTokens,
					Thinking: m.SupportsThinking, Images: m.SupportsImages, CodeGeneration: m.AllowCodeGeneration,
					Generic: st.typ == providers.OpenRouter && st.byName[strings.ToLower(m.ModelName)] == nil,
				})
			}
			l.AvailableModels += len(pl.Models)
		}
		l.Providers = append(l.Providers, pl)
	}
	return l
}

// summaryLimit is how many models the model field description names.
const summaryLimit = 5

// ModelFieldDescription is the description of the "model" input field, true to what is
// configured and allowed: in auto mode it asks the caller to choose; with a fixed default it
// names it. Either way it lists the top models by rank as "name (score S, 1M ctx, thinking,
// code-gen)" (S is the intelligence score 1..20, the number listmodels shows), "+K more via `listmodels`", under "Allowed models"
// when an allowlist applies, and adds the allowlists when some models are left out.
func (r *Registry) ModelFieldDescription() string {
	var b strings.Builder
	auto := r.AutoMode()
	if auto {
		b.WriteString("Model to run. Auto mode is on: when the user names a model, pass exactly that name; " +
			"otherwise choose one that suits the task (the `listmodels` tool describes them all).")
	} else {
		fmt.Fprintf(&b, "Model to run; the default is '%s'. Pass another name only when the user asks for it, exactly as "+
			"given, and report a rejection instead of substituting another model (`listmodels` describes them all).", r.defaultModel)
	}
	summaries, total := r.summaries()
	restricted := r.anyRestricted()
	if len(summaries) == 0 {
		b.WriteString(" No model is available with the configured keys and restrictions.")
	} else {
		label := "Top models"
		switch {
		case restricted:
			label = "Allowed models"
		case !auto:
			label = "Preferred alternatives"
		}
		fmt.Fprintf(&b, " %s: %s", label, strings.Join(summaries, "; "))
		if more := total - len(summaries); more > 0 {
			fmt.Fprintf(&b, "; +%d more via `listmodels`", more)
		}
		b.WriteString(".")
	}
	if restricted && (total > len(summaries) || len(summaries) == 0) {
		var notes []string
		for _, st := range r.active {
			if st.restricted {
				notes = append(notes, fmt.Sprintf("%s: %s", st.spec.noteName, strings.Join(st.allowList, ", ")))
			}
		}
		fmt.Fprintf(&b, " Policy allows only → %s.", strings.Join(notes, "; "))
	}
	return b.String()
}

func (r *Registry) anyRestricted() bool {
	for _, st := range r.active {
		if st.restricted {
			return true
		}
	}
	return false
}

// summaries formats the top models, skipping a model already shown under another provider's
// name (google/gemini-2.5-pro after gemini-2.5-pro); total counts the models after that.
func (r *Registry) summaries() (top []string, total int) {
	seen := map[string]bool{}
	for _, m := range rankModels(r.allowedModels()) {
		id := sameModelKey(m.ModelName)
		if seen[id] {
			continue
		}
		seen[id] = true
		total++
		if len(top) < summaryLimit {
			top = append(top, summary(m))
		}
	}
	return top, total
}

// sameModelKey reduces a name to what identifies the model across providers: lower case,
// without an OpenRouter vendor prefix and without a ":variant" suffix.
func sameModelKey(name string) string {
	n := strings.ToLower(name)
	if i := strings.Index(n, ":"); i >= 0 {
		n = n[:i]
	}
	if i := strings.Index(n, "/"); i >= 0 {
		n = n[i+1:]
	}
	return n
}

func summary(m *providers.Capabilities) string {
	parts := []string{fmt.Sprintf("score %d", m.EffectiveScore())}
	if c := FormatContext(m.ContextWindow); c != "" {
		parts = append(parts, c+" ctx")
	}
	if m.SupportsThinking {
		parts = append(parts, "thinking")
	}
	if m.AllowCodeGeneration {
		parts = append(parts, "code-gen")
	}
	return fmt.Sprintf("%s (%s)", m.ModelName, strings.Join(parts, ", "))
}

// FormatContext writes a token count briefly: 1048576 → "1M", 2000000 → "2M", 1050000 →
// "1.1M" (one decimal, ".0" dropped), 400000 → "400K" (whole thousands, rounded), 512 → "512";
// "" for zero or less.
func FormatContext(tokens int) string {
	switch {
	case tokens <= 0:
		return ""
	case tokens >= 1_000_000:
		s := fmt.Sprintf("%.1f", float64(tokens)/1_000_000)
		return strings.TrimSuffix(s, ".0") + "M"
	case tokens >= 1_000:
		return fmt.Sprintf("%dK", (tokens+500)/1000)
	}
	return fmt.Sprintf("%d", tokens)
}
