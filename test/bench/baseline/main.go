// Command baseline is the no-sandbox side of the benchmarks in test/bench: a plain
// github.com/mark3labs/mcp-go stdio server with one tool, `chat`, that takes the same fields as
// pal's (prompt, absolute_file_paths, model), reads the files itself and makes the same provider
// call through the same provider package (providers/registry, on the same SDK). It has no
// WebAssembly, no policy, no audit log and no conversation memory: what pal costs on top of it
// is what the sandbox and its checks cost. It is built by the benchmarks in the same run; it is
// not a product.
//
// It reads OPENAI_API_KEY, OPENAI_BASE_URL and DEFAULT_MODEL as pal does, and serves
// 8 calls at once, as pal does by default (limits.concurrent_calls). With -http ADDR it serves
// streamable HTTP at ADDR/mcp instead of stdio (mcp-go's server, no authentication).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/pal-mcp/pal/providers"
	"github.com/pal-mcp/pal/providers/registry"
)

// workers matches pal's default limits.concurrent_calls.
const workers = 8

// slots holds the calls running at once: stdio's worker pool bounds them too, HTTP's server
// runs each request in its own goroutine.
var slots = make(chan struct{}, workers)

func main() {
	httpAddr := flag.String("http", "", "serve streamable HTTP at this address (host:port) instead of stdio")
	flag.Parse()
	reg, err := registry.New(registry.Config{Getenv: os.Getenv})
	if err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
	s := server.NewMCPServer("baseline", "0")
	s.AddTool(mcp.NewTool("chat",
		mcp.WithDescription("Ask a model; files are attached to the prompt."),
		mcp.WithString("prompt", mcp.Required(), mcp.Description("What to ask.")),
		mcp.WithArray("absolute_file_paths", mcp.WithStringItems(), mcp.Description("Files to attach.")),
		mcp.WithString("model", mcp.Description("Model name.")),
	), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return chat(ctx, reg, req)
	})
	if *httpAddr != "" {
		err = server.NewStreamableHTTPServer(s).Start(*httpAddr)
	} else {
		err = server.ServeStdio(s, server.WithWorkerPoolSize(workers))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

// chat reads the files into the prompt, calls the model and answers with its reply.
func chat(ctx context.Context, reg *registry.Registry, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var prompt strings.Builder
	prompt.WriteString(req.GetString("prompt", ""))
	for _, path := range req.GetStringSlice("absolute_file_paths", nil) {
		b, err := os.ReadFile(path)
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		fmt.Fprintf(&prompt, "\n\n--- BEGIN FILE: %s ---\n%s\n--- END FILE: %s ---", path, b, path)
	}
	res, err := reg.Resolve(req.GetString("model", reg.DefaultModel()), providers.CategoryBalanced)
	if err != nil {
		return mcp.NewToolResultError(err.Error()), nil
	}
	out, err := reg.Generate(ctx, res, providers.Request{Model: res.Caps.ModelName, SystemPrompt: "You are a senior engineer.", Prompt: prompt.String()})
	if err != nil {
		return mcp.NewToolResultError(err.Error()), nil
	}
	reply, _ := json.Marshal(map[string]string{"status": "continuation_available", "content": out.Content, "model_used": out.Model})
	return mcp.NewToolResultText(string(reply)), nil
}
