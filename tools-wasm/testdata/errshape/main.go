//go:build wasip1

// Command errshape is a test module built with the Go kit: each tool fails in one way, so that
// server's TestOneErrorShape can drive every kind of failure a caller sees through the real
// server and check that all of them come back in the one error shape (docs/abi.md).
package main

import (
	"encoding/json"
	"errors"
	"os"
	"strings"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
)

func main() {}

var sink []byte

func init() {
	pal.SetModule("errshape", "0.1.0")
	obj := json.RawMessage(`{"type":"object"}`)
	add := func(name string, schema json.RawMessage, h pal.Handler, caps ...string) {
		pal.Register(pal.Tool{Name: name, Description: "Fails on purpose: " + name + ".", InputSchema: schema,
			Capabilities: caps, Category: "fast", Handler: h})
	}
	add("args", json.RawMessage(`{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}`),
		func(*pal.Call, json.RawMessage) (*pal.Result, error) { return pal.TextResult("ok"), nil })
	add("read", json.RawMessage(`{"type":"object","properties":{"path":{"type":"string"}}}`),
		func(_ *pal.Call, raw json.RawMessage) (*pal.Result, error) {
			var in struct{ Path string }
			if err := json.Unmarshal(raw, &in); err != nil {
				return nil, err
			}
			_, _, err := pal.ReadFile(in.Path, 0)
			if err != nil {
				return nil, err
			}
			return pal.TextResult("read"), nil
		}, pal.CapFSRead)
	add("undeclared", obj, func(*pal.Call, json.RawMessage) (*pal.Result, error) {
		_, err := pal.ListModels() // model.list is not declared: not_granted
		return nil, err
	})
	add("generate", obj, func(*pal.Call, json.RawMessage) (*pal.Result, error) {
		_, err := pal.Generate(pal.GenerateRequest{Prompt: "hi"})
		if err != nil {
			return nil, err
		}
		return pal.TextResult("generated"), nil
	}, pal.CapModelGenerate)
	add("fail", obj, func(*pal.Call, json.RawMessage) (*pal.Result, error) {
		return nil, errors.New("the tool failed on purpose")
	})
	add("plain", obj, func(*pal.Call, json.RawMessage) (*pal.Result, error) {
		return pal.ErrorResult("a plain-text failure"), nil
	})
	add("spin", obj, func(*pal.Call, json.RawMessage) (*pal.Result, error) {
		n := 0
		for {
			n++
		}
	})
	add("grow", obj, func(*pal.Call, json.RawMessage) (*pal.Result, error) {
		for {
			sink = append(sink, make([]byte, 4<<20)...)
		}
	})
	add("big", obj, func(*pal.Call, json.RawMessage) (*pal.Result, error) {
		return pal.TextResult(strings.Repeat("x", 2<<20)), nil
	})
	add("exit", obj, func(*pal.Call, json.RawMessage) (*pal.Result, error) {
		os.Exit(3)
		return nil, nil
	})
}
