package registry

import (
	"fmt"
	"strings"

	"github.com/pal-mcp/pal/providers"
)

// maxNamesInError bounds the "Available models" list of an UnavailableError.
const maxNamesInError = 10

// UnavailableError: no configured provider serves the requested name. It wraps
// providers.ErrNotConfigured. The text follows PAL's: "Model 'X' is not available with current
// API keys. Available models: a, b. Suggested model: 'Y' (category: fast)."
type UnavailableError struct {
	Requested string
	Available []string // canonical names of the allowed models, highest rank first
	Suggested string   // what "auto" means for Category, "" when nothing is available
	Category  providers.Category
}

func (e *UnavailableError) Error() string { return e.message("") }

// ForTool is the message with the tool named in the suggestion, as PAL words it:
// "Suggested model for chat: 'Y' (category: fast)".
func (e *UnavailableError) ForTool(tool string) string { return e.message(tool) }

func (e *UnavailableError) message(tool string) string {
	var b strings.Builder
	if e.Requested == "auto" {
		b.WriteString("No model is available for automatic selection with current API keys and restrictions.")
	} else {
		fmt.Fprintf(&b, "Model '%s' is not available with current API keys.", e.Requested)
	}
	if len(e.Available) == 0 {
		b.WriteString(" Available models: none.")
	} else {
		shown := e.Available
		if len(shown) > maxNamesInError {
			shown = shown[:maxNamesInError]
		}
		fmt.Fprintf(&b, " Available models: %s", strings.Join(shown, ", "))
		if more := len(e.Available) - len(shown); more > 0 {
			fmt.Fprintf(&b, "; +%d more via `listmodels`", more)
		}
		b.WriteString(".")
	}
	if e.Suggested != "" {
		if tool != "" {
			fmt.Fprintf(&b, " Suggested model for %s: '%s' (category: %s).", tool, e.Suggested, e.Category)
		} else {
			fmt.Fprintf(&b, " Suggested model: '%s' (category: %s).", e.Suggested, e.Category)
		}
	}
	return b.String()
}

// Unwrap makes it a providers.ErrNotConfigured.
func (e *UnavailableError) Unwrap() error { return providers.ErrNotConfigured }

// RestrictedError: the name is known, but every provider that serves it has an allowlist that
// leaves it out. It wraps providers.ErrRestricted.
type RestrictedError struct {
	Requested string
	Providers []providers.Type            // the providers that know the name, in priority order
	Allowed   map[providers.Type][]string // each one's allowlist
}

func (e *RestrictedError) Error() string {
	parts := make([]string, 0, len(e.Providers))
	for _, p := range e.Providers {
		parts = append(parts, fmt.Sprintf("%s allows only %s", p, strings.Join(e.Allowed[p], ", ")))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("model '%s' is not allowed by restriction policy.", e.Requested)
	}
	return fmt.Sprintf("%s model '%s' is not allowed by restriction policy (%s).", e.Providers[0], e.Requested, strings.Join(parts, "; "))
}

// Unwrap makes it a providers.ErrRestricted.
func (e *RestrictedError) Unwrap() error { return providers.ErrRestricted }

// availableNames is every allowed model's canonical name, ranked, without repeats.
func (r *Registry) availableNames() []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range rankModels(r.allowedModels()) {
		if !seen[m.ModelName] {
			seen[m.ModelName] = true
			out = append(out, m.ModelName)
		}
	}
	return out
}
