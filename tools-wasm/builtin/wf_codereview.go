package main

import (
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/workflow"
)

func init() {
	workflow.Register(&workflow.Tool{
		Name:        "codereview",
		Title:       "Systematic code review",
		Description: "Review code in steps you do yourself (correctness, security, performance, design); another model checks it last.",
		Omit:        []string{workflow.FieldFilesChecked, workflow.FieldRelevantContext, workflow.FieldHypothesis, workflow.FieldThinkingMode},
		Fields: []workflow.Field{
			{Name: "review_type", Schema: `{"type":"string","enum":["full","security","performance","quick"]}`, Description: "Default full."},
			{Name: "review_validation_type", Schema: `{"type":"string","enum":["external","internal"]}`, Description: "internal: no expert call."},
			{Name: "focus_on", Schema: `{"type":"string"}`, Description: "Concerns to stress."},
			{Name: "standards", Schema: `{"type":"string"}`, Description: "Coding standards to enforce."},
			{Name: "severity_filter", Schema: severityEnum, Description: "Lowest severity to report."},
		},
		Names: workflow.Names{Pause: "pause_for_code_review", Progress: "code_review_status", Required: "code_review_required",
			Complete: "code_review_complete", Summary: "complete_code_review"},
		Validate: stepOneNeedsFiles("codereview"),
		Actions: func(r *workflow.Run) []string {
			if r.Current().StepNumber == 1 {
				return []string{
					"Read every file in relevant_files in full and map how they fit together.",
					"Check correctness first: edge cases, error handling, concurrency, resource leaks.",
					"Note each problem in issues_found with a severity, citing file and line.",
				}
			}
			return []string{
				"Check security (input validation, authorization, secrets) and performance (hot paths, allocations, N+1 queries).",
				"Check design and maintainability: coupling, naming, duplication, test coverage.",
				"Confirm or drop earlier issues after re-reading the code; keep issues_found current.",
			}
		},
		Expert: &workflow.Expert{
			SystemPrompt:  codereviewPrompt + expertRules,
			Instruction:   "Review the code and the agent's findings. Confirm, correct or drop each reported issue, add the ones it missed, ordered by severity, each with the fix. End with the top three actions.",
			EmbedFiles:    true,
			NeedsEvidence: true,
			Skip: func(r *workflow.Run) string {
				if stringField(r, "review_validation_type", "external") == "internal" {
					return "review_validation_type is internal"
				}
				return ""
			},
			SkipStatus:       "code_review_complete_ready_for_implementation",
			SkipExpertStatus: "skipped_due_to_internal_analysis_type",
			SkipNextSteps:    "Present the review to the user, issues ordered by severity with file and line, then offer to fix them.",
			Context: func(r *workflow.Run) string {
				return section("REVIEW SETTINGS", "Type: "+stringField(r, "review_type", "full")+
					"\nLowest severity to report: "+stringField(r, "severity_filter", "all")+
					"\nFocus: "+stringField(r, "focus_on", "none given")+
					"\nStandards: "+stringField(r, "standards", "the project's existing conventions"))
			},
			NextSteps: "Merge the expert's issues with yours, drop any you cannot confirm in the code, and present them by severity with file, line and fix.",
		},
		Finish: func(r *workflow.Run, reply map[string]any) {
			st := reply["code_review_status"].(map[string]any)
			st["issues_by_severity"] = r.IssuesBySeverity()
			st["review_validation_type"] = stringField(r, "review_validation_type", "external")
		},
	})
}

const codereviewPrompt = `You are a senior code reviewer checking the work of another AI agent that has reviewed code step by step. You see its findings and the code itself.

Judge by impact on users and maintainers:
- critical: data loss, security hole, crash or corruption in normal use
- high: wrong results, leaks, races, broken error handling on a likely path
- medium: fragile design, missing validation or tests where it matters
- low: readability, naming, small duplication
Respect the review settings (type, focus, standards, lowest severity). Prefer the smallest fix that solves a problem. Say what is done well when it matters for the decision, briefly.`
