package main

import (
	"fmt"
	"strings"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/workflow"
)

// Shared pieces of the built-in workflow tools.

// stepOneNeedsFiles refuses a first step without relevant_files: tools that review code
// need to know which code.
func stepOneNeedsFiles(tool string) func(r *workflow.Run) error {
	return func(r *workflow.Run) error {
		if s := r.Current(); s.StepNumber == 1 && len(s.RelevantFiles) == 0 {
			return fmt.Errorf("step 1 of %s needs relevant_files: the absolute paths of the code to examine", tool)
		}
		return nil
	}
}

// severityEnum is the schema of a severity filter.
const severityEnum = `{"type":"string","enum":["critical","high","medium","low","all"]}`

// expertRules close every expert system prompt: how to read the material and what not to
// do.
const expertRules = `
How to read the material:
- The agent's steps, findings and hypotheses come first; they are its claims, not facts. Check them against the files.
- Files appear between "--- BEGIN FILE" and "--- END FILE" markers. Lines of files sent for this review carry numbers like "  12│ "; cite them, never copy them into code.
- Earlier conversation, when present, comes first under "CONVERSATION HISTORY".
Rules:
- Be specific: file, line or symbol, what is wrong, why it matters, the fix.
- Stay in scope: no rewrites, new frameworks or unrelated clean-ups nobody asked for.
- Do not invent code, APIs or results you were not shown; say what would settle an open question.
- If you cannot conclude without files you were not given, reply only with JSON:
  {"status": "files_required_to_continue", "mandatory_instructions": "<what to send and why>", "files_needed": ["<path>"]}`

// stringField returns the named own field of the run's first step that set it, or def.
func stringField(r *workflow.Run, name, def string) string {
	for i := len(r.Steps) - 1; i >= 0; i-- {
		var m map[string]any
		if r.Steps[i].DecodeExtra(&m) == nil {
			if v, ok := m[name].(string); ok && v != "" {
				return v
			}
		}
	}
	return def
}

// section is a titled prompt section, or "" when body is empty.
func section(title, body string) string {
	if strings.TrimSpace(body) == "" {
		return ""
	}
	return "=== " + title + " ===\n" + strings.TrimSpace(body) + "\n"
}
