package providers

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ScrubMarker stands where ScrubErrorText removed a secret.
const ScrubMarker = "[redacted]"

// credentialPatterns find things that look like credentials whatever key is configured. The
// first group of each, when there is one, is the name part that stays in the text.
var credentialPatterns = []*regexp.Regexp{
	// Key-like query parameters: ?key=…, &api_key=…, &access_token=….
	regexp.MustCompile(`(?i)([?&](?:key|api[_-]?key|access[_-]?token)=)[^&\s"'<>]*`),
	// Bearer tokens.
	regexp.MustCompile(`(?i)(bearer\s+)[^\s"',;]+`),
	// "api-key: …", "x-api-key=…", `"api_key": "…"` pairs.
	regexp.MustCompile(`(?i)((?:x-)?api[-_ ]?key["']?\s*[:=]\s*["']?)[^\s"',;}&]+`),
	// The common key prefixes (OpenAI and OpenRouter sk-…, X.AI xai-…), including OpenAI's
	// partly masked echo "sk-proj-****abcd".
	regexp.MustCompile(`\b(?:sk|xai)-[A-Za-z0-9_*.\-]{6,}`),
}

// ScrubErrorText makes provider text (an error body, a refusal, a transport error) safe to put
// in an error or a log line. It
//   - replaces invalid UTF-8 with "?" and control characters with spaces,
//   - replaces key, literally and in its URL-escaped forms (query and path escaping), with
//     ScrubMarker ("" means no key is configured),
//   - replaces the value of anything credential-like with ScrubMarker, whatever key is
//     configured: key-like query parameters, bearer tokens, api-key pairs, sk-… and xai-…
//     tokens,
//   - trims surrounding white space and cuts the result to maxRunes runes (on a rune
//     boundary, with "…" marking the cut; maxRunes <= 0 means no cut).
func ScrubErrorText(s, key string, maxRunes int) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(c rune) rune {
		if unicode.IsControl(c) {
			return ' '
		}
		return c
	}, s)
	if key != "" {
		s = strings.ReplaceAll(s, key, ScrubMarker)
		for _, v := range []string{url.QueryEscape(key), url.PathEscape(key)} {
			if v != key {
				s = strings.ReplaceAll(s, v, ScrubMarker)
			}
		}
	}
	for _, re := range credentialPatterns {
		if re.NumSubexp() > 0 {
			s = re.ReplaceAllString(s, "${1}"+ScrubMarker)
		} else {
			s = re.ReplaceAllString(s, ScrubMarker)
		}
	}
	s = strings.TrimSpace(s)
	if maxRunes > 0 && utf8.RuneCountInString(s) > maxRunes {
		s = string([]rune(s)[:maxRunes]) + "…"
	}
	return s
}
