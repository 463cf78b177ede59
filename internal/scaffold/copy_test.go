package scaffold

import (
	"bytes"
	"flag"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// update rewrites the copies from their sources: `make scaffold-kits` runs
// `go test ./internal/scaffold -run '^TestKitCopies$' -update`.
var update = flag.Bool("update", false, "rewrite internal/scaffold/<lang> from tools-wasm/kits/<lang>")

// kitFiles are the files of each kit (relative to tools-wasm/kits/<lang>) that a project
// carries in kit/: what it needs to build and test. The Go kit is a module that go.mod
// requires, so a Go project carries none.
var kitFiles = map[string][]string{
	"go":             nil,
	"assemblyscript": {"README.md", "assembly/index.ts", "assembly/json.ts", "fakehost.js", "package.json"},
	"c":              {"README.md", "fakehost.c", "fakehost.h", "pal.c", "pal.h", "pal.mk"},
	"rust":           {"Cargo.toml", "README.md", "src/abi.rs", "src/fakehost.rs", "src/json.rs", "src/lib.rs"},
}

// notCarried are the other files of each kit: its own tests and build files. A kit file in
// neither list fails TestKitCopies, so that a new source file is not forgotten.
var notCarried = map[string][]string{
	"assemblyscript": {".gitignore", "test/refusals.test.js"},
	"c":              {".gitignore", "Makefile", "pal_test.c"},
}

// skipDirs are never part of a kit: the templates (copied on their own), and what builds
// and package managers leave behind.
var skipDirs = map[string]bool{"template": true, "node_modules": true, "build": true, "target": true}

// sources returns what internal/scaffold/<lang> must hold, by path relative to it:
// template/... from the kit's template directory, kit/... from kitFiles.
func sources(t *testing.T, lang string) map[string][]byte {
	t.Helper()
	kit := filepath.Join("..", "..", "tools-wasm", "kits", lang)
	want := map[string][]byte{}
	tmpl := filepath.Join(kit, "template")
	err := filepath.WalkDir(tmpl, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(tmpl, p)
		b, err := os.ReadFile(p)
		want["template/"+filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatalf("%s: %v", lang, err)
	}
	for _, f := range kitFiles[lang] {
		b, err := os.ReadFile(filepath.Join(kit, filepath.FromSlash(f)))
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		want["kit/"+f] = b
	}
	// Every file of the kit is either carried or known not to be.
	known := append(slices.Clone(kitFiles[lang]), notCarried[lang]...)
	err = filepath.WalkDir(kit, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if p != kit && skipDirs[e.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(kit, p)
		if lang != "go" && !slices.Contains(known, filepath.ToSlash(rel)) {
			t.Errorf("tools-wasm/kits/%s/%s is in neither kitFiles nor notCarried (internal/scaffold/copy_test.go): does a scaffolded project need it?", lang, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", lang, err)
	}
	return want
}

// copies returns what internal/scaffold/<lang> holds.
func copies(t *testing.T, lang string) map[string][]byte {
	t.Helper()
	got := map[string][]byte{}
	err := filepath.WalkDir(lang, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		got[filepath.ToSlash(strings.TrimPrefix(p, lang+string(filepath.Separator)))] = b
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return got
}

// TestKitCopies checks that internal/scaffold/<lang>, which the binary embeds, is the
// language's template and kit files byte for byte (run `make scaffold-kits` after changing
// either), and that every file of a kit is accounted for.
func TestKitCopies(t *testing.T) {
	for _, lang := range Languages {
		want := sources(t, lang)
		if *update {
			if err := os.RemoveAll(lang); err != nil {
				t.Fatal(err)
			}
			for rel, b := range want {
				p := filepath.Join(lang, filepath.FromSlash(rel))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		got := copies(t, lang)
		for _, rel := range slices.Sorted(maps.Keys(want)) {
			if g, ok := got[rel]; !ok {
				t.Errorf("internal/scaffold/%s/%s is missing: run `make scaffold-kits`", lang, rel)
			} else if !bytes.Equal(g, want[rel]) {
				t.Errorf("internal/scaffold/%s/%s differs from its source: run `make scaffold-kits`", lang, rel)
			}
		}
		for _, rel := range slices.Sorted(maps.Keys(got)) {
			if _, ok := want[rel]; !ok {
				t.Errorf("internal/scaffold/%s/%s has no source: run `make scaffold-kits`", lang, rel)
			}
		}
	}
}
