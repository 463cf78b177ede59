package registry

import (
	"errors"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/providers"
)

// FuzzResolve: any model string resolves to an allowed catalogue entry, or fails with one of
// the two typed errors; nothing panics.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"flash", "auto", "", "llama3.2:latest", "openai/gpt-4:free", "vendor/x:y:z", "o3:for",
		"anthropic.claude-opus-4.1-20250805-v1:0", "http://x:1", "/x", "a/../b", "GPT-5.1", "mini"} {
		f.Add(s)
	}
	f.Add(string([]byte{0xff, ':', '/'}))
	r, err := New(Config{Getenv: envOf(merge(gem, oai, dial, orr, custom, map[string]string{"OPENAI_ALLOWED_MODELS": "mini,o3"})), Constructors: newFakes().table()})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name string) {
		res, err := r.Resolve(name, providers.CategoryBalanced)
		if err != nil {
			var ue *UnavailableError
			var re *RestrictedError
			if !errors.As(err, &ue) && !errors.As(err, &re) {
				t.Fatalf("Resolve(%q): untyped error %v", name, err)
			}
			return
		}
		if res.Caps == nil || res.Provider == nil || res.Caps.ModelName == "" {
			t.Fatalf("Resolve(%q) = %+v", name, res)
		}
		if res.Type == providers.OpenAI && res.Caps.ModelName != "gpt-5-mini" && res.Caps.ModelName != "o3" {
			t.Fatalf("Resolve(%q) bypassed the allowlist: %s", name, res.Caps.ModelName)
		}
		if res.Type == providers.OpenRouter && strings.ContainsAny(res.Caps.ModelName, " \t\r\n") {
			t.Fatalf("Resolve(%q) accepted an id with white space", name)
		}
	})
}
