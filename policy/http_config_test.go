package policy

import (
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHTTPTokens(t *testing.T) {
	dir := t.TempDir()
	file := func(content string, mode os.FileMode) string {
		p := filepath.Join(dir, "tokens")
		os.Remove(p)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := map[string]string{"PAL_TOKEN": "env-token-0123456789abcdef", "SHORT": "short"}
	getenv := func(k string) string { return env[k] }

	toks, err := HTTPTokens(file("# team\n\nci-bot ci-token-0123456789abcdef\nbare-token-0123456789abcdef\n", 0o600), "PAL_TOKEN", getenv)
	if err != nil {
		t.Fatal(err)
	}
	bare := sha256.Sum256([]byte("bare-token-0123456789abcdef"))
	if len(toks) != 3 || toks[0].Name != "token:ci-bot" || toks[1].Hash != bare || !strings.HasPrefix(toks[1].Name, "token:") ||
		len(toks[1].Name) != len("token:")+8 || toks[2].Name != "env:PAL_TOKEN" {
		t.Fatalf("tokens %+v", toks)
	}

	for _, tc := range []struct {
		name, content string
		mode          os.FileMode
		env           string
		says          string
	}{
		{"short", "short\n", 0o600, "", "at least 16"},
		{"twice", "a aaaaaaaaaaaaaaaaaaaa\nb aaaaaaaaaaaaaaaaaaaa\n", 0o600, "", "twice"},
		{"three fields", "a b cccccccccccccccccccc\n", 0o600, "", "NAME TOKEN"},
		{"bad name", "a/b cccccccccccccccccccc\n", 0o600, "", "a name is"},
		{"empty", "# nothing\n", 0o600, "", "holds no token"},
		{"readable by others", "cccccccccccccccccccc\n", 0o644, "", "chmod 600"},
		{"unset variable", "", 0, "UNSET", "not set"},
		{"short variable", "", 0, "SHORT", "at least 16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.mode != 0 {
				path = file(tc.content, tc.mode)
			}
			_, err := HTTPTokens(path, tc.env, getenv)
			if !errors.Is(err, ErrBadToken) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err = %v, want ErrBadToken saying %q", err, tc.says)
			}
			for _, secret := range []string{"cccccccccccccccccccc", "aaaaaaaaaaaaaaaaaaaa", "short"} {
				if tc.says != "at least 16" && strings.Contains(err.Error(), secret) {
					t.Fatalf("the token is in the error: %v", err)
				}
			}
		})
	}
}

// TestUntrustedProjectCannotOpenHTTP: a project file may set no [http] key, not even one that
// looks narrower, since each decides who may reach the server.
func TestUntrustedProjectCannotOpenHTTP(t *testing.T) {
	dir := scratch(t)
	src := testSources(dir, map[string]string{})
	project := filepath.Join(src.WorkDir, "pal.toml")
	for _, body := range []string{
		"[http]\nallowed_hosts = [\"evil.example\"]\n",
		"[http]\nallowed_origins = [\"https://evil.example\"]\n",
		"[http]\ntoken_env = \"PATH\"\n",
		"[http]\nrate_per_minute = 1000000\n",
		"[http]\nsession_ttl = \"168h\"\n",
		"[http]\nmax_body_bytes = 1024\n",
	} {
		writeLayer(t, project, body)
		if _, err := LoadLayers(src); !errors.Is(err, ErrUntrusted) {
			t.Errorf("untrusted %q: err = %v, want ErrUntrusted", body, err)
		}
	}
}

func TestHTTPConfigValidation(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ body, key string }{
		{"[http]\ntoken_env = \"sk-live-0123456789\"\n", "http.token_env"},
		{"[http]\nmax_body_bytes = 10\n", "http.max_body_bytes"},
		{"[http]\nrate_per_minute = 0\n", "http.rate_per_minute"},
		{"[http]\nconcurrent_per_client = 0\n", "http.concurrent_per_client"},
		{"[http]\nsession_ttl = \"0s\"\n", "http.session_ttl"},
		{"[http]\nsessions_per_client = 0\n", "http.sessions_per_client"},
		{"[http]\nsessions_per_client = 10001\n", "http.sessions_per_client"},
		{"[http]\nallowed_origins = [\"evil.example\"]\n", "http.allowed_origins"},
		{"[http]\nallowed_hosts = [\"a b\"]\n", "http.allowed_hosts"},
		{"[http]\ntls_cert = \"missing.pem\"\n", "http.tls_cert"},
	} {
		p := filepath.Join(dir, "pal.toml")
		if err := os.WriteFile(p, []byte(tc.body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != tc.key {
			t.Errorf("%q: err = %v, want a ConfigError for %s", tc.body, err, tc.key)
		}
		if strings.Contains(tc.body, "sk-live") && err != nil && strings.Contains(err.Error(), "sk-live") {
			t.Errorf("the pasted token is in the error: %v", err)
		}
	}
}
