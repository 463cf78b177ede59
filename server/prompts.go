package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
)

// MCP prompts: one per published tool, under PAL's prompt names (thinkdeep is "thinkdeeper",
// codereview is "review"), plus "continue" when chat is published. A prompt is a short user
// message that asks the agent to use the tool; clients show prompts as slash commands.

// promptNames are the prompt names that differ from their tool's name.
var promptNames = map[string]string{"thinkdeep": "thinkdeeper", "codereview": "review"}

// promptTexts are the built-in tools' prompt texts. %s is the model clause (" with model X",
// or "" to let the server choose). A tool of another module gets a text made of its summary.
var promptTexts = map[string]string{
	"chat":       "Talk this through with another model%s using the chat tool: share the relevant files and weigh its answer against your own reading.",
	"clink":      "Hand this to another AI CLI agent with the clink tool, then weigh its answer against your own reading.",
	"thinkdeep":  "Think this problem through in steps with the thinkdeep tool, then have another model%s challenge and extend your conclusion.",
	"planner":    "Plan this task step by step with the planner tool: one step per call, revising or branching where the plan needs it.",
	"consensus":  "Put this proposal to several models with the consensus tool, each with a stance, and then synthesise their views.",
	"codereview": "Review this code in steps with the codereview tool, then have another model%s check your findings.",
	"precommit":  "Check the pending git changes in steps with the precommit tool before committing, then have another model%s check them.",
	"debug":      "Find the root cause of this problem in steps with the debug tool; another model%s checks the diagnosis unless you are certain.",
	"secaudit":   "Audit this code for security in steps with the secaudit tool, then have another model%s check the findings.",
	"docgen":     "Document this code file by file with the docgen tool: find the files first, then document one per step.",
	"analyze":    "Analyse this code in steps with the analyze tool (architecture, performance, quality), then have another model%s check your conclusions.",
	"refactor":   "Look for refactoring opportunities in steps with the refactor tool, then have another model%s check them.",
	"tracer":     "Trace this code with the tracer tool: ask which kind of trace is wanted (call flow or dependencies) if it is not clear.",
	"testgen":    "Plan tests for this code in steps with the testgen tool, then have another model%s design them.",
	"challenge":  "Use the challenge tool to re-examine the last claim critically against the evidence before answering.",
	"apilookup":  "Use the apilookup tool to find the current documentation of this API before relying on it.",
	"listmodels": "List the models this server can consult with the listmodels tool.",
	"version":    "Show the server's version and configuration with the version tool.",
}

// continueText is the "continue" prompt: carry on the last conversation with chat.
const continueText = "Continue the previous conversation with the chat tool: pass the continuation_id from the last reply, and use the same model as before%s."

// ErrPromptArgument refuses a prompt argument that is not acceptable.
var ErrPromptArgument = errors.New("invalid prompt argument")

// maxModelArg caps the model argument of a prompt, in runes.
const maxModelArg = 100

var promptArgs = []mcp.PromptOption{
	mcp.WithArgument("model", mcp.ArgumentDescription("Model the tool should consult; leave empty to let the server choose.")),
	mcp.WithArgument("thinking_mode", mcp.ArgumentDescription("minimal, low, medium, high or max.")),
}

// addPrompts registers the prompts of the published tools.
func (s *Server) addPrompts() {
	chat := false
	for _, t := range s.tools {
		name := t.spec.Name
		chat = chat || name == "chat"
		pname := name
		if alias, ok := promptNames[name]; ok {
			pname = alias
		}
		// A built-in text with a %s takes the model clause there; a module tool's text is its
		// own description, used as it is (it may hold a % of its own) and takes no arguments.
		text, builtin := promptTexts[name]
		formatted := builtin && strings.Contains(text, "%s")
		if !builtin {
			text = "Use the " + name + " tool: " + summary(t.spec.Description)
		}
		opts := []mcp.PromptOption{mcp.WithPromptDescription(summary(t.spec.Description))}
		if t.spec.Title != "" {
			title := t.spec.Title
			opts = append(opts, func(p *mcp.Prompt) { p.Title = title })
		}
		if formatted {
			opts = append(opts, promptArgs...)
		}
		s.mcp.AddPrompt(mcp.NewPrompt(pname, opts...), promptHandler(text, formatted))
	}
	if chat {
		s.mcp.AddPrompt(mcp.NewPrompt("continue", append([]mcp.PromptOption{
			mcp.WithPromptDescription("Continue the previous conversation with the chat tool.")}, promptArgs...)...),
			promptHandler(continueText, true))
	}
}

// promptHandler answers prompts/get with one user message: text, with the model clause put in
// its %s when formatted.
func promptHandler(text string, formatted bool) func(context.Context, mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
	return func(_ context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		clause, err := modelClause(req.Params.Arguments)
		if err != nil {
			return nil, err
		}
		msg := text
		if formatted {
			msg = fmt.Sprintf(text, clause)
		}
		return &mcp.GetPromptResult{
			Description: req.Params.Name,
			Messages:    []mcp.PromptMessage{{Role: mcp.RoleUser, Content: mcp.NewTextContent(msg)}},
		}, nil
	}
}

// modelClause is " (model X, thinking mode Y)"-style text for the prompt's arguments, or ""
// when neither is given. "auto" or an empty model lets the server choose.
func modelClause(args map[string]string) (string, error) {
	model := strings.TrimSpace(args["model"])
	if strings.EqualFold(model, "auto") {
		model = ""
	}
	if utf8.RuneCountInString(model) > maxModelArg || strings.ContainsFunc(model, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return "", fmt.Errorf("%w: model must be a model name of at most %d characters", ErrPromptArgument, maxModelArg)
	}
	thinking := strings.TrimSpace(args["thinking_mode"])
	switch thinking {
	case "", "minimal", "low", "medium", "high", "max":
	default:
		return "", fmt.Errorf("%w: thinking_mode must be minimal, low, medium, high or max", ErrPromptArgument)
	}
	var parts []string
	if model != "" {
		parts = append(parts, "model "+model)
	}
	if thinking != "" {
		parts = append(parts, "thinking_mode "+thinking)
	}
	if len(parts) == 0 {
		return "", nil
	}
	return " (" + strings.Join(parts, ", ") + ")", nil
}
