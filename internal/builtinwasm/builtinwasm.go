// Package builtinwasm holds pal's two built-in tool modules: the chat module (Chat, chat.go:
// the Rust crate tools-wasm/builtin-chat, committed as built, with its manifest) and the Go
// module with every other built-in tool, built from tools-wasm/builtin, which the rest of this
// comment is about.
//
// Two copies of the Go module exist. `make modules` builds modules/builtin.wasm (not committed) before the host
// is compiled, and a binary built by make embeds it. builtin.wasm.xz is the same module
// compressed with xz and committed, so that `go install github.com/pal-mcp/pal/cmd/pal@VERSION`,
// which runs no make, still gets a working binary; it is decoded at start when modules/ holds
// no builtin.wasm. `make test` rebuilds the module from source and fails unless the committed
// file decodes to the same bytes (run `make builtin-xz` after changing the guest).
//
// `make modules` also computes the module's manifest into modules/builtin.manifest (command
// describe), keyed by the module's sha256, so that pal lists the built-in tools without
// describing or compiling the module at start (Manifest). `make builtin-xz` commits a copy
// beside builtin.wasm.xz (builtin.manifest), which a binary without modules/ uses, so that a
// `go install`ed pal does not compile the module before its first tools/list reply either.
//
// A binary built by make (build tag palmodules, file made.go) carries modules/ only: it embeds
// builtin.wasm and builtin.manifest as byte slices that Builtin returns without copying, and
// not builtin.wasm.xz, which it would never decode. Any other build (go install, the tests'
// -overlay builds; file fs.go) embeds modules/ as a directory that may hold no module, and the
// committed copy.
package builtinwasm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/ulikunitz/xz"
)

// maxModuleBytes bounds the decoded committed module (64 MiB): a corrupt file cannot make the
// decoder allocate without end.
const maxModuleBytes = 64 << 20

// ErrCorrupt means the committed builtin.wasm.xz could not be decoded.
var ErrCorrupt = errors.New("the committed built-in module (internal/builtinwasm/builtin.wasm.xz) is corrupt; rebuild pal with `make build`")

// ErrNoCommitted means this binary carries no committed module: make built it (palmodules),
// with modules/builtin.wasm, which Builtin returns instead.
var ErrNoCommitted = errors.New("this binary carries no committed built-in module: make built it with modules/builtin.wasm")

// Builtin returns the bytes of the built-in tool module: modules/builtin.wasm when make built it
// into the tree before compiling, else the committed builtin.wasm.xz decoded. Callers must not
// modify them: in a make-built binary they are the binary's own copy, returned to every caller.
func Builtin() ([]byte, error) {
	b, err := madeModule()
	if err == nil {
		return b, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return Committed()
}

// Committed returns the committed module, decoded anew at each call (0.3 s on a 2-vCPU VM): pal
// asks for it once, when the module compiles from nothing, and keeps no copy. In a make-built
// binary, which carries none, it returns ErrNoCommitted.
func Committed() ([]byte, error) {
	if committed == nil {
		return nil, ErrNoCommitted
	}
	return decode(committed)
}

// CommittedSHA256 returns the hex sha256 of the committed module as its committed manifest
// records it, when this binary serves the committed module: it carries one, and make put no
// module or manifest in modules/ (a `go install`ed pal). pal then knows the module's hash and
// tools without decoding it, and decodes it only if a compile needs its bytes
// (runtime.ReadBytes under runtime.BuildSHA256, which checks them against this hash): with a
// warm compile cache, never.
func CommittedSHA256() (string, bool) {
	if committed == nil || madeExists() {
		return "", false
	}
	hash, _, ok := Manifest()
	return hash, ok
}

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

// Manifest returns the manifest JSON computed at build time and the hex sha256 of the module
// it was computed from; ok is false when the binary carries none or it is malformed. A
// manifest whose hash is not the built-in module's (a module replaced after `make modules`,
// as the tests do through -overlay) must not be used for it; runtime.Engine.AddKnownManifest
// keys it by hash, so it is not.
func Manifest() (sha256Hex string, manifest []byte, ok bool) {
	raw, err := madeManifest()
	if errors.Is(err, fs.ErrNotExist) {
		raw, err = committedManifest, nil // keyed by the committed module's hash
	}
	if err != nil {
		return "", nil, false
	}
	return splitManifest(raw)
}

// splitManifest splits a manifest file as describe writes it: the module's hex sha256 on the
// first line, then the manifest JSON; ok is false when it is malformed.
func splitManifest(raw []byte) (sha256Hex string, manifest []byte, ok bool) {
	hash, body, ok := bytes.Cut(raw, []byte("\n"))
	if !ok || len(hash) != 64 {
		return "", nil, false
	}
	return string(hash), bytes.TrimSpace(body), true
}

// BuildSHA256 returns the hex sha256 of the built-in module as the build computed it (the
// first line of its manifest), so that pal need not hash the module at start
// (runtime.BuildSHA256): only in a make-built binary, which embeds modules/builtin.wasm and the
// manifest make computed from it together. Other builds may pair the manifest with other
// bytes (the tests' -overlay builds replace the module), and report false.
func BuildSHA256() (string, bool) {
	if !madeTogether {
		return "", false
	}
	hash, _, ok := Manifest()
	return hash, ok
}
