package registry

import (
	"sort"
	"strings"

	"github.com/pal-mcp/pal/providers"
)

// FallbackModel is what PAL names when no provider has any model; pal reports an error instead
// of suggesting it, but keeps the name for messages.
const FallbackModel = "gemini-2.5-flash"

// Preference lists of the native providers, per category (PAL's, plus Anthropic's).
var (
	openAIPreferences = map[providers.Category][]string{
		providers.CategoryExtended: {"gpt-5.1-codex", "gpt-5.2", "gpt-5-codex", "gpt-5.2-pro", "o3-pro", "gpt-5", "o3"},
		providers.CategoryFast:     {"gpt-5.2", "gpt-5.1-codex-mini", "gpt-5", "gpt-5-mini", "gpt-5-codex", "o4-mini", "o3-mini"},
		providers.CategoryBalanced: {"gpt-5.2", "gpt-5.1-codex", "gpt-5", "gpt-5-codex", "gpt-5.2-pro", "gpt-5-mini", "o4-mini", "o3-mini"},
	}
	xaiPreferences       = []string{"grok-4-1-fast-reasoning", "grok-4"}
	anthropicPreferences = map[providers.Category][]string{
		providers.CategoryExtended: {"claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5"},
		providers.CategoryFast:     {"claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-5"},
		providers.CategoryBalanced: {"claude-sonnet-4-5", "claude-opus-4-5", "claude-haiku-4-5"},
	}
)

// pick chooses the model "auto" means for cat, following PAL: providers are asked in priority
// order, each choosing among its allowed models; Gemini, OpenAI, X.AI and Anthropic have
// preferences, the others (Azure, DIAL, custom, OpenRouter) have none. When no provider
// prefers anything, the alphabetically first allowed model of the first provider that has one
// is used. nil when no model is allowed anywhere.
func (r *Registry) pick(cat providers.Category) (*providers.Capabilities, *state) {
	cat = normaliseCategory(cat)
	var fallback *providers.Capabilities
	var fallbackState *state
	for _, st := range r.active {
		allowed := st.allowedModels()
		if len(allowed) == 0 {
			continue
		}
		if fallback == nil {
			fallback, fallbackState = firstByName(allowed), st
		}
		if m := preferred(st.typ, cat, allowed); m != nil {
			return m, st
		}
	}
	return fallback, fallbackState
}

func preferred(t providers.Type, cat providers.Category, allowed []*providers.Capabilities) *providers.Capabilities {
	switch t {
	case providers.Google:
		return geminiPreferred(cat, allowed)
	case providers.OpenAI:
		return firstListedOrBest(openAIPreferences[cat], allowed)
	case providers.XAI:
		return firstListedOrBest(xaiPreferences, allowed)
	case providers.Anthropic:
		return firstListedOrBest(anthropicPreferences[cat], allowed)
	}
	return nil
}

// geminiPreferred: extended reasoning wants a "pro" model with thinking, then any model with
// thinking, then any "pro"; fast wants a "flash"; balanced (and whatever found nothing above)
// wants a "flash", then a "pro", then anything. Among candidates the highest
// intelligence_score wins, ties going to the name that sorts last (the newer version).
func geminiPreferred(cat providers.Category, allowed []*providers.Capabilities) *providers.Capabilities {
	has := func(m *providers.Capabilities, s string) bool {
		return strings.Contains(strings.ToLower(m.ModelName), s)
	}
	filter := func(keep func(*providers.Capabilities) bool) []*providers.Capabilities {
		var out []*providers.Capabilities
		for _, m := range allowed {
			if keep(m) {
				out = append(out, m)
			}
		}
		return out
	}
	pro := func(m *providers.Capabilities) bool { return has(m, "pro") }
	flash := func(m *providers.Capabilities) bool { return has(m, "flash") }
	thinking := func(m *providers.Capabilities) bool { return m.SupportsThinking }

	var tries []func(*providers.Capabilities) bool
	switch cat {
	case providers.CategoryExtended:
		tries = append(tries, func(m *providers.Capabilities) bool { return pro(m) && thinking(m) }, thinking, pro)
	case providers.CategoryFast:
		tries = append(tries, flash)
	}
	tries = append(tries, flash, pro, func(*providers.Capabilities) bool { return true })
	for _, keep := range tries {
		if c := filter(keep); len(c) > 0 {
			return bestByScore(c)
		}
	}
	return nil
}

func bestByScore(c []*providers.Capabilities) *providers.Capabilities {
	best := c[0]
	for _, m := range c[1:] {
		if m.EffectiveScore() > best.EffectiveScore() || (m.EffectiveScore() == best.EffectiveScore() && m.ModelName > best.ModelName) {
			best = m
		}
	}
	return best
}

// firstListedOrBest returns the first name of prefs that is allowed, else the allowed model
// that ranks highest (PAL's "first allowed", its lists being ordered by rank).
func firstListedOrBest(prefs []string, allowed []*providers.Capabilities) *providers.Capabilities {
	for _, p := range prefs {
		for _, m := range allowed {
			if strings.EqualFold(m.ModelName, p) {
				return m
			}
		}
	}
	ranked := rankModels(allowed)
	if len(ranked) == 0 {
		return nil
	}
	return ranked[0]
}

func firstByName(models []*providers.Capabilities) *providers.Capabilities {
	first := models[0]
	for _, m := range models[1:] {
		if m.ModelName < first.ModelName {
			first = m
		}
	}
	return first
}

// rankModels sorts a copy by rank, highest first, then by name.
func rankModels(models []*providers.Capabilities) []*providers.Capabilities {
	out := append([]*providers.Capabilities(nil), models...)
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := out[i].Rank(), out[j].Rank()
		if ri != rj {
			return ri > rj
		}
		return out[i].ModelName < out[j].ModelName
	})
	return out
}
