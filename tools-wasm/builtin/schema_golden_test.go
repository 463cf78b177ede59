//go:build !wasip1

package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
)

var update = flag.Bool("update", false, "rewrite the schema snapshots in testdata/schemas")

// TestSchemaSnapshots compares each tool's published definition (description, annotations,
// capabilities, input schema) with its snapshot; `go test -run TestSchemaSnapshots -update`
// rewrites them after a deliberate change.
func TestSchemaSnapshots(t *testing.T) {
	var m abi.Manifest
	if err := json.Unmarshal(pal.Describe(), &m); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("testdata", "schemas")
	seen := map[string]bool{}
	for _, tool := range m.Tools {
		seen[tool.Name+".json"] = true
		got := schemaSnapshot(t, tool)
		path := filepath.Join(dir, tool.Name+".json")
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: no snapshot (run go test -run TestSchemaSnapshots -update): %v", tool.Name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the published definition drifted from %s; if the change is deliberate, run go test -run TestSchemaSnapshots -update\ngot:\n%s", tool.Name, path, got)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !seen[e.Name()] && !*update {
			t.Errorf("snapshot %s has no tool", e.Name())
		}
	}
}

// schemaSnapshot is the snapshot of a tool's published definition, as testdata/schemas holds it.
func schemaSnapshot(t *testing.T, tool abi.ToolSpec) []byte {
	t.Helper()
	var schema any
	if err := json.Unmarshal(tool.InputSchema, &schema); err != nil {
		t.Fatal(err)
	}
	snap := map[string]any{"name": tool.Name, "title": tool.Title, "description": tool.Description, "category": tool.Category,
		"capabilities": tool.Capabilities, "annotations": tool.Annotations, "requiresModel": tool.RequiresModel, "inputSchema": schema}
	got, err := json.MarshalIndent(snap, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(got, '\n')
}

// TestToolsListSize estimates the tools/list reply with every built-in tool, in tokens
// (characters / 4): it must stay under 6,000. chat's model field gets a 500-character
// stand-in for the host's model list. server's TestToolsListTokenBudget measures the real
// reply.
func TestToolsListSize(t *testing.T) {
	var m abi.Manifest
	if err := json.Unmarshal(pal.Describe(), &m); err != nil {
		t.Fatal(err)
	}
	var tools []any
	for _, tool := range m.Tools {
		a := tool.Annotations
		if a.ReadOnlyHint != nil && *a.ReadOnlyHint {
			a.DestructiveHint, a.IdempotentHint = nil, nil // as the server publishes them
		}
		var ann map[string]any
		raw, _ := json.Marshal(a)
		_ = json.Unmarshal(raw, &ann)
		ann["title"] = tool.Title
		tools = append(tools, map[string]any{"name": tool.Name, "description": tool.Description,
			"inputSchema": tool.InputSchema, "annotations": ann})
	}
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "result": map[string]any{"tools": tools}})
	tokens := (len(b) + 500) / 4
	t.Logf("tools/list: %d tools, %d bytes, ~%d tokens", len(m.Tools), len(b)+500, tokens)
	if tokens >= 6000 {
		t.Fatalf("tools/list is ~%d tokens; the budget is 6,000", tokens)
	}
}
