package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/history"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/promptlimit"
)

// clink hands a prompt to another AI CLI agent (Gemini CLI, Codex CLI, Claude Code) that a
// trusted pal.toml lists in a [[cli]] table, through the host's cli.run: the host decides
// which program, arguments, directory, environment, deadline and output cap; the tool builds
// the prompt, reads the program's reply and keeps the conversation thread.

const clinkSchema = `{
  "type": "object",
  "properties": {
    "prompt": {
      "type": "string",
      "description": "The request, with the context the agent needs."
    },
    "cli_name": {
      "type": "string",
      "description": "A [[cli]] name; default gemini, else the first."
    },
    "role": {
      "type": "string",
      "enum": ["default", "planner", "codereviewer"],
      "description": "planner plans; codereviewer reviews code."
    },
    "absolute_file_paths": {
      "type": "array",
      "items": {"type": "string"},
      "description": "Files for the agent to read (named, not sent)."
    },
    "images": {
      "type": "array",
      "items": {"type": "string"},
      "description": "Image paths, named like files."
    },
    "args": {
      "type": "array",
      "items": {"type": "string"},
      "description": "Extra arguments, each in the CLI's allowed_args."
    },
    "continuation_id": {
      "type": "string",
      "description": "Any tool's continuation_id, to continue."
    }
  },
  "required": ["prompt"],
  "additionalProperties": false
}`

func init() {
	pal.Register(pal.Tool{
		Name:        "clink",
		Title:       "Ask an AI CLI agent",
		Description: "Send a prompt to an AI CLI agent (Gemini, Codex, Claude Code) listed in pal.toml [[cli]]; off unless configured.",
		InputSchema: json.RawMessage(clinkSchema),
		// The agent it runs acts with the user's rights (it may edit files), so no read-only hint.
		Annotations: pal.Annotations{ReadOnly: false, Destructive: true, Idempotent: false, OpenWorld: true},
		Capabilities: []string{pal.CapCLIRun, pal.CapFSRead, pal.CapThreadRead, pal.CapThreadWrite,
			pal.CapHostInfo},
		Category: "balanced",
		Handler:  handleClink,
	})
}

// clinkMaxChars is PAL's cap on the text clink returns; clinkExcerptChars is how much of
// a longer reply without a <SUMMARY> block is returned.
const (
	clinkMaxChars     = 20_000
	clinkExcerptChars = 4_000
)

// clinkRoles are the roles, in the order an error lists them; each is a short system prompt
// put first in the program's standard input.
var clinkRoles = map[string]string{
	"default": "You are an AI coding agent consulted by another agent through pal's clink tool. " +
		"Answer the request below; use your own tools to read the project and check facts rather than guess. " +
		"Be concrete (files, functions, lines) and brief. Change no files unless the request asks you to.",
	"planner": "You are a planning agent consulted by another agent through pal's clink tool. " +
		"Do not implement anything. Produce a plan: the goal, numbered steps each naming the files it touches, " +
		"the risks and open questions, and how to verify the result. Read the project with your own tools where the plan depends on it.",
	"codereviewer": "You are a code reviewer consulted by another agent through pal's clink tool. " +
		"Read the code in question with your own tools. Report bugs, security problems, and performance and maintainability issues, " +
		"most severe first, each with its severity (critical, high, medium, low), file and line, and a concrete fix. " +
		"Say briefly what is sound. Change no files.",
}

var clinkRoleNames = []string{"default", "planner", "codereviewer"}

// clinkClosing ends every role's prompt: the reply's gist in a block the tool can keep when
// the whole reply is too long.
const clinkClosing = "End your reply with <SUMMARY>...</SUMMARY>: at most 500 words the calling agent can act on."

// clinkArgs are clink's arguments.
type clinkArgs struct {
	Prompt         *string  `json:"prompt"`
	CLIName        string   `json:"cli_name"`
	Role           string   `json:"role"`
	Files          []string `json:"absolute_file_paths"`
	Images         []string `json:"images"`
	Args           []string `json:"args"`
	ContinuationID string   `json:"continuation_id"`
}

func clinkError(code, msg string, extra map[string]any) *pal.Result {
	return errorResult("clink", code, msg, extra)
}

func (a *clinkArgs) validate() error {
	if a.Prompt == nil {
		return errors.New("prompt is required")
	}
	if a.Role == "" {
		a.Role = "default"
	}
	if _, ok := clinkRoles[a.Role]; !ok {
		return fmt.Errorf("role %q is not one of %s", a.Role, strings.Join(clinkRoleNames, ", "))
	}
	for _, p := range append(slices.Clone(a.Files), a.Images...) {
		if strings.HasPrefix(p, "data:") {
			// The agent opens files itself; there is no way to hand it image bytes, and the
			// data is not echoed back.
			return errors.New("clink cannot pass an image data URL: the agent reads images from files. " +
				"Save the image to a file and pass its absolute path in images. Nothing was run.")
		}
		if !isAbsolute(p) {
			return errors.New(relativePathError(p))
		}
	}
	return nil
}

// handleClink runs one clink call. Every refusal is an isError reply sent before the
// program starts.
func handleClink(_ context.Context, _ *pal.Call, raw json.RawMessage) (*pal.Result, error) {
	var a clinkArgs
	if err := decodeArgs(raw, &a); err != nil {
		return clinkError(pal.FailInvalidArguments, err.Error(), nil), nil
	}
	if err := a.validate(); err != nil {
		return clinkError(pal.FailInvalidArguments, err.Error(), nil), nil
	}
	info := loadHostInfo()
	// The same rule as chat's: a prompt.txt in absolute_file_paths replaces the prompt.
	if r := chatPromptRule.Check(*a.Prompt, info.Limits.PromptChars); r != nil {
		return r, nil
	}
	cli, r := pickCLI(a.CLIName)
	if r != nil {
		return r, nil
	}
	th, r := loadThread("clink", a.ContinuationID, info.Limits.MaxTurns)
	if r != nil {
		return r, nil
	}
	files, promptFiles := promptlimit.Split(a.Files)
	prompt, err := promptlimit.Read(*a.Prompt, promptFiles)
	if fe := (*promptlimit.FileError)(nil); errors.As(err, &fe) {
		return clinkError(pal.FailureCode(fe.Err), fmt.Sprintf("Cannot use %s: %s. Nothing was run.", fe.Path, refusalReason(fe.Err)), nil), nil
	}
	if strings.TrimSpace(prompt) == "" {
		return clinkError(pal.FailInvalidArguments, "prompt is empty: say what the agent should do, or pass a prompt.txt file in absolute_file_paths", nil), nil
	}
	refs, r := fileReferences(append(slices.Clone(files), a.Images...))
	if r != nil {
		return r, nil
	}
	stdin := clinkPrompt(cli.Name, a.Role, prompt, refs, th)
	res, out, err := pal.RunCLI(cli.Name, a.Args, "", []byte(stdin))
	meta := map[string]any{"cli_name": cli.Name, "role": a.Role}
	if err != nil {
		return clinkError(pal.FailureCode(err), fmt.Sprintf("CLI '%s' did not run: %s", cli.Name, hostMessage(err)), meta), nil
	}
	meta["return_code"] = res.ExitCode
	meta["duration_seconds"] = float64(res.DurationMS) / 1000
	if res.Stderr != "" {
		meta["stderr"] = res.Stderr
	}
	if res.TimedOut {
		return clinkError(pal.FailToolError, fmt.Sprintf("CLI '%s' timed out after %.0f seconds and was stopped with everything it started.", cli.Name, float64(res.DurationMS)/1000), meta), nil
	}
	content, parser, model := parseCLIOutput(out)
	meta["parser"] = parser
	if model != "" {
		meta["model_used"] = model
	}
	if res.Truncated {
		meta["output_cut_at_cap"] = true
	}
	if res.ExitCode != 0 && (parser == "text" || strings.TrimSpace(content) == "") {
		return clinkError(pal.FailToolError, fmt.Sprintf("CLI '%s' exited with status %d.", cli.Name, res.ExitCode), meta), nil
	}
	if strings.TrimSpace(content) == "" {
		return clinkError(pal.FailToolError, fmt.Sprintf("CLI '%s' returned no reply.", cli.Name), meta), nil
	}
	content = limitCLIOutput(cli.Name, content, meta)

	user := pal.Turn{Role: "user", Content: prompt, Files: files, Images: a.Images, Tool: "clink"}
	assistant := pal.Turn{Role: "assistant", Content: content, Tool: "clink", Model: cmp.Or(model, cli.Name), Provider: cli.Name}
	initial := map[string]any{"prompt": prompt, "cli_name": cli.Name, "role": a.Role}
	if len(files) > 0 {
		initial["absolute_file_paths"] = files
	}
	id, app, recorded := recordExchange("clink", th, initial, user, assistant)
	meta["tool_name"] = "clink"
	meta["conversation_ready"] = recorded
	out2 := toolOutput{Status: "success", Content: content + agentTurnLine, Metadata: meta}
	offer(&out2, "clink", id, app, recorded, info)
	return result(out2, false), nil
}

// pickCLI chooses the program: the one named, else gemini when configured, else the first.
// With cli.run not granted or no [[cli]] table the call is refused, saying how to enable it.
func pickCLI(name string) (pal.CLIInfo, *pal.Result) {
	clis, err := pal.ListCLIs()
	if errors.Is(err, pal.ErrNotGranted) {
		return pal.CLIInfo{}, clinkError(pal.FailNotGranted, "clink is not enabled: this server's policy does not grant it cli.run "+
			"([tools.clink] capabilities in pal.toml). Nothing was run.", nil)
	}
	if err != nil {
		return pal.CLIInfo{}, clinkError(pal.FailureCode(err), "Cannot list the configured CLIs: "+hostMessage(err), nil)
	}
	if len(clis) == 0 {
		return pal.CLIInfo{}, clinkError(pal.FailDenied, "clink is not enabled: pal.toml lists no [[cli]] program (configured: none). "+
			"A trusted pal.toml must add a [[cli]] table for each CLI agent (docs/policy.md). Nothing was run.", nil)
	}
	names := make([]string, len(clis))
	for i, c := range clis {
		names[i] = c.Name
	}
	if name == "" {
		name = names[0]
		if slices.Contains(names, "gemini") {
			name = "gemini"
		}
	}
	i := slices.Index(names, name)
	if i < 0 {
		return pal.CLIInfo{}, clinkError(pal.FailNotFound, fmt.Sprintf("CLI '%s' is not configured; configured: %s.", name, strings.Join(names, ", ")),
			map[string]any{"available_clis": names})
	}
	return clis[i], nil
}

// fileReferences describes each path for the program (the agent reads files itself), after
// checking that the server's file policy allows it: a refused path fails the call.
func fileReferences(paths []string) ([]string, *pal.Result) {
	var refs []string
	for _, p := range paths {
		info, _, err := pal.ReadFile(p, 1)
		switch {
		case err == nil:
			refs = append(refs, fmt.Sprintf("- %s (last modified %s, %d bytes)", p, info.Modified.UTC().Format(time.RFC3339), info.Size))
		case pal.IsDirectory(err):
			refs = append(refs, "- "+p+" (directory)")
		default:
			return nil, clinkError(pal.FailureCode(err), fmt.Sprintf("Cannot use %s: %s. Nothing was run; remove or fix this path and try again.", p, refusalReason(err)), nil)
		}
	}
	return refs, nil
}

// clinkPrompt is the program's standard input: the role, how it is being used, the
// conversation so far on a continuation, the request and the files it names.
func clinkPrompt(cli, role, prompt string, refs []string, th *pal.Thread) string {
	sections := []string{clinkRoles[role] + "\n" + clinkClosing,
		fmt.Sprintf("You are running as the %s CLI, started by pal for another AI agent. Gather what you need with your own tools; "+
			"files are named below, not included.", cli)}
	if th != nil {
		src := &chatCall{cache: map[string]*fileData{}}
		h := history.Build(*th, th.MaxTurns, history.Allocate(defaultContextSize), src)
		sections = append(sections, strings.TrimSpace(h.Text))
	}
	sections = append(sections, "=== USER REQUEST ===\n"+prompt)
	if len(refs) > 0 {
		sections = append(sections, "=== FILE REFERENCES ===\n"+strings.Join(refs, "\n"))
	}
	sections = append(sections, "Provide your response below using your own CLI tools as needed:")
	return strings.Join(sections, "\n\n") + "\n"
}

// parseCLIOutput takes the reply out of what the program printed: Gemini CLI's JSON
// ("response"), Claude Code's JSON object or event list ("result"), Codex's JSON lines
// (agent_message items), else the text as it is. It names the format and, when the output
// says, the model.
func parseCLIOutput(out string) (content, parser, model string) {
	trimmed := strings.TrimSpace(out)
	var v any
	if json.Unmarshal([]byte(trimmed), &v) == nil {
		switch t := v.(type) {
		case map[string]any:
			if s, ok := t["response"].(string); ok {
				stats, _ := t["stats"].(map[string]any)
				models, _ := stats["models"].(map[string]any)
				keys := make([]string, 0, len(models))
				for k := range models {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				if len(keys) > 0 {
					model = keys[0]
				}
				return s, "gemini_json", model
			}
			if s, ok := t["result"].(string); ok {
				m, _ := t["model"].(string)
				return s, "claude_json", m
			}
		case []any:
			for i := len(t) - 1; i >= 0; i-- {
				if ev, _ := t[i].(map[string]any); ev["type"] == "result" {
					if s, ok := ev["result"].(string); ok {
						return s, "claude_json", ""
					}
				}
			}
		}
	}
	var msgs []string
	jsonl := trimmed != ""
	for _, line := range strings.Split(trimmed, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		var ev struct {
			Type string `json:"type"`
			Item struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"item"`
		}
		if json.Unmarshal([]byte(line), &ev) != nil {
			jsonl = false
			break
		}
		if ev.Type == "item.completed" && ev.Item.Type == "agent_message" && ev.Item.Text != "" {
			msgs = append(msgs, ev.Item.Text)
		}
	}
	if jsonl && len(msgs) > 0 {
		return strings.Join(msgs, "\n\n"), "codex_jsonl", ""
	}
	return trimmed, "text", ""
}

// limitCLIOutput applies PAL's 20,000-character cap: a longer reply is replaced by its
// <SUMMARY> block when it has one, else by a notice and its first 4,000 characters. meta
// records what was done.
func limitCLIOutput(cli, content string, meta map[string]any) string {
	n := utf8.RuneCountInString(content)
	if n <= clinkMaxChars {
		return content
	}
	meta["output_original_length"] = n
	meta["output_limit"] = clinkMaxChars
	if _, rest, ok := strings.Cut(content, "<SUMMARY>"); ok {
		if summary, _, ok := strings.Cut(rest, "</SUMMARY>"); ok && strings.TrimSpace(summary) != "" {
			summary = truncateRunes(strings.TrimSpace(summary), clinkMaxChars)
			meta["output_summarized"] = true
			meta["output_summary_length"] = utf8.RuneCountInString(summary)
			return summary
		}
	}
	meta["output_truncated"] = true
	meta["output_excerpt_length"] = clinkExcerptChars
	return fmt.Sprintf("CLI '%s' produced %d characters, more than clink returns (%d), and no <SUMMARY> block. "+
		"Ask it again for a shorter answer; the first %d characters follow.\n\n%s", cli, n, clinkMaxChars, clinkExcerptChars,
		truncateRunes(content, clinkExcerptChars))
}

// truncateRunes cuts s to at most n runes.
func truncateRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
