// Command builtin is pal's built-in Go tool module: every built-in tool but chat, which is
// the Rust module tools-wasm/builtin-chat (the native build registers the Go chat too, as the
// tests' oracle: chat_register.go). It is built as a WASI reactor and run by the host under
// wazero:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o builtin.wasm ./tools-wasm/builtin
//
// Under any other GOOS it builds too, so that `go test` runs the tools natively against the
// fake host in package paltest.
package main

import "github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"

// moduleVersion is the version of this module in its manifest.
const moduleVersion = "0.1.0"

func init() {
	pal.SetModule("builtin", moduleVersion)
	// The types the tools decode their arguments into and encode their replies from: built
	// once here, they are in the memory every call's instance starts from.
	pal.PrepareJSON(clinkArgs{}, toolOutput{}, map[string]any{})
}

// main never runs in a reactor; the tools register from init functions.
func main() {}
