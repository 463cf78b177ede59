//go:build !wasip1

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/pal-mcp/pal/internal/testwasm"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
)

// TestCommittedChatIsTheCrate: the chat module pal embeds (internal/builtinwasm/chat.wasm,
// committed as built) is, byte for byte, what the crate tools-wasm/builtin-chat builds here,
// in a target directory of its own: the bytes depend on the source alone, not on where it was
// built (make check-builtin-chat checks the same with the Makefile's build, and the manifest).
func TestCommittedChatIsTheCrate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Rust chat module")
	}
	built := testwasm.LoadRust(t, "tools-wasm/builtin-chat")
	committed, err := os.ReadFile(filepath.Join(testwasm.Root(t), "internal", "builtinwasm", "chat.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(built, committed) {
		t.Fatalf("internal/builtinwasm/chat.wasm (%d bytes, sha256 %x) is not what tools-wasm/builtin-chat builds (%d bytes, %x): run `make builtin-chat` and commit it",
			len(committed), sha256.Sum256(committed), len(built), sha256.Sum256(built))
	}
}

// TestCommittedChatManifestIsTheSnapshot: the manifest pal serves chat from
// (internal/builtinwasm/chat.manifest) declares chat exactly as the Go chat's snapshot
// (testdata/schemas/chat.json) does: moving chat to the Rust module changed nothing a client
// sees. It needs no Rust toolchain.
func TestCommittedChatManifestIsTheSnapshot(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testwasm.Root(t), "internal", "builtinwasm", "chat.manifest"))
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := bytes.Cut(raw, []byte("\n"))
	var m abi.Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Tools) != 1 || m.Tools[0].Name != "chat" {
		t.Fatalf("chat.manifest's tools: %+v", m.Tools)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "schemas", "chat.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := schemaSnapshot(t, m.Tools[0]); !bytes.Equal(got, want) {
		t.Fatalf("the chat pal embeds is declared otherwise than testdata/schemas/chat.json:\n%s", got)
	}
}
