package workflow

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/embed"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/history"
)

// Model resolves the model for a model call of the run: name when given; else, on a
// continued conversation, the model that answered last; else the server's default. An
// implicit choice that is no longer available falls back to the default. It returns the
// resolved model and the name to send to model.generate.
func (r *Run) Model(name string) (pal.ModelInfo, string, error) {
	fallback := r.Info.DefaultModel
	if fallback == "" {
		fallback = "auto"
	}
	implicit := name == ""
	for i := len(r.Thread.Turns) - 1; i >= 0 && name == ""; i-- {
		if t := r.Thread.Turns[i]; t.Role == "assistant" {
			name = t.Model
		}
	}
	if name == "" {
		name = fallback
	}
	m, err := pal.ResolveModel(name, r.Tool.Category)
	if err != nil && implicit && name != fallback {
		name = fallback
		m, err = pal.ResolveModel(name, r.Tool.Category)
	}
	if err != nil {
		return m, name, fmt.Errorf("model '%s' cannot be used: %s", name, hostMessage(err))
	}
	return m, name, nil
}

// Prompt is a model prompt assembled for a run.
type Prompt struct {
	Text string
	// Buffer holds Text with room for the request header: pass it as
	// pal.GenerateRequest.PromptBuffer to send Text without a copy.
	Buffer   *pal.PromptBuffer
	Embedded []string // files whose contents the prompt holds, history files first
	Left     []string // relevant files not embedded, with the reason
}

// BuildPrompt assembles a model prompt for model m: the earlier conversation (history, once,
// with its files once), then body, then the files (line-numbered, within the file budget,
// leaving out those the history holds) when embed is true, else their paths, then closing.
func (r *Run) BuildPrompt(m pal.ModelInfo, body string, files []string, embedFiles bool, closing string) Prompt {
	w := m.ContextWindow
	if w <= 0 {
		w = defaultContext
	}
	alloc := history.Allocate(w)
	var p Prompt
	var parts []string
	filesAt, blocks := -1, []embed.File(nil) // the files section: its place in parts, its files
	inHistory := map[string]bool{}
	budget := max(alloc.Files-1000, 1000)
	if prior := r.PriorTurns(); len(prior) > 0 {
		th := r.Thread
		th.Turns = prior
		src := &fileSource{cache: map[string]*file{}}
		h := history.Build(th, r.Thread.MaxTurns, alloc, src)
		parts = append(parts, h.Text)
		for _, f := range h.Files {
			inHistory[f] = true
		}
		p.Embedded = append(p.Embedded, h.Files...)
		budget = max(min(alloc.Files, alloc.Content-h.Tokens)-1000, 1000)
	}
	parts = append(parts, body)
	if len(files) > 0 {
		var again []string
		var todo []string
		for _, f := range files {
			if inHistory[f] {
				again = append(again, f)
			} else {
				todo = append(todo, f)
			}
		}
		if embedFiles {
			read, embedded, left := readBlocks(todo, budget, r.Info.Limits.MaxFileBytes)
			if len(read) > 0 {
				filesAt, blocks = len(parts), read
				parts = append(parts, "") // written by joinPrompt
			}
			p.Embedded = append(p.Embedded, embedded...)
			p.Left = left
			if len(left) > 0 {
				parts = append(parts, "--- FILES NOT INCLUDED ---\n  - "+strings.Join(left, "\n  - ")+"\n--- END ---")
			}
		} else if len(todo) > 0 {
			parts = append(parts, "=== FILES THE AGENT FOUND RELEVANT (not included) ===\n"+strings.Join(todo, "\n"))
		}
		if note := embed.InHistoryNote(again); note != "" {
			parts = append(parts, note)
		}
	}
	if closing != "" {
		parts = append(parts, closing)
	}
	p.Buffer = joinPrompt(parts, filesAt, blocks)
	p.Text = p.Buffer.String()
	return p
}

// joinPrompt is strings.Join(parts, "\n\n") with parts[at] (when at >= 0) replaced by the
// files section: "=== FILES ===\n", the files' blocks joined with "\n", "\n=== END FILES ===".
// The prompt is written once, at its exact size, into the buffer Generate sends: with
// megabytes of files, each join, concatenation and copy into the request was an
// allocation more for the guest's collector and its memory (docs/RATIONALE.md §58, §63).
func joinPrompt(parts []string, at int, files []embed.File) *pal.PromptBuffer {
	const open, end = "=== FILES ===\n", "\n=== END FILES ==="
	n := 2 * max(len(parts)-1, 0)
	for _, s := range parts {
		n += len(s)
	}
	if at >= 0 {
		n += len(open) + joinedLen(files) + len(end)
	}
	b := pal.NewPromptBuffer(n)
	for i, s := range parts {
		if i > 0 {
			b.WriteString("\n\n")
		}
		if i != at {
			b.WriteString(s)
			continue
		}
		b.WriteString(open)
		b.AppendWith(func(p []byte) []byte { return appendJoined(p, files) })
		b.WriteString(end)
	}
	return b
}

// callExpert runs the expert call of the final step and fills the reply; it reports
// whether the reply is an error.
func (t *Tool) callExpert(r *Run, reply map[string]any) bool {
	e := t.Expert
	s := r.Current()
	m, name, err := r.Model(s.Model)
	if err != nil {
		reply["status"] = "error"
		reply["content"] = err.Error()
		reply["content_type"] = "text"
		return true
	}
	body := r.WorkSummary()
	if e.Context != nil {
		if c := strings.TrimSpace(e.Context(r)); c != "" {
			body += "\n" + c + "\n"
		}
	}
	prompt := r.BuildPrompt(m, body, r.RelevantFiles(), e.EmbedFiles, "=== YOUR TASK ===\n"+e.Instruction)
	images := r.Images()
	if len(images) > 0 && !m.SupportsImages {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d image(s) not sent: model %s does not accept images.", len(images), m.Model))
		images = nil
	}
	temp := 1.0 // workflow schemas leave temperature out (tools/list budget); the host adjusts it per model
	thinking := ""
	if m.SupportsThinking {
		thinking = s.ThinkingMode
		if thinking == "" {
			thinking = e.ThinkingMode
		}
		if thinking == "" {
			thinking = "high"
		}
	}
	progress(1, 2, "asking "+m.Model+" for expert analysis")
	resp, err := pal.Generate(pal.GenerateRequest{Model: name, Category: t.Category, System: WithLocale(r.Info.Limits.Locale, e.SystemPrompt),
		Prompt: prompt.Text, PromptBuffer: prompt.Buffer, Temperature: &temp, ThinkingMode: thinking, Images: images})
	progress(2, 2, "expert analysis done")
	meta := reply["metadata"].(map[string]any)
	meta["model_used"], meta["provider_used"] = m.Model, m.Provider
	if err == nil && strings.TrimSpace(resp.Content) == "" {
		err = fmt.Errorf("the model returned an empty reply (finish reason: %s)", resp.FinishReason)
	}
	if err != nil {
		reply["status"] = "error"
		reply["content"] = fmt.Sprintf("The expert analysis failed: %s. Your steps are recorded: call this final step again (same continuation_id) to retry, or set use_assistant_model to false.", hostMessage(err))
		reply["content_type"] = "text"
		return false
	}
	if resp.Model != "" {
		meta["model_used"] = resp.Model
	}
	if resp.Provider != "" {
		meta["provider_used"] = resp.Provider
	}
	if _, err := r.Record(pal.Turn{Role: "assistant", Content: resp.Content, Tool: t.Name, Model: resp.Model, Provider: resp.Provider}); err != nil {
		pal.Logf(pal.LevelWarn, "%s: expert reply not recorded: %v", t.Name, err)
		r.Remaining = 0
	}
	analysis := ParseAnalysis(resp.Content)
	switch st, _ := analysis["status"].(string); st {
	case "files_required_to_continue", "investigation_paused", "refactoring_paused":
		reply["status"] = st
		reply["content"] = resp.Content
		reply["content_type"] = "text"
		next, _ := analysis["next_steps"].(string)
		if next == "" {
			next = "The expert needs more before it can conclude: provide what it asks for, then call this final step again with the same continuation_id."
		}
		reply["next_steps"] = next
		delete(reply, t.names().Complete)
	default:
		reply["status"] = "calling_expert_analysis"
		reply["expert_analysis"] = analysis
		next := e.NextSteps
		if next == "" {
			next = "Weigh the expert's analysis against your own evidence, then present the combined result to the user."
		}
		reply["next_steps"] = strings.ToUpper(t.Name) + " IS COMPLETE. " + next
		reply["important_considerations"] = "The expert saw only what this run recorded. Verify each of its claims against the code before acting on it; drop what does not hold."
	}
	if len(prompt.Left) > 0 {
		reply["files_not_included"] = prompt.Left
	}
	t.offer(r, reply)
	return false
}

// ParseAnalysis reads a model reply: JSON (bare or in the first fenced block) as an
// object, otherwise the text under raw_analysis with status analysis_complete.
func ParseAnalysis(text string) map[string]any {
	text = strings.TrimSpace(text)
	candidates := []string{text}
	if i := strings.Index(text, "```"); i >= 0 {
		rest := text[i+3:]
		if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
			rest = rest[nl+1:]
		}
		if j := strings.Index(rest, "```"); j >= 0 {
			candidates = append(candidates, strings.TrimSpace(rest[:j]))
		}
	}
	for _, c := range candidates {
		var obj map[string]any
		if strings.HasPrefix(c, "{") && json.Unmarshal([]byte(c), &obj) == nil {
			return obj
		}
	}
	return map[string]any{"status": "analysis_complete", "raw_analysis": text, "format": "text"}
}

// WithLocale prefixes a system prompt with the locale line when a locale is set.
func WithLocale(locale, system string) string {
	if locale = strings.TrimSpace(locale); locale != "" {
		return fmt.Sprintf("LOCALE: write every reply in the language and conventions of locale %q.\n\n%s", locale, system)
	}
	return system
}

// progress reports a stage; a host that does not take progress is not an error.
func progress(stage, total float64, msg string) {
	if err := pal.Progress(stage, total, msg); err != nil {
		pal.Logf(pal.LevelDebug, "workflow: progress not sent: %v", err)
	}
}

// Progress reports a stage of a custom flow (see progress).
func Progress(stage, total float64, msg string) { progress(stage, total, msg) }
