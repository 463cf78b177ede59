package scaffold

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func data(name string) Data {
	return Data{Name: name, ABI: 1, PalVersion: "test", GoKit: GoKit, GoKitVersion: GoKitVersion}
}

// TestExpand: the five placeholders are replaced wherever they stand, text around them and
// the braces of JSON, C or Rust are kept as they are, and a "{{" that opens no placeholder
// (another field, an action, a missing "}}") is an error naming its line.
func TestExpand(t *testing.T) {
	d := Data{Name: "wc", ABI: 3, PalVersion: "v1.2.3", GoKit: "example.com/kit", GoKitVersion: "v1.0.0"}
	got, err := d.expand("{{.Name}}:{{.ABI}} {{.PalVersion}}\n{\"a\":{}}}{{.GoKit}}@{{.GoKitVersion}}{{.Name}}")
	if want := "wc:3 v1.2.3\n{\"a\":{}}}example.com/kit@v1.0.0wc"; err != nil || got != want {
		t.Errorf("expand = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{"a\n{{.Nme}}", "{{ .Name }}", "{{Name}}", "{{if .Name}}x{{end}}", "x\n\n{{.Name", "{{}}"} {
		if got, err := d.expand(bad); err == nil {
			t.Errorf("expand(%q) = %q, want an error", bad, got)
		} else if strings.Count(bad[:strings.Index(bad, "{{")], "\n") == 2 && !strings.Contains(err.Error(), "line 3") {
			t.Errorf("expand(%q): %v, want it to name line 3", bad, err)
		}
	}
}

func TestCheckName(t *testing.T) {
	long := "a" + strings.Repeat("b", 62)
	for _, tc := range []struct {
		lang, name string
		want       error // nil: accepted
	}{
		{"go", "wc", nil},
		{"c", "word_count2", nil},
		{"rust", "x", nil},
		{"assemblyscript", long, nil},
		{"go", long + "c", ErrName}, // 64 characters
		{"go", "", ErrName},
		{"go", "Wc", ErrName},
		{"go", "2wc", ErrName},
		{"go", "_wc", ErrName},
		{"go", "word-count", ErrName},
		{"go", "wc.exe", ErrName},
		{"go", "../wc", ErrName},
		{"go", "a/b", ErrName},
		{"go", "/tmp/x", ErrName},
		{"go", "wc\n", ErrName},
		{"go", "wc ", ErrName},
		{"go", "wé", ErrName},
		{"go", "{{.Name}}", ErrName},
		{"go", "__name__", ErrName},
		{"rust", "fn", nil}, // cargo builds and tests crates named fn, test, std, self, pal_kit
		{"rust", "pal_kit", nil},
		{"go", "con", ErrName}, // Windows device names
		{"c", "nul", ErrName},
		{"go", "com1", ErrName},
		{"go", "lpt9", ErrName},
		{"go", "console", nil},
		{"go", "com10", nil},
		{"python", "wc", ErrLanguage},
		{"", "wc", ErrLanguage},
		{"Go", "wc", ErrLanguage},
	} {
		err := CheckName(tc.lang, tc.name)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("CheckName(%q, %q) = %v, want %v", tc.lang, tc.name, err, tc.want)
		}
	}
}

// FuzzCheckName: a name CheckName accepts is a plain, short file name in every language's
// project (no separator, no dot, no template or placeholder syntax), and Render writes only
// relative paths that stay inside the project.
func FuzzCheckName(f *testing.F) {
	for _, s := range []string{"wc", "a_1", "../x", "a/b", "", "A", "x\x00", "__name__", "a__name_", "{{.Name}}", strings.Repeat("a", 70)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		for _, lang := range Languages {
			if CheckName(lang, name) != nil {
				continue
			}
			if len(name) > 63 || strings.ContainsAny(name, "/\\.{}-\x00 ") || name[0] < 'a' || name[0] > 'z' {
				t.Fatalf("CheckName(%q, %q) accepted it", lang, name)
			}
			files, err := Render(lang, data(name))
			if err != nil {
				t.Fatalf("Render(%q, %q): %v", lang, name, err)
			}
			for _, f := range files {
				// A placeholder left unreplaced shows once the name itself is taken out (a name
				// such as "a__name_" may form "__name__" with the "_" that follows it).
				if !fs.ValidPath(f.Path) || strings.Contains(strings.ReplaceAll(f.Path, name, "/"), "__name__") {
					t.Fatalf("Render(%q, %q) writes %q", lang, name, f.Path)
				}
			}
		}
	})
}

func TestRender(t *testing.T) {
	want := map[string][]string{
		"go":             {"Makefile", "README.md", "go.mod", "main.go", "main_test.go", ".gitignore"},
		"assemblyscript": {"package.json", "package-lock.json", "asconfig.json", "assembly/index.ts", "test/wc.test.js", "README.md", "kit/package.json", "kit/assembly/index.ts", "kit/fakehost.js"},
		"c":              {"Makefile", "README.md", "wc.c", "wc_test.c", "kit/pal.h", "kit/pal.c", "kit/pal.mk", "kit/fakehost.c"},
		"rust":           {"Cargo.toml", "Makefile", "README.md", "src/lib.rs", ".cargo/config.toml", "kit/Cargo.toml", "kit/src/lib.rs"},
	}
	for _, lang := range Languages {
		files, err := Render(lang, data("wc"))
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		var paths []string
		for _, f := range files {
			paths = append(paths, f.Path)
			if strings.HasSuffix(f.Path, ".tmpl") || strings.Contains(f.Path, "__name__") {
				t.Errorf("%s: %s was not renamed", lang, f.Path)
			}
			if !strings.HasPrefix(f.Path, "kit/") && strings.Contains(string(f.Data), "{{.") {
				t.Errorf("%s: %s holds template syntax after rendering", lang, f.Path)
			}
		}
		for _, p := range want[lang] {
			if !slices.Contains(paths, p) {
				t.Errorf("%s: the project lacks %s (it has %v)", lang, p, paths)
			}
		}
		readme := string(files[slices.Index(paths, "README.md")].Data)
		for _, s := range []string{"make test", "pal tool check wc.wasm", "[tools.wc]", "sha256", "pal call wc"} {
			if lang == "assemblyscript" && s == "make test" {
				s = "npm test"
			}
			if !strings.Contains(readme, s) {
				t.Errorf("%s: README.md does not say %q", lang, s)
			}
		}
	}
}

// TestWriteRefuses: a bad language or name, a directory that holds anything, a file in the
// way. Nothing is written, and a directory Write created is removed again.
func TestWriteRefuses(t *testing.T) {
	base := t.TempDir()
	full := filepath.Join(base, "full")
	if err := os.MkdirAll(full, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(full, ".keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, lang, tool, dir string
		want                  error
	}{
		{"unknown language", "cobol", "wc", filepath.Join(base, "new1"), ErrLanguage},
		{"name with a path", "go", "../escape", filepath.Join(base, "new2"), ErrName},
		{"upper case", "c", "WC", filepath.Join(base, "new3"), ErrName},
		{"empty name", "rust", "", filepath.Join(base, "new4"), ErrName},
		{"non-empty directory", "go", "wc", full, ErrNotEmpty},
		{"a file in the way", "c", "wc", file, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			written, err := Write(tc.lang, tc.dir, data(tc.tool))
			if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Write = %v, %v; want %v", written, err, tc.want)
			}
			if len(written) > 0 {
				t.Errorf("wrote %v", written)
			}
		})
	}
	entries, _ := os.ReadDir(base)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"file", "full"}) {
		t.Errorf("the base directory holds %v after refusals", names)
	}
	if entries, _ := os.ReadDir(full); len(entries) != 1 {
		t.Errorf("the non-empty directory was changed: %v", entries)
	}
	if escaped, _ := filepath.Glob(filepath.Join(filepath.Dir(base), "escape*")); len(escaped) > 0 {
		t.Errorf("wrote outside: %v", escaped)
	}
}

// TestWrite writes every language's project into a new and an existing empty directory:
// the files Render returns, nothing else.
func TestWrite(t *testing.T) {
	for _, lang := range Languages {
		empty := filepath.Join(t.TempDir(), "existing")
		if err := os.Mkdir(empty, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, dir := range []string{filepath.Join(t.TempDir(), "a", "b", "wc"), empty} {
			written, err := Write(lang, dir, data("wc"))
			if err != nil {
				t.Fatalf("%s into %s: %v", lang, dir, err)
			}
			files, _ := Render(lang, data("wc"))
			if len(written) != len(files) {
				t.Fatalf("%s: wrote %d files, the project has %d", lang, len(written), len(files))
			}
			for _, f := range files {
				b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
				if err != nil || string(b) != string(f.Data) {
					t.Errorf("%s: %s: %v", lang, f.Path, err)
				}
			}
			// Again into the same directory: refused, nothing overwritten.
			if _, err := Write(lang, dir, data("other")); !errors.Is(err, ErrNotEmpty) {
				t.Errorf("%s: a second Write into %s: %v", lang, dir, err)
			}
		}
	}
}

// TestGoProjectBuilds compiles the Go project against this tree's kit (a replace in go.mod,
// offline) and runs its test, so that a change of the kit's API fails here, fast, and not
// only in test/e2e's TestToolNewEveryLanguage.
func TestGoProjectBuilds(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wc")
	if _, err := Write("go", dir, data("wc")); err != nil {
		t.Fatal(err)
	}
	kit, err := filepath.Abs(filepath.Join("..", "..", "tools-wasm", "sdk", "go"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "go.mod"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString("\nreplace " + GoKit + " => " + kit + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "GOPROXY=off", "GOWORK=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	for _, args := range [][]string{{"vet", "./..."}, {"test", "-count=1", "./..."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", "wc.wasm", ".")
	cmd.Dir, cmd.Env = dir, append(env, "GOOS=wasip1", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build for wasip1: %v\n%s", err, out)
	}
}
