package registry

import (
	"strings"
	"testing"
)

func TestRedactString(t *testing.T) {
	secrets := normaliseSecrets([]string{"sk-ABCD-1234", "redacted", "abc", " sk-ABCD-1234 ", "sk-ABCD-1234-longer"})
	tests := []struct{ in, want string }{
		{"key sk-ABCD-1234 here", "key [redacted] here"},
		{"lower sk-abcd-1234 too", "lower [redacted] too"},
		{"longer sk-ABCD-1234-longer wins", "longer [redacted] wins"},
		{"twice sk-ABCD-1234 sk-ABCD-1234", "twice [redacted] [redacted]"},
		{"adjacent sk-ABCD-1234sk-ABCD-1234", "adjacent [redacted]"},
		{"the word redacted", "the word [redacted]"},
		{"abc is too short to blank", "abc is too short to blank"},
		{"nothing", "nothing"},
		{"ünïcode sk-ABCD-1234", "ünïcode [redacted]"},
	}
	for _, tt := range tests {
		if got := redactString(tt.in, secrets); got != tt.want {
			t.Errorf("redactString(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzRedactString(f *testing.F) {
	f.Add("prefix sk-ABCD-1234 suffix", "sk-ABCD-1234")
	f.Add("[redacted]redacted", "redacted")
	f.Add("ÄÖÜ", "äöü-x")
	f.Fuzz(func(t *testing.T, s, k string) {
		secrets := normaliseSecrets([]string{k})
		out := redactString(s, secrets)
		k = strings.TrimSpace(k)
		if len(k) >= minRedactLen && !strings.Contains(strings.ToLower(redacted), strings.ToLower(k)) && strings.Contains(out, k) {
			t.Fatalf("secret %q survives in %q", k, out)
		}
	})
}
