package server

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pal-mcp/pal/policy"
)

// ToolInfo describes a published tool for people (`pal tools`).
type ToolInfo struct {
	Name string
	// Summary is the first sentence of the description, at most SummaryRunes runes.
	Summary string
	// Grant is what the tool may do in a call under the current policy, in
	// policy.AllCapabilities order; Withheld is what it declares but is not granted.
	Grant, Withheld []policy.Capability
	// Warning, when not empty, says why the tool cannot work as configured: it declares
	// capabilities and is granted none of them (no [tools.<name>] table for a module tool).
	Warning string
}

// grantWarning is the start-up warning for a tool that declares capabilities and is granted
// none: it is published, and every host op it makes is refused with not_granted. "" otherwise.
// A tool that declares nothing needs no grant and gets no warning.
func (t *tool) grantWarning() string {
	if len(t.spec.Capabilities) == 0 || !t.grant.Empty() {
		return ""
	}
	return fmt.Sprintf("tool %q declares %s but is granted none of them, so every host op it makes is refused (not_granted); "+
		"grant them with [tools.%s] capabilities = [...] in a trusted pal.toml", t.spec.Name, strings.Join(t.spec.Capabilities, ", "), t.spec.Name)
}

// SummaryRunes caps ToolInfo.Summary, in runes (an ellipsis ends a cut summary).
const SummaryRunes = 150

// ToolInfos describes the published tools in order.
func (s *Server) ToolInfos() []ToolInfo {
	out := make([]ToolInfo, len(s.tools))
	for i, t := range s.tools {
		info := ToolInfo{Name: t.spec.Name, Summary: summary(t.spec.Description), Grant: t.grant.List(), Warning: t.grantWarning()}
		for _, c := range t.spec.Capabilities {
			cp := policy.Capability(c)
			if !t.grant.Has(cp) && !slices.Contains(info.Withheld, cp) {
				info.Withheld = append(info.Withheld, cp)
			}
		}
		out[i] = info
	}
	return out
}

// summary is the first sentence of a description (up to a period, question or exclamation
// mark followed by a space and a capital letter, or the end), on one line, at most
// SummaryRunes runes.
func summary(desc string) string {
	desc = strings.Join(strings.Fields(desc), " ")
	for i := 0; i < len(desc); i++ {
		if c := desc[i]; (c == '.' || c == '?' || c == '!') && i+2 < len(desc) && desc[i+1] == ' ' {
			if r, _ := utf8.DecodeRuneInString(desc[i+2:]); unicode.IsUpper(r) {
				desc = desc[:i+1]
				break
			}
		}
	}
	if utf8.RuneCountInString(desc) > SummaryRunes {
		r := []rune(desc)
		desc = strings.TrimRight(string(r[:SummaryRunes-1]), " ,;:") + "…"
	}
	return desc
}
