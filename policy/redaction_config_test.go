package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/policy/secrets"
)

func TestRedactionConfig(t *testing.T) {
	if d := Default().Redaction; !d.Enabled || len(d.Rules) != 0 {
		t.Fatalf("default [redaction] = %+v", d)
	}
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "pal.toml")
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c, err := Load(write(`
[redaction]
enabled = false

[[redaction.rules]]
id = "acme-token"
regex = 'acme_([a-z0-9]{12})'
keywords = ["acme_"]
secret_group = 1
entropy = 2.5
`))
	if err != nil {
		t.Fatal(err)
	}
	want := RedactionRule{ID: "acme-token", Regex: `acme_([a-z0-9]{12})`, Keywords: []string{"acme_"}, SecretGroup: 1, Entropy: 2.5}
	if c.Redaction.Enabled || len(c.Redaction.Rules) != 1 || c.Redaction.Rules[0].ID != want.ID || c.Redaction.Rules[0].SecretGroup != 1 {
		t.Fatalf("[redaction] = %+v", c.Redaction)
	}
	sc, err := c.Redaction.Scanner("literal-key-123456")
	if err != nil {
		t.Fatal(err)
	}
	if sc.Enabled() {
		t.Fatal("enabled = false still runs the rules")
	}
	if out, _ := sc.Redact("x literal-key-123456"); out != "x "+secrets.Marker(secrets.LiteralKind) {
		t.Fatalf("provider key kept with redaction off: %q", out)
	}
	c.Redaction.Enabled = true
	sc, _ = c.Redaction.Scanner()
	if out, _ := sc.Redact("t = acme_ab12cd34ef56"); out != "t = acme_[REDACTED:acme-token]" {
		t.Fatalf("added rule: %q", out)
	}

	for _, bad := range []struct{ toml, mention string }{
		{"[[redaction.rules]]\nid = \"x\"\nregex = 'a(?=b)'\n", "redaction.rules[0]"},
		{"[[redaction.rules]]\nid = \"Bad Id\"\nregex = 'a'\n", "redaction.rules[0]"},
		{"[[redaction.rules]]\nid = \"x\"\nregex = 'a'\nsecret_group = 3\n", "secret_group"},
		{"[[redaction.rules]]\nid = \"x\"\nregex = 'a'\nsecretgroup = 1\n", "unknown key"},
		{"[redaction]\nenabled = \"no\"\n", "redaction.enabled"},
	} {
		_, err := Load(write(bad.toml))
		if err == nil || !strings.Contains(err.Error(), bad.mention) {
			t.Errorf("%q: err = %v, want it to mention %q", bad.toml, err, bad.mention)
		}
		var ce *ConfigError
		if err != nil && !errors.As(err, &ce) {
			t.Errorf("%q: %T is not a ConfigError", bad.toml, err)
		}
	}
}
