// Package builtinwasm holds the built-in tool module, built from tools-wasm/builtin.
//
// Two copies exist. `make modules` builds modules/builtin.wasm (not committed) before the host
// is compiled, and a binary built by make embeds it. builtin.wasm.xz is the same module
// compressed with xz and committed, so that `go install github.com/pal-mcp/pal/cmd/pal@VERSION`,
// which runs no make, still gets a working binary; it is decoded at start when modules/ holds
// no builtin.wasm. `make test` rebuilds the module from source and fails unless the committed
// file decodes to the same bytes (run `make builtin-xz` after changing the guest).
package builtinwasm

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"

	"github.com/ulikunitz/xz"
)

//go:embed modules
var modules embed.FS

//go:embed builtin.wasm.xz
var committed []byte

// maxModuleBytes bounds the decoded committed module (64 MiB): a corrupt file cannot make the
// decoder allocate without end.
const maxModuleBytes = 64 << 20

// ErrCorrupt means the committed builtin.wasm.xz could not be decoded.
var ErrCorrupt = errors.New("the committed built-in module (internal/builtinwasm/builtin.wasm.xz) is corrupt; rebuild pal with `make build`")

// Builtin returns the bytes of the built-in tool module: modules/builtin.wasm when make built it
// into the tree before compiling, else the committed builtin.wasm.xz decoded (once per process).
func Builtin() ([]byte, error) {
	b, err := fs.ReadFile(modules, "modules/builtin.wasm")
	if err == nil {
		return b, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	b, err = Committed()
	return bytes.Clone(b), err
}

// Committed returns the committed module, decoded; the same bytes on every call.
func Committed() ([]byte, error) { return decodeOnce() }

var decodeOnce = sync.OnceValues(func() ([]byte, error) { return decode(committed) })

// decode decompresses an xz stream of at most maxModuleBytes.
func decode(xzBytes []byte) ([]byte, error) {
	r, err := xz.NewReader(bytes.NewReader(xzBytes))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	b, err := io.ReadAll(io.LimitReader(r, maxModuleBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if len(b) > maxModuleBytes {
		return nil, fmt.Errorf("%w: more than %d bytes decoded", ErrCorrupt, maxModuleBytes)
	}
	return b, nil
}
