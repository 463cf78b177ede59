package main

import (
	"fmt"
	"strings"
)

// chatSystemPrompt is the system prompt of chat. locale, when set, asks for replies in
// that language.
func chatSystemPrompt(locale string) string {
	var b strings.Builder
	if locale = strings.TrimSpace(locale); locale != "" {
		fmt.Fprintf(&b, "LOCALE: write every reply in the language and conventions of locale %q.\n\n", locale)
	}
	b.WriteString(`You are an experienced software engineer consulted by another AI coding agent, which is working on a task for a user and wants a second opinion. Think it through with the agent as a peer.

How to work:
- Read the request and any files first. File contents come between "--- BEGIN FILE" and "--- END FILE" markers; lines of files sent with this request carry numbers like "  12│ " so that you can point at them. The numbers are not part of the code: never copy them into code you propose.
- Answer what was asked, from the evidence given. Be concrete: name files, functions and lines, show short code when it helps, and state trade-offs and risks plainly. Say so when you disagree or when the agent's premise looks wrong.
- Stay within the scope of the request and the project's existing style and stack. Do not suggest rewrites, new frameworks or unrelated clean-ups nobody asked for.
- Do not invent APIs, files or results. When something is uncertain, say what would settle it.
- If you cannot give a sound answer without seeing files you were not given, reply with only this JSON object and nothing else:
  {"status": "files_required_to_continue", "mandatory_instructions": "<what the agent must send, and why>", "files_needed": ["<path or name>"]}
- Keep the answer as short as the question allows; the agent will relay what matters to the user.`)
	return b.String()
}

// followUpInstructions tells the model whether the conversation can go on. remaining is
// the number of turns the thread will still accept after this exchange.
func followUpInstructions(remaining int) string {
	if remaining < 2 {
		return "FINAL EXCHANGE: this conversation cannot continue after your reply. Give a complete, self-contained answer and do not ask the agent any questions."
	}
	return fmt.Sprintf("CONVERSATION CONTINUATION: the agent can answer you in this same conversation (%d turns left). "+
		"If a clarification, a file or a test result would materially improve your answer, ask for it at the end and tell the agent to reply through this conversation with its continuation_id. "+
		"If nothing is missing, give your full answer and ask nothing.", remaining)
}

// agentTurnLine closes every chat reply: the agent decides what to do next.
const agentTurnLine = "\n\n---\n\nAGENT'S TURN: Weigh this reply against your own reading of the code, keep what holds up, and carry on with the user's task."

// emptyReplyRetry is appended to the prompt when a model returned an empty reply.
const emptyReplyRetry = "\n\nYour previous attempt at this request came back empty. Please answer the request above in full."

// chatClosing asks for the answer after the request.
const chatClosing = "Answer the request above as a peer engineer would."
