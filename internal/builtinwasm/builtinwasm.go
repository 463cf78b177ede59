// Package builtinwasm embeds the built-in tool module, built by `make modules` from
// tools-wasm/builtin into modules/builtin.wasm before the host is compiled.
package builtinwasm

import (
	"embed"
	"errors"
	"io/fs"
)

//go:embed modules
var modules embed.FS

// ErrNotBuilt means the binary was compiled without running `make modules` first.
var ErrNotBuilt = errors.New("this pal binary was built without its tool modules; build it with `make build`")

// Builtin returns the bytes of the built-in tool module.
func Builtin() ([]byte, error) {
	b, err := fs.ReadFile(modules, "modules/builtin.wasm")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotBuilt
	}
	return b, err
}
