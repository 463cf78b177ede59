package main

import (
	"strings"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/workflow"
)

func init() {
	workflow.Register(&workflow.Tool{
		Name:        "thinkdeep",
		Title:       "Deep reasoning",
		Description: "Reason through a hard problem in steps you do yourself; another model then challenges your conclusion.",
		Omit:        []string{workflow.FieldFilesChecked, workflow.FieldRelevantContext, workflow.FieldIssuesFound},
		Fields: []workflow.Field{
			{Name: "problem_context", Schema: `{"type":"string"}`, Description: "Constraints, goals, what was tried."},
			{Name: "focus_areas", Schema: `{"type":"array","items":{"type":"string"}}`, Description: "Aspects to weigh, e.g. security."},
		},
		Names: workflow.Names{Summary: "complete_thinking"},
		Actions: func(r *workflow.Run) []string {
			return []string{
				"Test your current reasoning against the code or facts it depends on.",
				"Consider at least one alternative approach and why it is better or worse.",
				"Record what you established in findings and the files it rests on in relevant_files.",
			}
		},
		Expert: &workflow.Expert{
			SystemPrompt:     thinkdeepPrompt + expertRules,
			Instruction:      "Challenge and extend the agent's reasoning: confirm what holds, correct what does not, add what it missed, and end with a clear recommendation.",
			EmbedFiles:       true,
			Skip:             workflow.SkipAt(workflow.Certain),
			SkipStatus:       "deep_thinking_complete_ready_for_implementation",
			SkipExpertStatus: "skipped_due_to_certain_thinking_confidence",
			SkipNextSteps:    "Your analysis is final at confidence certain: present the conclusion and recommendation to the user, then act on it.",
			Context: func(r *workflow.Run) string {
				var x struct {
					ProblemContext string   `json:"problem_context"`
					FocusAreas     []string `json:"focus_areas"`
				}
				for _, s := range r.Steps {
					_ = s.DecodeExtra(&x)
				}
				return section("PROBLEM CONTEXT", x.ProblemContext) + section("FOCUS AREAS", strings.Join(x.FocusAreas, ", "))
			},
			NextSteps: "Combine the expert's view with yours; tell the user where you changed your mind and why, then give the recommendation.",
		},
	})
}

const thinkdeepPrompt = `You are a senior engineer asked to think alongside another AI agent that has been reasoning about a hard problem step by step. Your job is to make its conclusion better, not to restart the work.

Do this:
- Find the weakest link in the agent's reasoning and test it against the evidence.
- Name assumptions that are unstated or unverified, and what would verify them.
- Offer the alternative the agent did not consider if it is genuinely better, with the trade-off.
- Point out risks: correctness, security, performance, operability, cost of change.
- Finish with a recommendation the agent can act on, and how to check it worked.`
