package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/promptlimit"
)

// challenge and apilookup call no model: they hand the agent instructions to follow itself.

// promptSchema is the schema of a tool whose one argument is a required prompt.
func promptSchema(desc string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"type": "object", "required": []string{"prompt"}, "additionalProperties": false,
		"properties": map[string]any{"prompt": map[string]string{"type": "string", "description": desc}}})
	return b
}

func init() {
	pal.Register(pal.Tool{
		Name:         "challenge",
		Title:        "Re-examine a claim",
		Description:  "When the user pushes back: returns instructions to re-check the claim, not agree by reflex. No model call.",
		InputSchema:  promptSchema("The statement or pushback, quoted as given."),
		Annotations:  pal.Annotations{ReadOnly: true, Idempotent: true},
		Capabilities: []string{pal.CapHostInfo}, // the prompt-size limit
		Category:     "fast",
		Handler:      handleChallenge,
	})
	pal.Register(pal.Tool{
		Name:         "apilookup",
		Title:        "Look up current API docs",
		Description:  "Before relying on an API known only from training: returns instructions to search current docs. No model call.",
		InputSchema:  promptSchema("The API, library or version question."),
		Annotations:  pal.Annotations{ReadOnly: true, Idempotent: true},
		Capabilities: []string{pal.CapHostInfo}, // the prompt-size limit
		Category:     "fast",
		Handler:      handleAPILookup,
	})
}

// simplePromptRule: prompt is held to the limit; these tools take no files, so the client
// is asked for a shorter one.
var simplePromptRule = promptlimit.Rule{Field: "prompt"}

// promptArg decodes {"prompt": "..."} and refuses an empty prompt. A prompt over the host's
// limit gets the resend_prompt reply in tooLong.
func promptArg(raw json.RawMessage) (prompt string, tooLong *pal.Result, err error) {
	var a struct {
		Prompt *string `json:"prompt"`
	}
	if err := decodeArgs(raw, &a); err != nil {
		return "", nil, err
	}
	if a.Prompt == nil || strings.TrimSpace(*a.Prompt) == "" {
		return "", nil, errors.New("prompt is required and must not be empty")
	}
	return *a.Prompt, simplePromptRule.Check(*a.Prompt, loadHostInfo().Limits.PromptChars), nil
}

func handleChallenge(_ context.Context, _ *pal.Call, raw json.RawMessage) (*pal.Result, error) {
	stmt, tooLong, err := promptArg(raw)
	if tooLong != nil {
		return tooLong, nil
	}
	if err != nil {
		return pal.JSONErrorResult(map[string]any{"status": "error", "error": err.Error(), "content": "Cannot build the challenge: " + err.Error()})
	}
	return pal.JSONResult(map[string]any{
		"status":             "challenge_accepted",
		"original_statement": stmt,
		"challenge_prompt":   challengePrompt(stmt),
		"instructions": "Treat challenge_prompt as your own next task: re-check the statement against the code and facts before you answer. " +
			"Agreeing is fine only when the evidence supports it; say plainly what you got wrong or why you hold your position.",
	})
}

func challengePrompt(stmt string) string {
	return "RE-EXAMINE BEFORE YOU ANSWER — do not agree by reflex:\n\n\"" + stmt + "\"\n\n" +
		"1. Work out what the statement actually claims and what would make it true or false.\n" +
		"2. Check it against the code, the documentation and what you observed, not against what sounds agreeable.\n" +
		"3. If it is right, say what you missed and correct course. If it is wrong or only partly right, explain why, with evidence.\n" +
		"4. If you cannot tell, say what check would settle it and run that check if you can."
}

func handleAPILookup(_ context.Context, _ *pal.Call, raw json.RawMessage) (*pal.Result, error) {
	q, tooLong, err := promptArg(raw)
	if tooLong != nil {
		return tooLong, nil
	}
	if err != nil {
		return pal.JSONErrorResult(map[string]any{"status": "error", "error": err.Error(), "content": "Cannot build the lookup: " + err.Error()})
	}
	return pal.JSONResult(map[string]any{
		"status":       "web_lookup_needed",
		"instructions": lookupInstructions,
		"user_prompt":  q,
	})
}

const lookupInstructions = `Answer this from current sources, not from memory: your training data may predate the API's latest version.
1. If your client supports sub-tasks or agents, do the lookup in one so the search results do not fill this conversation.
2. First find the current stable version (release notes, changelog, package registry), then search its official documentation: 2 to 4 focused web searches.
3. Prefer official docs, release notes and migration guides over blog posts; note deprecations and breaking changes since the version you remember.
4. Report the version, the relevant API (names, signatures, a short example) and the source links, and say where sources disagree.
Do not call apilookup again for this question.`
