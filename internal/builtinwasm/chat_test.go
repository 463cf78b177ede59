package builtinwasm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
)

// TestChatManifestIsChats: chat.manifest is keyed by the sha256 of the committed chat.wasm
// (run `make builtin-chat` after changing the crate: it writes both), lists chat alone, and
// Chat serves the embedded bytes without a copy, under 1 MiB.
func TestChatManifestIsChats(t *testing.T) {
	wasm, hash, man, ok := Chat()
	if !ok {
		t.Fatal("chat.manifest is malformed")
	}
	sum := sha256.Sum256(wasm)
	if hash != hex.EncodeToString(sum[:]) {
		t.Fatalf("chat.manifest is keyed by %s, chat.wasm is %x: run make builtin-chat", hash, sum)
	}
	if &wasm[0] != &chatWasm[0] {
		t.Error("Chat copied the module")
	}
	if len(wasm) > 1<<20 {
		t.Errorf("chat.wasm is %d bytes, over the 1 MiB limit for a committed file", len(wasm))
	}
	var m struct {
		Name  string
		Tools []struct{ Name string }
	}
	if err := json.Unmarshal(man, &m); err != nil || m.Name != "pal-chat" || len(m.Tools) != 1 || m.Tools[0].Name != "chat" {
		t.Fatalf("chat.manifest: %v, %+v", err, m)
	}
}
