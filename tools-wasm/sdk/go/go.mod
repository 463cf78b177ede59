// The Go kit for pal tools: its major version is the ABI's (v1.x.y speaks ABI 1); releases
// are tagged tools-wasm/sdk/go/v1.MINOR.PATCH. It requires no other module.
module github.com/pal-mcp/pal/tools-wasm/sdk/go

go 1.26.0

// The Go that pal's modules are built and checked with: a module's sha256 depends on it
// (docs/authoring.md, "The build is reproducible").
toolchain go1.26.8
