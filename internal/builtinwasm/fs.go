//go:build !palmodules

package builtinwasm

import (
	"embed"
	"errors"
	"io/fs"
)

// modules is the directory make writes the module and its manifest into; it holds only its
// README when pal is built without make.
//
//go:embed modules
var modules embed.FS

// committed is builtin.wasm.xz, the committed module.
//
//go:embed builtin.wasm.xz
var committed []byte

// committedManifest is the committed module's manifest, in describe's form.
//
//go:embed builtin.manifest
var committedManifest []byte

// madeTogether is false: modules/ may hold a module its manifest was not computed from (the
// tests' -overlay builds replace it), so the manifest's hash is not the module's without a
// check (BuildSHA256).
const madeTogether = false

// madeModule returns a copy of modules/builtin.wasm, or an error wrapping fs.ErrNotExist when
// make did not build it.
func madeModule() ([]byte, error) { return fs.ReadFile(modules, "modules/builtin.wasm") }

// madeManifest returns modules/builtin.manifest, or an error wrapping fs.ErrNotExist.
func madeManifest() ([]byte, error) { return fs.ReadFile(modules, "modules/builtin.manifest") }

// madeExists reports whether make put a module or a manifest into modules/ (the tests'
// -overlay builds do).
func madeExists() bool {
	for _, name := range []string{"modules/builtin.wasm", "modules/builtin.manifest"} {
		if _, err := fs.Stat(modules, name); !errors.Is(err, fs.ErrNotExist) {
			return true
		}
	}
	return false
}
