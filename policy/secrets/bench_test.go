package secrets

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sourceText is ~1 MB of Go-like source that mentions keys, tokens and passwords without
// holding any: the common case, where keywords trigger rules that then find nothing.
func sourceText(withSecrets bool) string {
	var b strings.Builder
	for i := 0; b.Len() < 1<<20; i++ {
		b.WriteString("// apiKey returns the token for the request; see https://example.org/docs\n")
		b.WriteString("func (c *Client) apiKey(ctx context.Context, name string) (string, error) {\n")
		b.WriteString("\tkey, err := c.store.Get(ctx, \"provider/\"+name)\n\tif err != nil {\n\t\treturn \"\", fmt.Errorf(\"password lookup: %w\", err)\n\t}\n")
		b.WriteString("\treturn strings.TrimSpace(key), nil\n}\n\n")
		if withSecrets && i%50 == 0 {
			b.WriteString("const awsID = \"" + awsKey + "\" // " + githubPAT + "\n")
		}
	}
	return b.String()
}

func benchmarkRedact(b *testing.B, withSecrets bool) {
	s, err := New(Options{Literals: []string{providerKey}})
	if err != nil {
		b.Fatal(err)
	}
	text := sourceText(withSecrets)
	s.Redact(text) // compile the rules the text triggers
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		s.Redact(text)
	}
}

// BenchmarkRedactSource measures redaction of 1 MB of source without secrets.
func BenchmarkRedactSource(b *testing.B) { benchmarkRedact(b, false) }

// BenchmarkRedactSourceWithSecrets measures 1 MB with a secret pair every ~25 KB.
func BenchmarkRedactSourceWithSecrets(b *testing.B) { benchmarkRedact(b, true) }

// BenchmarkRedactSmall measures a log-line-sized text (the audit and log path).
func BenchmarkRedactSmall(b *testing.B) {
	s, err := New(Options{Literals: []string{providerKey}})
	if err != nil {
		b.Fatal(err)
	}
	line := "tool log tool=chat call_id=5f0c1d2e msg=\"reading src/main.go for the review\""
	s.Redact(line)
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		s.Redact(line)
	}
}

// BenchmarkNew measures building a Scanner once the rule set is parsed (per server start).
func BenchmarkNew(b *testing.B) {
	if _, err := builtinRules(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := New(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRedactRepoSource measures redaction of pal's own Go source (up to 2 MB): real
// code, at its real density of keywords.
func BenchmarkRedactRepoSource(b *testing.B) {
	var sb strings.Builder
	filepath.WalkDir("../..", func(p string, d fs.DirEntry, err error) error {
		if err != nil || sb.Len() > 2<<20 {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") {
			if data, err := os.ReadFile(p); err == nil {
				sb.Write(data)
			}
		}
		return nil
	})
	text := sb.String()
	if len(text) == 0 {
		b.Skip("no source found")
	}
	s, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	s.Redact(text)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		s.Redact(text)
	}
}

// plainSource is ~1 MB of code lines with none of the rules' keywords' secrets nearby, as
// test/bench's bulk files are: the cost is the keyword search, not the rules.
func plainSource() string {
	var b strings.Builder
	for i := 0; b.Len() < 1<<20; i++ {
		fmt.Fprintf(&b, "func f%d(x int) int { return x*%d + %d } // line of code\n", i, i%97, i%13)
	}
	return b.String()
}

// BenchmarkRedactPlainSource measures redaction of 1 MB of code that triggers few rules.
func BenchmarkRedactPlainSource(b *testing.B) {
	s, err := New(Options{Literals: []string{providerKey}})
	if err != nil {
		b.Fatal(err)
	}
	text := plainSource()
	s.Redact(text)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		s.Redact(text)
	}
}
