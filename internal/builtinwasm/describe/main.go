// Command describe writes the manifest of a tool module, keyed by the module's sha256, in the
// form package builtinwasm embeds: the hex sha256 of the module on the first line, then the
// manifest JSON. `make modules` runs it on the built-in module, so that pal answers tools/list
// from the binary without describing or compiling the module at start:
//
//	go run ./internal/builtinwasm/describe internal/builtinwasm/modules/builtin.wasm > builtin.manifest
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/pal-mcp/pal/runtime"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "describe:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 2 {
		return fmt.Errorf("usage: describe MODULE.wasm")
	}
	wasm, err := os.ReadFile(os.Args[1])
	if err != nil {
		return err
	}
	ctx := context.Background()
	e, err := runtime.New(ctx, runtime.Config{PoolSize: -1})
	if err != nil {
		return err
	}
	defer e.Close(ctx)
	m, err := e.LoadModule(ctx, os.Args[1], wasm, "")
	if err != nil {
		return err
	}
	body, err := json.Marshal(m.Manifest())
	if err != nil {
		return err
	}
	_, err = fmt.Printf("%s\n%s\n", m.SHA256(), body)
	return err
}
