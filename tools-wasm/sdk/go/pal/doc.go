// Package pal is the Go guest library for pal tool modules (docs/abi.md, ABI version 1).
//
// A tool module registers its tools from init functions and never touches pointers:
//
//	func init() {
//		pal.SetModule("mytools", "0.1.0")
//		pal.Register(pal.Tool{Name: "echo", Description: "…", InputSchema: schema,
//			Capabilities: []string{pal.CapFSRead}, Category: "fast", Handler: handleEcho})
//	}
//
//	func handleEcho(ctx context.Context, call *pal.Call, args json.RawMessage) (*pal.Result, error) { … }
//
// ctx ends when the call's deadline passes or the call is cancelled (see Handler): a handler
// with a long loop checks ctx.Err() in it.
//
// Inside a handler, the package-level functions ReadFile, ListDir, ResolveModel, Generate,
// ListModels, ThreadCreate, ThreadRead, ThreadAppend, Progress, HostInfo and Log each perform
// one host op. A refused op returns a *HostError; match its code with errors.Is, for example
// errors.Is(err, pal.ErrDenied) (the policy refused the path or argument) or
// errors.Is(err, pal.ErrNotGranted) (the tool's grant lacks the op's capability).
//
// Two backends share all framing and dispatch code:
//
//   - GOOS=wasip1: the module exports alloc, free, describe and handle and imports pal.call
//     and pal.log. Build it as a reactor, with -trimpath and -buildvcs=false so that the
//     sha256 pal.toml pins is the same in any directory (for one Go version; docs/authoring.md):
//     GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -buildvcs=false -o tool.wasm ./tool
//   - every other GOOS: there is no wasm glue. A test installs an in-process Host with
//     SetHost and drives the tools with Describe and Invoke under plain `go test`; the
//     paltest package provides a fake host that implements every op of ABI 1. Test files
//     need no build tag for go test; paltest builds only natively, so a test file that
//     imports it needs //go:build !wasip1 when the package is also vetted with GOOS=wasip1.
//
// The package is in the kit module github.com/pal-mcp/pal/tools-wasm/sdk/go, which requires
// no other module: a tool's go.mod needs only
// go get github.com/pal-mcp/pal/tools-wasm/sdk/go@v1.0.0 (v1.x.y speaks ABI 1).
package pal
