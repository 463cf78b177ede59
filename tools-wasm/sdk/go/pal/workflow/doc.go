// Package workflow is the shared engine of pal's multi-step tools (codereview, debug,
// thinkdeep, planner, consensus, precommit …). A tool is its schema, its guidance and its
// prompts; the engine does everything else:
//
//   - the input schema: the common step fields (step, step_number, total_steps,
//     next_step_required, findings, files_checked, relevant_files, relevant_context,
//     issues_found, confidence, hypothesis, use_assistant_model, continuation_id, images,
//     model, temperature, thinking_mode) plus the tool's own Fields, minus its Omit list;
//   - decoding and checking the arguments (types, required fields, absolute paths, the
//     confidence enum, the host's prompt-size limit on `step`, which answers resend_prompt);
//   - state: every step is recorded as one turn of the conversation thread named by
//     continuation_id (host ops thread.*), and the run's earlier steps are rebuilt from that
//     thread on each call. Nothing is kept in process memory between calls, so two runs never
//     share state. A step 1 without continuation_id creates the thread; a step 1 with one
//     starts a new run in an existing conversation (from any tool), whose earlier turns become
//     the expert's conversation history;
//   - between steps (next_step_required true): the pause reply, with status Names.Pause,
//     required_actions from Tool.Actions and a next_steps text that tells the agent to do
//     that work before calling again with step_number+1 and the continuation_id;
//   - on the final step: Expert.Skip (e.g. confidence "certain") → the skip reply; else
//     use_assistant_model false, or no evidence when Expert.NeedsEvidence → local_work_complete;
//     else the expert call: one model.generate whose prompt holds the earlier conversation
//     (history built once, files of the history embedded once, no line numbers), the run's
//     steps, findings, hypotheses and issues, Expert.Context's sections, then the run's
//     relevant_files (line-numbered, within the model's file budget, leaving out those the
//     history already holds), and Expert.Instruction. The reply is parsed as JSON when it is
//     JSON, else kept as text, and recorded as an assistant turn. A tool without Expert is
//     self-contained: its last step answers Names.Complete and never calls a model;
//   - Tool.Custom replaces the pause/completion handling entirely (consensus does its own
//     model calls); it gets the same decoded, recorded run.
//
// Register a tool from an init function:
//
//	func init() {
//		workflow.Register(&workflow.Tool{
//			Name: "codereview", Title: "…", Description: "…",
//			Fields: []workflow.Field{{Name: "review_type", Schema: `{"type":"string","enum":["full","quick"]}`, Description: "…"}},
//			Names:  workflow.Names{Pause: "pause_for_code_review"},
//			Actions: func(r *workflow.Run) []string { … },
//			Expert: &workflow.Expert{SystemPrompt: "…", Instruction: "…", EmbedFiles: true, NeedsEvidence: true},
//		})
//	}
//
// Reply shape (one JSON text item; field names follow PAL's so that clients written for it
// work): status; step_number; total_steps; next_step_required; continuation_id; the progress
// object under Names.Progress; between steps Names.Required: true, required_actions,
// next_steps and file_context; on completion Names.Complete: true, the summary under
// Names.Summary and, when the expert ran, expert_analysis; metadata {tool_name, model_used,
// provider_used}; continuation_offer when the thread can take more turns. A refused request
// is isError {"status": "<tool>_failed", "error": …}.
package workflow
