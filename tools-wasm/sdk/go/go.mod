module github.com/pal-mcp/pal/tools-wasm/sdk/go

go 1.26.0
