package main

import (
	"fmt"
	"strings"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/embed"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/history"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/promptlimit"
)

// buildPrompt assembles what the model reads: the conversation history (once, on a
// continuation), the request, the new files within their budget with line numbers, and
// notes on files left out. It returns the prompt and the files of this call's own
// arguments that the model sees, for the user turn.
func (c *chatCall) buildPrompt(prompt string, alloc history.Allocation) (string, []string) {
	var sections []string
	budget := max(alloc.Files-1000, 1000)
	inThread := map[string]bool{}
	turns, maxTurns := 0, c.info.Limits.MaxTurns
	if c.thread != nil {
		turns, maxTurns = len(c.thread.Turns), c.thread.MaxTurns
		h := history.Build(*c.thread, maxTurns, alloc, c)
		sections = append(sections, h.Text)
		budget = max(max(alloc.Content-h.Tokens, 0)-1000, 1000)
		for _, f := range history.ThreadFiles(*c.thread) {
			inThread[f] = true
		}
	}

	var blocks, again, over, seen []string
	used := 0
	for _, f := range c.files {
		if inThread[f.path] {
			again = append(again, f.path)
			if f.explicit {
				seen = append(seen, f.path)
			}
			continue
		}
		block := embed.Block(f.path, f.info.Modified, embed.LineNumbered(f.text))
		if used+embed.Tokens(block) > budget {
			over = append(over, f.path)
			continue
		}
		used += embed.Tokens(block)
		blocks = append(blocks, block)
		if f.explicit {
			seen = append(seen, f.path)
		}
	}
	over = append(over, c.skipped...)

	var b strings.Builder
	b.WriteString("=== USER REQUEST ===\n" + prompt + "\n")
	if len(blocks) > 0 {
		b.WriteString("\n=== CONTEXT FILES ===\n" + strings.Join(blocks, "\n\n") + "\n=== END CONTEXT FILES ===\n")
	}
	var notes []string
	if len(c.files) == 0 && len(over) == 0 && len(c.tooLarge) == 0 && len(c.requested) > 0 {
		notes = append(notes, embed.NoFilesNote(c.requested))
	}
	notes = append(notes, embed.InHistoryNote(again), embed.SkippedNote(over), listNote(
		"--- SKIPPED FILES (OVER THE PER-FILE LIMIT) ---", c.tooLarge))
	if len(c.listCut) > 0 {
		notes = append(notes, listNote("--- NOTE: only part of these directories was listed (entry or depth cap) ---", c.listCut))
	}
	for _, n := range notes {
		if n != "" {
			b.WriteString("\n" + n + "\n")
		}
	}
	b.WriteString("\n=== END REQUEST ===\n\n" + chatClosing + "\n\n" + followUpInstructions(maxTurns-turns-2))
	sections = append(sections, b.String())
	return strings.Join(sections, "\n\n"), seen
}

// listNote is a titled list of paths, or "" for none.
func listNote(title string, paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	return title + "\n  - " + strings.Join(paths, "\n  - ") + "\n--- END ---"
}

// generate calls the model, retrying once when it returns an empty reply after finishing
// normally. A failure is the isError reply to send.
func (c *chatCall) generate(prompt string) (pal.GenerateResponse, *pal.Result) {
	temp := defaultTemperature
	if c.args.Temperature != nil {
		temp = *c.args.Temperature
	}
	thinking := ""
	if c.model.SupportsThinking {
		thinking = c.args.ThinkingMode
		if thinking == "" {
			thinking = defaultThinkingMode
		}
	}
	req := pal.GenerateRequest{Model: c.modelArg, Category: chatCategory, System: chatSystemPrompt(c.info.Limits.Locale),
		Prompt: prompt, Temperature: &temp, ThinkingMode: thinking, Images: c.args.Images}
	resp, err := pal.Generate(req)
	if err == nil && strings.TrimSpace(resp.Content) == "" && finishedNormally(resp.FinishReason) {
		req.Prompt += emptyReplyRetry
		resp, err = pal.Generate(req)
	}
	meta := map[string]any{"model_used": c.model.Model, "provider_used": c.model.Provider}
	if err != nil {
		return resp, errorResult("chat", pal.FailureCode(err), fmt.Sprintf("The call to model '%s' failed: %s", c.model.Model, hostMessage(err)), meta)
	}
	if strings.TrimSpace(resp.Content) == "" {
		if blockedBySafety(resp.FinishReason) {
			return resp, errorResult("chat", pal.FailProviderError, fmt.Sprintf("The provider blocked the reply under its content safety policy (finish reason: %s). Rephrase the request or choose another model.", resp.FinishReason), meta)
		}
		return resp, errorResult("chat", pal.FailProviderError, fmt.Sprintf("The model returned no usable reply (finish reason: %s). Try again or choose another model.", resp.FinishReason), meta)
	}
	if resp.Model == "" {
		resp.Model = c.model.Model
	}
	if resp.Provider == "" {
		resp.Provider = c.model.Provider
	}
	return resp, nil
}

func finishedNormally(reason string) bool {
	switch strings.ToLower(reason) {
	case "", "stop", "end_turn", "stop_sequence":
		return true
	}
	return false
}

func blockedBySafety(reason string) bool {
	r := strings.ToLower(reason)
	for _, w := range []string{"safety", "content_filter", "blocked", "prohibited", "recitation", "spii"} {
		if strings.Contains(r, w) {
			return true
		}
	}
	return false
}

// record stores the exchange in the conversation thread (a new one unless the call
// continues one) and builds the reply. A thread that cannot be written leaves the answer
// intact, without a continuation offer.
func (c *chatCall) record(prompt string, files []string, reply pal.GenerateResponse) *pal.Result {
	user := pal.Turn{Role: "user", Content: prompt, Files: files, Images: c.args.Images, Tool: "chat"}
	assistant := pal.Turn{Role: "assistant", Content: reply.Content, Tool: "chat", Model: reply.Model, Provider: reply.Provider}
	id, app, recorded := recordExchange("chat", c.thread, c.initialContext(prompt), user, assistant)
	out := toolOutput{Status: "success", Content: reply.Content + agentTurnLine,
		Metadata: map[string]any{"tool_name": "chat", "model_used": reply.Model, "provider_used": reply.Provider, "conversation_ready": recorded}}
	offer(&out, "chat", id, app, recorded, c.info)
	return result(out, false)
}

// recordExchange appends the user and assistant turns to th, or to a new thread of tool
// started with initial when th is nil. It returns the thread's id and the append's result;
// recorded is false (and the failure logged) when the turns could not be stored.
func recordExchange(tool string, th *pal.Thread, initial map[string]any, user, assistant pal.Turn) (id string, app pal.AppendResult, recorded bool) {
	if th != nil {
		id = th.ID
	} else if newID, err := pal.ThreadCreate(tool, initial); err != nil {
		pal.Logf(pal.LevelWarn, "%s: conversation not recorded: %v", tool, err)
		return "", app, false
	} else {
		id = newID
	}
	app, err := pal.ThreadAppend(id, user, assistant)
	if err != nil {
		pal.Logf(pal.LevelWarn, "%s: conversation turns not recorded: %v", tool, err)
		return id, app, false
	}
	return id, app, true
}

// offer sets out's continuation offer (pal.Offer): status continuation_available and the
// thread's id when the exchange was recorded and the thread takes at least one more exchange,
// else continuation_offer null.
func offer(out *toolOutput, tool, id string, app pal.AppendResult, recorded bool, info pal.ServerInfo) {
	out.ContinuationOffer = noOffer
	if o := pal.Offer(tool, id, app.Remaining, info); recorded && o != nil {
		out.Status = "continuation_available"
		out.ContinuationOffer = o
	}
}

// initialContext is what a new thread keeps of the request that started it: everything
// but the model settings.
func (c *chatCall) initialContext(prompt string) map[string]any {
	ctx := map[string]any{"prompt": prompt}
	if c.args.Files != nil {
		if files, _ := promptlimit.Split(*c.args.Files); len(files) > 0 {
			ctx["absolute_file_paths"] = files
		}
	}
	if len(c.args.Images) > 0 {
		ctx["images"] = c.args.Images
	}
	return ctx
}
