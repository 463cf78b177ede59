package providers

import "strings"

// placeholderKeys are the sample values PAL's .env.example ships; a user who copied the file
// without editing it has no key.
var placeholderKeys = map[string]bool{
	"your_gemini_api_key_here":     true,
	"your_openai_api_key_here":     true,
	"your_azure_openai_key_here":   true,
	"your_xai_api_key_here":        true,
	"your_dial_api_key_here":       true,
	"your_openrouter_api_key_here": true,
	"your_anthropic_api_key_here":  true,
	"your_custom_api_key_here":     true,
}

// IsPlaceholderKey reports whether k is no key at all: empty or white space, one of PAL's
// sample values (your_openai_api_key_here, …), or any value of the same shape
// ("your_…_here", any case).
func IsPlaceholderKey(k string) bool {
	k = strings.ToLower(strings.TrimSpace(k))
	if k == "" || placeholderKeys[k] {
		return true
	}
	return strings.HasPrefix(k, "your_") && strings.HasSuffix(k, "_here")
}
