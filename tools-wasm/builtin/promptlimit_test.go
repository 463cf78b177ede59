//go:build !wasip1

package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/paltest"
)

// TestPromptSizeRuleForEveryTool: every tool of the module has a row, so a new tool must say
// which argument the prompt-size rule holds and how the client sends it again. Over the limit
// the tool answers resend_prompt (isError) before any model call or thread write; exactly at
// the limit it runs; the instructions name only a route the tool has.
func TestPromptSizeRuleForEveryTool(t *testing.T) {
	const limit = 100
	steps := func(kv ...any) func(string) map[string]any {
		return func(text string) map[string]any { return wfStep(1, 2, true, append([]any{"step", text}, kv...)...) }
	}
	prompt := func(text string) map[string]any { return map[string]any{"prompt": text} }
	files := []string{"/proj/main.go"}
	rows := map[string]struct {
		args  func(text string) map[string]any // nil: the tool takes no client text
		setup func(h *paltest.Host)            // nil: newHost as it is
		field string
		route string // what the instructions must name: "prompt.txt", "relevant_files" or "shorter"
	}{
		"chat":       {prompt, nil, "prompt", "prompt.txt"},
		"clink":      {prompt, withCLI, "prompt", "prompt.txt"},
		"challenge":  {prompt, nil, "prompt", "shorter"},
		"apilookup":  {prompt, nil, "prompt", "shorter"},
		"listmodels": {},
		"version":    {},
		"thinkdeep":  {steps(), nil, "step", "relevant_files"},
		"debug":      {steps(), nil, "step", "relevant_files"},
		"secaudit":   {steps(), nil, "step", "relevant_files"},
		"codereview": {steps("relevant_files", files), nil, "step", "relevant_files"},
		"analyze":    {steps("relevant_files", files), nil, "step", "relevant_files"},
		"refactor":   {steps("relevant_files", files), nil, "step", "relevant_files"},
		"testgen":    {steps("relevant_files", files), nil, "step", "relevant_files"},
		"precommit":  {steps("path", "/proj"), nil, "step", "relevant_files"},
		"tracer":     {steps("target_description", "Add", "trace_mode", "precision"), nil, "step", "relevant_files"},
		"docgen": {steps("num_files_documented", 0, "total_files_to_document", 1, "document_complexity", true, "document_flow", true,
			"update_existing", true, "comments_on_complex_logic", true), nil, "step", "relevant_files"},
		"consensus": {steps("models", []map[string]string{{"model": "flash"}, {"model": "o3"}}), nil, "step", "relevant_files"},
		"planner": {func(text string) map[string]any {
			return map[string]any{"step": text, "step_number": 1, "total_steps": 2, "next_step_required": true}
		}, nil, "step", "shorter"},
	}
	var m abi.Manifest
	if err := json.Unmarshal(pal.Describe(), &m); err != nil {
		t.Fatal(err)
	}
	for _, tool := range m.Tools {
		row, ok := rows[tool.Name]
		if !ok {
			t.Errorf("tool %s has no row: say which argument the prompt-size rule holds", tool.Name)
			continue
		}
		t.Run(tool.Name, func(t *testing.T) {
			var sch struct {
				Properties map[string]json.RawMessage `json:"properties"`
			}
			if err := json.Unmarshal(tool.InputSchema, &sch); err != nil {
				t.Fatal(err)
			}
			if row.args == nil {
				for _, f := range []string{"prompt", "step"} {
					if sch.Properties[f] != nil {
						t.Fatalf("%s takes %s but its row says it takes no client text", tool.Name, f)
					}
				}
				return
			}
			h := newHost()
			if row.setup != nil {
				row.setup(h)
			}
			h.Info.Limits.PromptChars = limit
			out := invoke(t, h, tool.Name, row.args(strings.Repeat("é", limit+1)))
			if !out.IsError || out.Status != "resend_prompt" || out.Metadata["field"] != row.field || out.Metadata["prompt_size"] != float64(limit+1) ||
				string(out.Raw["continuation_offer"]) != "null" {
				t.Fatalf("over the limit: isError=%v %s %v", out.IsError, out.Status, out.Raw)
			}
			for _, req := range h.Requests {
				if strings.HasPrefix(req, "thread.") || strings.HasPrefix(req, "model.") || strings.HasPrefix(req, "fs.") {
					t.Fatalf("a refused prompt went on to %s (requests %v)", req, h.Requests)
				}
			}
			want := map[string]string{"prompt.txt": "'prompt.txt'", "relevant_files": "list in relevant_files", "shorter": "shorter " + row.field}[row.route]
			if !strings.Contains(out.Content, want) {
				t.Errorf("instructions %q lack %q", out.Content, want)
			}
			for route, text := range map[string]string{"prompt.txt": "prompt.txt", "relevant_files": "relevant_files"} {
				if route != row.route && strings.Contains(out.Content, text) {
					t.Errorf("instructions offer %s, which %s does not take: %q", text, tool.Name, out.Content)
				}
			}
			at := h.Invoke(t, tool.Name, row.args(strings.Repeat("é", limit)))
			if text := paltest.Text(at); at.IsError || strings.Contains(text, "resend_prompt") {
				t.Fatalf("exactly at the limit: isError=%v %s", at.IsError, text)
			}
		})
	}
}

// TestPromptFileIsThePrompt: for the tools that take one (chat), a prompt.txt in the file
// list is read as the prompt, is not shared as a file, and is not held to the limit.
// withCLI configures one CLI that answers "cli says hi".
func withCLI(h *paltest.Host) {
	h.CLIs = []pal.CLIInfo{{Name: "gemini"}}
	h.RunCLI = func(abi.CLIRunRequest, []byte) (pal.CLIResult, string, error) {
		return pal.CLIResult{}, "cli says hi", nil
	}
}

func TestPromptFileIsThePrompt(t *testing.T) {
	for _, tool := range []string{"chat"} {
		h := newHost()
		h.Info.Limits.PromptChars = 10
		out := invoke(t, h, tool, map[string]any{"prompt": "see file", "absolute_file_paths": []string{"/proj/main.go", "/proj/prompt.txt"}})
		mustSucceed(t, out)
		p := h.Generated[0].Prompt
		if strings.Count(p, "The real question, from prompt.txt.") != 1 || strings.Contains(p, "see file") ||
			strings.Contains(p, "BEGIN FILE: /proj/prompt.txt") || !strings.Contains(p, "BEGIN FILE: /proj/main.go") {
			t.Fatalf("%s: prompt sent:\n%s", tool, p)
		}
	}
}
