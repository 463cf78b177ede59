//go:build palmodules

package builtinwasm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
)

// The make-built binary (go test -tags palmodules after make modules) serves modules/ without
// a copy and carries no committed module.
func TestMadeBuild(t *testing.T) {
	b, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x00asm")) {
		t.Fatalf("modules/builtin.wasm does not start with the wasm magic: %q", b[:min(len(b), 8)])
	}
	if &b[0] != &made[0] {
		t.Error("Builtin copied modules/builtin.wasm")
	}
	hash, man, ok := Manifest()
	sum := sha256.Sum256(b)
	if !ok || hash != hex.EncodeToString(sum[:]) || len(man) == 0 {
		t.Errorf("Manifest: %.64s, %d bytes, %v; want the manifest of %x", hash, len(man), ok, sum)
	}
	if build, ok := BuildSHA256(); !ok || build != hex.EncodeToString(sum[:]) {
		t.Errorf("BuildSHA256: %s, %v; want the module's hash %x", build, ok, sum)
	}
	if _, err := Committed(); !errors.Is(err, ErrNoCommitted) {
		t.Errorf("Committed: %v, want ErrNoCommitted", err)
	}
}
