//go:build wasip1

// Command errshape is a test module built with the Go kit: each tool fails in one way, so that
// server's TestOneErrorShape can drive every kind of failure a caller sees through the real
// server and check that all of them come back in the one error shape (docs/abi.md); watch and
// watchhost report what their context said when a call ran out of time or was cancelled
// (TestHandlerContextEnds).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
		func(context.Context, *pal.Call, json.RawMessage) (*pal.Result, error) {
			return pal.TextResult("ok"), nil
		})
	add("read", json.RawMessage(`{"type":"object","properties":{"path":{"type":"string"}}}`),
		func(_ context.Context, _ *pal.Call, raw json.RawMessage) (*pal.Result, error) {
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
	add("undeclared", obj, func(context.Context, *pal.Call, json.RawMessage) (*pal.Result, error) {
		_, err := pal.ListModels() // model.list is not declared: not_granted
		return nil, err
	})
	add("generate", obj, func(context.Context, *pal.Call, json.RawMessage) (*pal.Result, error) {
		_, err := pal.Generate(pal.GenerateRequest{Prompt: "hi"})
		if err != nil {
			return nil, err
		}
		return pal.TextResult("generated"), nil
	}, pal.CapModelGenerate)
	add("fail", obj, func(context.Context, *pal.Call, json.RawMessage) (*pal.Result, error) {
		return nil, errors.New("the tool failed on purpose")
	})
	add("plain", obj, func(context.Context, *pal.Call, json.RawMessage) (*pal.Result, error) {
		return pal.ErrorResult("a plain-text failure"), nil
	})
	add("spin", obj, func(context.Context, *pal.Call, json.RawMessage) (*pal.Result, error) {
		n := 0
		for {
			n++
		}
	})
	// watch loops until its context ends, checking only ctx.Err() (the clock), and says what
	// it saw: a call past its deadline.
	add("watch", obj, func(ctx context.Context, _ *pal.Call, _ json.RawMessage) (*pal.Result, error) {
		dl, hasDeadline := ctx.Deadline()
		n := 0
		for ctx.Err() == nil {
			n++
		}
		return pal.TextResult(fmt.Sprintf("ctx.Err: %v; deadline set: %v (%v); iterations > 0: %v", ctx.Err(), hasDeadline, !dl.IsZero(), n > 0)), nil
	})
	// watchhost loops making host calls until its context ends: a cancelled call, which the
	// host tells the guest by answering cancelled.
	add("watchhost", obj, func(ctx context.Context, _ *pal.Call, _ json.RawMessage) (*pal.Result, error) {
		var last error
		for ctx.Err() == nil {
			_, last = pal.HostInfo()
		}
		return pal.TextResult(fmt.Sprintf("ctx.Err: %v; last host call: %v", ctx.Err(), last)), nil
	}, pal.CapHostInfo)
	add("grow", obj, func(context.Context, *pal.Call, json.RawMessage) (*pal.Result, error) {
		for {
			sink = append(sink, make([]byte, 4<<20)...)
		}
	})
	add("big", obj, func(context.Context, *pal.Call, json.RawMessage) (*pal.Result, error) {
		return pal.TextResult(strings.Repeat("x", 2<<20)), nil
	})
	add("exit", obj, func(context.Context, *pal.Call, json.RawMessage) (*pal.Result, error) {
		os.Exit(3)
		return nil, nil
	})
}
