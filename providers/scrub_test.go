package providers

import (
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

const scrubKey = "sk-test-KEY-7f3a9c"

func TestScrubErrorText(t *testing.T) {
	tests := []struct {
		name, in, key, want string
	}{
		{"configured key", "bad key " + scrubKey, scrubKey, "bad key [redacted]"},
		{"configured key twice", scrubKey + "/" + scrubKey, scrubKey, "[redacted]/[redacted]"},
		{"configured key that looks like nothing", "key AIzaOpaque0123 here", "AIzaOpaque0123", "key [redacted] here"},
		{"query-escaped key", "echo k%2Fwith%2Bodd+chars", "k/with+odd chars", "echo [redacted]"},
		{"path-escaped key", "GET /k%2Fwith+odd%20chars/x", "k/with+odd chars", "GET /[redacted]/x"},
		{"key query parameter", "GET /x?key=abc&alt=sse", "", "GET /x?key=[redacted]&alt=sse"},
		{"upper-case api key parameter", "u?API_KEY=zzz", "", "u?API_KEY=[redacted]"},
		{"access token parameter", "&access_token=t0k", "", "&access_token=[redacted]"},
		{"bearer token", "Authorization: Bearer abc.def-ghi", "", "Authorization: Bearer [redacted]"},
		{"api-key JSON pair", `{"api-key": "zzz-other-secret"}`, "", `{"api-key": "[redacted]"}`},
		{"api_key pair", "api_key=qqq123&x=1", "", "api_key=[redacted]&x=1"},
		{"x-api-key header", "x-api-key: other-secret-1", "", "x-api-key: [redacted]"},
		{"masked OpenAI echo", "Incorrect API key provided: sk-proj-****************abcd.", "", "Incorrect API key provided: [redacted]"},
		{"xai token", "xai key xai-AbCdEfGhIjKlMnOp rejected", "", "xai key [redacted] rejected"},
		{"control characters", "line1\nline2\x00", "", "line1 line2"},
		{"control character splits a token", "sk-te\x00st", "", "sk-te st"},
		{"invalid UTF-8", "bad \xff utf8", "", "bad ? utf8"},
		{"word with sk- inside", "task-manager-service failed", "", "task-manager-service failed"},
		{"plain", "plain", scrubKey, "plain"},
		{"empty", "", scrubKey, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ScrubErrorText(tc.in, tc.key, 100); got != tc.want {
				t.Errorf("ScrubErrorText(%q, %q) = %q, want %q", tc.in, tc.key, got, tc.want)
			}
		})
	}
}

func TestScrubErrorTextCutsOnRunes(t *testing.T) {
	long := strings.Repeat("é", 5000)
	got := ScrubErrorText(long, "", 1000)
	if n := utf8.RuneCountInString(got); n != 1001 || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
		t.Errorf("long text cut to %d runes (valid %v), want 1000 and a mark", n, utf8.ValidString(got))
	}
	if got := ScrubErrorText(strings.Repeat("a", 10), "", 10); got != strings.Repeat("a", 10) {
		t.Errorf("text at the limit was cut: %q", got)
	}
	if got := ScrubErrorText(long, "", 0); got != long {
		t.Error("maxRunes 0 cut the text")
	}
}

// FuzzScrubErrorText: with the key planted anywhere in any text, the key never comes out, in
// plain or URL-escaped form, and the result is valid UTF-8 without control characters, within
// the rune limit.
func FuzzScrubErrorText(f *testing.F) {
	f.Add("prefix ", " suffix", scrubKey, 50)
	f.Add("?key=", "&alt=sse", "AIzaSyBBBBBBBBBBBBBBBBBB", 600)
	f.Add("Bearer ", "", "k/with+odd%chars", 10)
	f.Add("\xff\x00", "\n", "sk-proj-abc", 3)
	f.Add(strings.Repeat("é", 20), "é", "ünïcode-key", 21)
	f.Fuzz(func(t *testing.T, before, after, key string, maxRunes int) {
		if !plausibleKey(key) {
			t.Skip()
		}
		maxRunes = maxRunes%2000 + 1
		if maxRunes <= 0 {
			maxRunes += 2000
		}
		for _, planted := range []string{key, url.QueryEscape(key), url.PathEscape(key)} {
			out := ScrubErrorText(before+planted+after, key, maxRunes)
			for _, form := range []string{key, url.QueryEscape(key), url.PathEscape(key)} {
				if strings.Contains(out, form) {
					t.Fatalf("ScrubErrorText(%q) = %q keeps %q", before+planted+after, out, form)
				}
			}
			if !utf8.ValidString(out) || strings.ContainsFunc(out, unicode.IsControl) {
				t.Fatalf("output %q is not clean text", out)
			}
			if n := utf8.RuneCountInString(out); n > maxRunes+1 {
				t.Fatalf("output has %d runes, limit %d", n, maxRunes)
			}
		}
	})
}

// plausibleKey: a key as configuration holds one (valid UTF-8, no white space or control
// characters) that cannot be rebuilt from what ScrubErrorText itself writes (the marker, "…").
func plausibleKey(k string) bool {
	if len(k) < 8 || !utf8.ValidString(k) || strings.Contains(ScrubMarker, k) || strings.ContainsAny(k, "[]…") {
		return false
	}
	return !strings.ContainsFunc(k, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
}
