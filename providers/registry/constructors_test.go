package registry

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pal-mcp/pal/providers"
)

// TestRealConstructors builds every provider with the real implementations (no request is
// sent): the default table must cover all eight types and accept what the registry hands it.
func TestRealConstructors(t *testing.T) {
	dir := t.TempDir()
	az := filepath.Join(dir, "azure.json")
	if err := os.WriteFile(az, []byte(`{"models":[{"model_name":"gpt-5.2","deployment":"prod","context_window":400000}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := merge(gem, oai, xai, ant, dial, orr, custom, map[string]string{
		"AZURE_OPENAI_API_KEY": "az-key-1234", "AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com", "AZURE_MODELS_CONFIG_PATH": az,
	})
	r, err := New(Config{Getenv: envOf(env)})
	if err != nil {
		t.Fatal(err)
	}
	got := r.Configured()
	if len(got) != len(providers.Priority) {
		t.Fatalf("configured %v, want all of %v", got, providers.Priority)
	}
	for i, st := range r.active {
		if st.provider.Type() != providers.Priority[i] {
			t.Errorf("provider %d reports type %s, want %s", i, st.provider.Type(), providers.Priority[i])
		}
	}
}
