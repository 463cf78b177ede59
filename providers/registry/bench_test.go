package registry

import (
	"testing"

	"github.com/pal-mcp/pal/providers"
)

func benchEnv() map[string]string { return merge(gem, oai, xai, ant, dial, orr, custom) }

// BenchmarkNew: building a registry with seven providers (catalogues parsed from the embedded
// JSON, fake providers).
func BenchmarkNew(b *testing.B) {
	env := envOf(benchEnv())
	for b.Loop() {
		if _, err := New(Config{Getenv: env, Constructors: newFakes().table()}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchResolve(b *testing.B, name string) {
	f := newFakes()
	r, err := New(Config{Getenv: envOf(benchEnv()), Constructors: f.table()})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := r.Resolve(name, providers.CategoryExtended); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResolveAlias(b *testing.B)      { benchResolve(b, "flash") }
func BenchmarkResolveOpenRouter(b *testing.B) { benchResolve(b, "vendor/some-model:free") }
func BenchmarkResolveAuto(b *testing.B)       { benchResolve(b, "auto") }

func BenchmarkModelFieldDescription(b *testing.B) {
	r, err := New(Config{Getenv: envOf(benchEnv()), Constructors: newFakes().table()})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		_ = r.ModelFieldDescription()
	}
}
