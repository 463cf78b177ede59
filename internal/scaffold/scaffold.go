// Package scaffold writes the project `pal tool new LANG NAME` makes: a tool that builds and
// passes its own test at once, in Go, AssemblyScript, C or Rust.
//
// Each language's files are copies, made by `make scaffold-kits` and checked byte for byte
// by TestKitCopies, of tools-wasm/kits/<lang>/template (the project) and of the kit files a
// project carries in its kit/ directory (none for Go, whose kit is a module that go.mod
// requires): the host module cannot embed files of the tools-wasm module. In a template, a
// file whose name ends in ".tmpl" has each placeholder {{.Field}} (a field of Data) replaced
// by that field's value and is written without that suffix, "__name__" in a path becomes the
// tool's name, and every other file is written as it is.
//
// The placeholders are the whole template language: a "{{" that does not open one of them is
// an error. text/template is not used because its field lookup calls reflect's MethodByName
// with a name known only at run time, and the linker then keeps every exported method of
// every type in the binary (docs/RATIONALE.md §73).
package scaffold

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pal-mcp/pal/internal/boundedre"
)

//go:embed all:go all:assemblyscript all:c all:rust
var files embed.FS

// Languages are the languages `pal tool new` writes a project in.
var Languages = []string{"go", "assemblyscript", "c", "rust"}

// GoKit is the module path of the Go kit, the one module a Go project requires, and
// GoKitVersion the version it requires: the kit's major version is the ABI's
// (docs/authoring.md, "Go").
const (
	GoKit        = "github.com/pal-mcp/pal/tools-wasm/sdk/go"
	GoKitVersion = "v1.0.0"
)

// Sentinel errors of Write and CheckName, for errors.Is.
var (
	ErrLanguage = errors.New("unknown language")
	ErrName     = errors.New("invalid tool name")
	ErrNotEmpty = errors.New("target directory is not empty")
)

// Data is what a template sees.
type Data struct {
	Name         string // the tool's name, which CheckName accepted
	ABI          int    // the ABI version the kits speak
	PalVersion   string // the version of pal that wrote the project
	GoKit        string // GoKit
	GoKitVersion string // GoKitVersion
}

// expand returns tmpl with each placeholder {{.Field}} replaced by d's Field, and an error
// for a "{{" that opens none of them.
func (d Data) expand(tmpl string) (string, error) {
	fields := map[string]string{
		"Name":         d.Name,
		"ABI":          strconv.Itoa(d.ABI),
		"PalVersion":   d.PalVersion,
		"GoKit":        d.GoKit,
		"GoKitVersion": d.GoKitVersion,
	}
	var out strings.Builder
	for {
		before, after, ok := strings.Cut(tmpl, "{{")
		out.WriteString(before)
		if !ok {
			return out.String(), nil
		}
		field, rest, ok := strings.Cut(after, "}}")
		v, known := fields[strings.TrimPrefix(field, ".")]
		if !ok || !known || !strings.HasPrefix(field, ".") {
			line := 1 + strings.Count(out.String(), "\n")
			return "", fmt.Errorf("line %d: %q opens no placeholder (want {{.Name}}, {{.ABI}}, {{.PalVersion}}, {{.GoKit}} or {{.GoKitVersion}})", line, "{{"+strings.SplitN(field, "\n", 2)[0])
		}
		out.WriteString(v)
		tmpl = rest
	}
}

// nameRE is what a tool name may be: a valid ABI tool name (runtime/abi), short enough to be
// a file, crate, module and package name in every language.
var nameRE = boundedre.MustCompile(`^[a-z][a-z0-9_]*$`, 63)

// windowsDevice matches the names Windows keeps for devices (con.c, nul.wasm cannot be
// files there), which Go refuses in a module path (example.com/NAME).
var windowsDevice = regexp.MustCompile(`^(con|prn|aux|nul|com[0-9]|lpt[0-9])$`)

// CheckName says whether name may name a tool in lang: a lower-case letter, then up to 62
// lower-case letters, digits or underscores, and not a Windows device name (con, nul, com1
// ...). Such a name is a plain file name, and every project takes it as it is (cargo builds
// and tests a crate named fn, test or pal_kit; a C tool may be pal.c). The error wraps
// ErrName or ErrLanguage.
func CheckName(lang, name string) error {
	if !slices.Contains(Languages, lang) {
		return fmt.Errorf("%w %q (want %s)", ErrLanguage, lang, strings.Join(Languages, ", "))
	}
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w %q: a lower-case letter, then up to 62 lower-case letters, digits or underscores", ErrName, name)
	}
	if windowsDevice.MatchString(name) {
		return fmt.Errorf("%w %q: a device name on Windows, where %s.wasm cannot be a file (and Go refuses it in a module path)", ErrName, name, name)
	}
	return nil
}

// File is one file of a project: its path relative to the project's directory, with
// slashes, and its content.
type File struct {
	Path string
	Data []byte
}

// Render returns the files of the project for a tool name in lang: the template's, rendered,
// then the kit's under kit/. It checks lang and name first.
func Render(lang string, d Data) ([]File, error) {
	if err := CheckName(lang, d.Name); err != nil {
		return nil, err
	}
	var out []File
	tmpl := path.Join(lang, "template")
	err := fs.WalkDir(files, tmpl, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		rel := strings.ReplaceAll(strings.TrimPrefix(p, tmpl+"/"), "__name__", d.Name)
		if r, ok := strings.CutSuffix(rel, ".tmpl"); ok {
			s, err := d.expand(string(b))
			if err != nil {
				return fmt.Errorf("template %s: %w", p, err)
			}
			rel, b = r, []byte(s)
		}
		out = append(out, File{Path: rel, Data: b})
		return nil
	})
	if err != nil {
		return nil, err
	}
	kit := path.Join(lang, "kit")
	if _, err := fs.Stat(files, kit); err == nil {
		err = fs.WalkDir(files, kit, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			b, err := files.ReadFile(p)
			out = append(out, File{Path: "kit/" + strings.TrimPrefix(p, kit+"/"), Data: b})
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Write writes the project for d.Name in lang into dir, which it creates (with its parents)
// when missing and refuses when it holds anything (ErrNotEmpty) or is not a directory. Files
// are created inside dir through an os.Root, never over an existing file: nothing is written
// outside dir. When it fails, it removes the directories it created. It returns the files
// written, relative to dir.
func Write(lang, dir string, d Data) (written []string, err error) {
	project, err := Render(lang, d)
	if err != nil {
		return nil, err
	}
	created := "" // the outermost directory Write made, removed again on failure
	switch fi, err := os.Stat(dir); {
	case errors.Is(err, fs.ErrNotExist):
		created = filepath.Clean(dir)
		for p := filepath.Dir(created); p != created; p = filepath.Dir(p) {
			if _, err := os.Lstat(p); err == nil {
				break
			}
			created = p
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			os.RemoveAll(created)
			return nil, err
		}
	case err != nil:
		return nil, err
	case !fi.IsDir():
		return nil, fmt.Errorf("%s exists and is not a directory", dir)
	}
	defer func() {
		if err != nil && created != "" {
			os.RemoveAll(created)
		}
	}()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.Open(".")
	if err != nil {
		return nil, err
	}
	names, rerr := f.Readdirnames(1)
	f.Close()
	if rerr != nil && !errors.Is(rerr, io.EOF) {
		return nil, rerr
	}
	if len(names) > 0 {
		return nil, fmt.Errorf("%w: %s holds %s; choose a new or empty directory with -dir", ErrNotEmpty, dir, names[0])
	}
	for _, pf := range project {
		name := filepath.FromSlash(pf.Path)
		if d := filepath.Dir(name); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return written, err
			}
		}
		f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return written, err
		}
		_, err = f.Write(pf.Data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return written, err
		}
		written = append(written, pf.Path)
	}
	return written, nil
}
