//go:build !palmodules

package builtinwasm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
)

func TestCommittedIsAModule(t *testing.T) {
	b, err := Committed()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x00asm")) {
		t.Fatalf("the committed module does not start with the wasm magic: %q", b[:min(len(b), 8)])
	}
	if len(committed) > 1<<20 {
		t.Errorf("builtin.wasm.xz is %d bytes, over the 1 MiB limit for a committed file", len(committed))
	}
}

func TestDecodeRefusesGarbage(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("not xz"), committed[:len(committed)/2]} {
		if _, err := decode(in); !errors.Is(err, ErrCorrupt) {
			t.Errorf("decode of %d bytes: %v, want ErrCorrupt", len(in), err)
		}
	}
}

// TestCommittedManifestIsTheCommittedModules: builtin.manifest is keyed by the sha256 of the
// module builtin.wasm.xz holds (run `make builtin-xz` after changing the guest: it writes both).
func TestCommittedManifestIsTheCommittedModules(t *testing.T) {
	b, err := Committed()
	if err != nil {
		t.Fatal(err)
	}
	hash, body, ok := bytes.Cut(committedManifest, []byte("\n"))
	sum := sha256.Sum256(b)
	if !ok || string(hash) != hex.EncodeToString(sum[:]) {
		t.Fatalf("builtin.manifest is keyed by %.64s, the committed module is %x: run make builtin-xz", hash, sum)
	}
	var man struct{ Tools []json.RawMessage }
	if err := json.Unmarshal(body, &man); err != nil || len(man.Tools) == 0 {
		t.Fatalf("builtin.manifest: %v, %d tools", err, len(man.Tools))
	}
}

// TestNoBuildSHA256 holds a build without make's palmodules tag to hashing the built-in module
// at start: its modules/ may pair a manifest with another module (the tests' -overlay builds).
func TestNoBuildSHA256(t *testing.T) {
	if hash, ok := BuildSHA256(); ok {
		t.Fatalf("BuildSHA256 = %s in a build that did not embed the module and its manifest together", hash)
	}
}

// TestCommittedSHA256: a build without make's modules/ (`go install`) takes the committed
// module's hash from the committed manifest, the hash of what Committed decodes; a build whose
// modules/ holds make's module or manifest (this tree after `make build`, the -overlay builds)
// gets none, since its manifest need not be the committed module's.
func TestCommittedSHA256(t *testing.T) {
	hash, ok := CommittedSHA256()
	if madeExists() {
		if ok {
			t.Fatalf("CommittedSHA256 = %s with make's module in modules/", hash)
		}
		return
	}
	b, err := Committed()
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(b); !ok || hash != hex.EncodeToString(sum[:]) {
		t.Fatalf("CommittedSHA256 = %q, %v; the committed module is %x", hash, ok, sum)
	}
}
