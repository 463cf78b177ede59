//go:build !wasip1

package main

import (
	"encoding/json"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
)

// chat is registered only in the native build, where the tests (and the Rust chat's parity
// harness, rustchat_test.go) run it as the oracle: the module pal ships is built for wasip1
// without it, since pal's chat tool is the Rust module tools-wasm/builtin-chat, which pal
// embeds as its second built-in module (internal/builtinwasm/chat.wasm). Tool names must be
// unique across pal's modules.
func init() {
	pal.Register(pal.Tool{
		Name:  "chat",
		Title: "Chat with another model",
		Description: "Ask another AI model for ideas or a second opinion; share files with absolute_file_paths. " +
			"Its reply is a view to weigh; chat never writes files.",
		InputSchema: json.RawMessage(chatSchema),
		// Read-only: code artifacts are refused (docs/RATIONALE.md), so chat never writes.
		Annotations: pal.Annotations{ReadOnly: true, Destructive: false, Idempotent: false, OpenWorld: true},
		Capabilities: []string{pal.CapFSRead, pal.CapFSList, pal.CapModelGenerate, pal.CapThreadRead, pal.CapThreadWrite,
			pal.CapProgress, pal.CapHostInfo},
		Category:      "fast",
		RequiresModel: true,
		Handler:       handleChat,
	})
}
