//go:build palmodules

package builtinwasm

import _ "embed" // the module and its manifest, as byte slices

// made is modules/builtin.wasm, which make builds before the host. A []byte that go:embed
// fills is the binary's data itself: nothing is copied at start (an embed.FS read copies the
// 5 MB; docs/RATIONALE.md).
//
//go:embed modules/builtin.wasm
var made []byte

// madeManifestBytes is modules/builtin.manifest, describe's output for made.
//
//go:embed modules/builtin.manifest
var madeManifestBytes []byte

// committed and committedManifest are not carried: Builtin and Manifest never fall back to
// them in a binary that has modules/ (Committed returns ErrNoCommitted).
var committed, committedManifest []byte

// madeTogether: the module and its manifest are embedded by one build, from make's output
// (BuildSHA256).
const madeTogether = true

// madeModule returns modules/builtin.wasm itself, not a copy.
func madeModule() ([]byte, error) { return made, nil }

// madeManifest returns modules/builtin.manifest.
func madeManifest() ([]byte, error) { return madeManifestBytes, nil }

// madeExists is true: make built modules/.
func madeExists() bool { return true }
