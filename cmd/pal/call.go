package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/pal-mcp/pal/internal/app"
	"github.com/pal-mcp/pal/runtime/abi"
)

// callCmd runs `pal call TOOL -args JSON`: one tool call from the shell, through the very
// server `pal serve` builds (app.Build, or app.Degraded when that fails) and its own stdio
// loop, so policy, grants, budgets, limits and audit records are the server's. It prints the
// result's text on stdout; an isError result goes to stderr and exits 1. Progress goes to
// stderr as it arrives.
func callCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var argsJSON string
	var raw bool
	define := func(fs *flag.FlagSet) {
		fs.StringVar(&argsJSON, "args", "{}", "the tool's arguments, a JSON object; - reads them from stdin")
		fs.BoolVar(&raw, "json", false, "print the whole CallToolResult as JSON")
	}
	// The tool's name may come before or after the flags.
	var tool string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		tool, args = args[0], args[1:]
	}
	opts, rest, ok, code := layerFlags("call", args, stdout, stderr, define)
	if !ok {
		return code
	}
	if tool == "" && len(rest) > 0 {
		tool, rest = rest[0], rest[1:]
	}
	if tool == "" || len(rest) > 0 {
		fmt.Fprintln(stderr, "usage: pal call TOOL [-args JSON] [-json] [-config FILE]")
		return 2
	}
	if argsJSON == "-" {
		b, err := io.ReadAll(io.LimitReader(stdin, 64<<20))
		if err != nil {
			fmt.Fprintf(stderr, "pal call: reading the arguments from stdin: %v\n", err)
			return 2
		}
		argsJSON = string(b)
	}
	var arguments map[string]any
	if err := json.Unmarshal([]byte(argsJSON), &arguments); err != nil || arguments == nil {
		fmt.Fprintf(stderr, "pal call: -args must be a JSON object, such as '{\"prompt\": \"hello\"}'\n")
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts.LogOutput = stderr
	a, err := app.Build(ctx, opts)
	if err != nil {
		// As pal serve does: a degraded server answers the call with why, which is what a
		// client that says "connection closed" would have shown.
		// Its log would say why a second time: the result says it.
		why := err
		dopts := opts
		dopts.LogOutput = io.Discard
		if a, err = app.Degraded(ctx, dopts, why); err != nil {
			fmt.Fprintf(stderr, "pal: %v\npal: %v\n", why, err)
			return 1
		}
	}
	defer a.Close()
	if tools := a.Server.Tools(); !slices.Contains(tools, tool) {
		fmt.Fprintf(stderr, "pal call: no tool %q is published (disabled, or no module declares it); the tools are: %s\n", tool, strings.Join(tools, ", "))
		return 1
	}
	res, err := callOverStdio(ctx, a, tool, arguments, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "pal call: %v\n", err)
		return 1
	}
	if raw {
		fmt.Fprintf(stdout, "%s\n", res.raw)
	} else {
		w := stdout
		if res.IsError {
			w = stderr
		}
		printContent(w, res)
	}
	if res.IsError {
		return 1
	}
	return 0
}

// callResult is the part of a CallToolResult pal call prints.
type callResult struct {
	Content []struct {
		Type     string `json:"type"`
		Text     string `json:"text"`
		MIMEType string `json:"mimeType"`
		Data     string `json:"data"`
		Resource *struct {
			URI  string `json:"uri"`
			Text string `json:"text"`
		} `json:"resource"`
	} `json:"content"`
	IsError bool `json:"isError"`
	raw     json.RawMessage
}

// printContent writes each content item: text as it is, other items as one line naming them.
// An isError result in the error shape ({"status":"error","code":…,"content":…}) is printed as
// its content followed by its code in brackets.
func printContent(w io.Writer, res *callResult) {
	for _, c := range res.Content {
		switch {
		case c.Type == "text":
			text := c.Text
			if _, code, content, _, ok := abi.ParseFailure(text); res.IsError && ok && content != "" {
				text = content + " [" + code + "]"
			}
			fmt.Fprintln(w, strings.TrimSuffix(text, "\n"))
		case c.Type == "resource" && c.Resource != nil && c.Resource.Text != "":
			fmt.Fprintf(w, "[resource %s]\n%s\n", c.Resource.URI, c.Resource.Text)
		case c.Type == "resource" && c.Resource != nil:
			fmt.Fprintf(w, "[resource %s]\n", c.Resource.URI)
		default:
			fmt.Fprintf(w, "[%s %s, %d bytes of base64; -json prints it]\n", c.Type, c.MIMEType, len(c.Data))
		}
	}
}

// callOverStdio runs the MCP exchange a client would (initialize, initialized, tools/call
// with a progress token) against a's server through its stdio loop, over pipes, and returns
// the call's result. Progress notifications are written to progress as they arrive.
func callOverStdio(ctx context.Context, a *app.App, tool string, arguments map[string]any, progress io.Writer) (*callResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	served := make(chan error, 1)
	go func() {
		err := a.Server.ServeStdio(ctx, inR, outW)
		outW.CloseWithError(io.EOF)
		served <- err
	}()
	defer func() {
		// Closing the output first: the server may still be writing (a log line after the
		// result) and would wait for a reader forever.
		outR.Close()
		inW.Close()
		<-served
	}()
	enc := json.NewEncoder(inW)
	lines := bufio.NewReader(outR)
	type message struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	// await reads messages until the response to id, writing progress on the way.
	await := func(id string) (json.RawMessage, error) {
		for {
			line, err := lines.ReadBytes('\n')
			if err != nil {
				return nil, fmt.Errorf("the server stopped before answering: %w", err)
			}
			var m message
			if json.Unmarshal(line, &m) != nil {
				continue
			}
			if m.Method == "notifications/progress" {
				var p struct {
					Progress float64 `json:"progress"`
					Total    float64 `json:"total"`
					Message  string  `json:"message"`
				}
				if json.Unmarshal(m.Params, &p) == nil {
					if p.Total > 0 {
						fmt.Fprintf(progress, "progress %g/%g %s\n", p.Progress, p.Total, p.Message)
					} else {
						fmt.Fprintf(progress, "progress %g %s\n", p.Progress, p.Message)
					}
				}
				continue
			}
			if m.Method != "" || string(m.ID) != id {
				continue // log messages: the log already went to stderr
			}
			if m.Error != nil {
				return nil, errors.New(m.Error.Message)
			}
			return m.Result, nil
		}
	}
	// The requests are written on their own goroutine and this one only reads: io.Pipe
	// blocks a writer until its bytes are read, so a server writing a log notification while
	// we wrote the next request would wait on us as we waited on it.
	initialized := make(chan struct{})
	go func() {
		defer inW.Close()
		if enc.Encode(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": map[string]any{
			"protocolVersion": "2025-06-18", "capabilities": map[string]any{},
			"clientInfo": map[string]any{"name": "pal call", "version": app.Version},
		}}) != nil {
			return
		}
		select {
		case <-initialized:
		case <-ctx.Done():
			return
		}
		if enc.Encode(map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"}) != nil {
			return
		}
		_ = enc.Encode(map[string]any{"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": map[string]any{
			"name": tool, "arguments": arguments, "_meta": map[string]any{"progressToken": "pal-call"},
		}})
		<-ctx.Done() // keep stdin open until the call is answered
	}()
	if _, err := await("1"); err != nil {
		return nil, fmt.Errorf("initialize: %w", err)
	}
	close(initialized)
	raw, err := await("2")
	if err != nil {
		return nil, err
	}
	res := &callResult{raw: raw}
	if err := json.Unmarshal(raw, res); err != nil {
		return nil, fmt.Errorf("the server's result is not a CallToolResult: %v", err)
	}
	return res, nil
}
