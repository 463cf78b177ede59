package builtinwasm

import _ "embed" // the chat module and its manifest, as byte slices

// chatWasm is chat.wasm, the built-in chat tool: the Rust crate tools-wasm/builtin-chat as
// `make builtin-chat` built it, committed raw (~200 KB) so that neither `make build` nor `go
// install` needs a Rust toolchain; `make test` (check-builtin-chat) rebuilds it from the crate
// and fails unless the committed bytes are the same. Every build embeds it as a byte slice,
// served without a copy.
//
//go:embed chat.wasm
var chatWasm []byte

// chatManifest is chat.manifest, describe's output for chat.wasm (its sha256, then its
// manifest), committed with it and checked with it.
//
//go:embed chat.manifest
var chatManifest []byte

// Chat returns the built-in chat module: its bytes (the binary's own: callers must not modify
// them), the hex sha256 its build recorded (chat.manifest's first line) and its manifest
// JSON. ok is false when the manifest is malformed; then the module must be hashed and
// described like any other. The hash is the one make computed from these bytes, committed
// with them; it is still only a claim about the bytes, which runtime.BuildSHA256 lets a
// compile check before it makes anything from them.
func Chat() (wasm []byte, sha256Hex string, manifest []byte, ok bool) {
	hash, body, ok := splitManifest(chatManifest)
	return chatWasm, hash, body, ok
}
