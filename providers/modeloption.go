package providers

import "strings"

// openRouterSuffixes are the OpenRouter variant suffixes that belong to the model id itself
// ("meta-llama/llama-3-8b:free" is one model, not a model with an option).
var openRouterSuffixes = map[string]bool{"free": true, "beta": true, "preview": true}

// ParseModelOption splits a client's model string into the model name and an option, following
// PAL's rules:
//
//   - a string without ':' or starting with "http" is a model name only (trimmed);
//   - a string that contains '/' and exactly one ':' whose suffix (trimmed, any case) is free,
//     beta or preview is an OpenRouter variant id and is kept whole (trimmed);
//   - otherwise it is split at the first ':' and both halves are trimmed
//     ("llama3.2:latest" gives "llama3.2" and "latest").
//
// option is "" when there is none.
func ParseModelOption(s string) (model, option string) {
	if !strings.Contains(s, ":") || strings.HasPrefix(s, "http") {
		return strings.TrimSpace(s), ""
	}
	if strings.Contains(s, "/") && strings.Count(s, ":") == 1 {
		_, suffix, _ := strings.Cut(s, ":")
		if openRouterSuffixes[strings.ToLower(strings.TrimSpace(suffix))] {
			return strings.TrimSpace(s), ""
		}
	}
	m, o, _ := strings.Cut(s, ":")
	return strings.TrimSpace(m), strings.TrimSpace(o)
}
