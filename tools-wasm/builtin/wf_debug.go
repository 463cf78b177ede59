package main

import (
	"strings"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/workflow"
)

func init() {
	workflow.Register(&workflow.Tool{
		Name:        "debug",
		Title:       "Root-cause investigation",
		Description: "Find a bug's root cause in steps you do yourself; another model checks the diagnosis unless you are certain.",
		Omit:        []string{workflow.FieldIssuesFound, workflow.FieldThinkingMode},
		Describe: map[string]string{
			workflow.FieldStep:       "Step 1: the symptom and repro. Later: what you check now.",
			workflow.FieldHypothesis: "Current root-cause theory.",
			workflow.FieldConfidence: "certain skips the expert.",
		},
		Names: workflow.Names{Pause: "pause_for_investigation", Progress: "investigation_status", Required: "investigation_required",
			Complete: "investigation_complete", Summary: "complete_investigation"},
		Actions: debugActions,
		Expert: &workflow.Expert{
			SystemPrompt:     debugPrompt + expertRules,
			Instruction:      "Judge the diagnosis. Reply with JSON: {\"status\": \"analysis_complete\" | \"no_bug_found\", \"root_cause\": …, \"evidence\": […], \"fix\": …, \"regression_check\": …, \"confidence\": …}, or the files_required_to_continue JSON.",
			EmbedFiles:       true,
			NeedsEvidence:    true,
			Skip:             workflow.SkipAt(workflow.Certain),
			SkipStatus:       "certain_confidence_proceed_with_fix",
			SkipExpertStatus: "skipped_due_to_certain_confidence",
			SkipNextSteps:    "You are certain of the root cause: make the smallest fix that removes it, add a test that failed before the fix, and show the user both.",
			Context: func(r *workflow.Run) string {
				var errs []string
				for _, f := range r.Findings() {
					l := strings.ToLower(f)
					for _, w := range []string{"error", "exception", "panic", "traceback", "stack trace", "fail"} {
						if strings.Contains(l, w) {
							errs = append(errs, f)
							break
						}
					}
				}
				note := ""
				if r.Confidence() == workflow.AlmostCertain {
					note = section("NOTE", "The agent is almost certain. Confirm or refute its hypothesis first; look further only if it fails.")
				}
				return section("ERROR EVIDENCE", strings.Join(errs, "\n")) + note
			},
			NextSteps: "If the expert confirms the root cause, fix it minimally and add a regression test; if it disagrees, check its evidence in the code before choosing.",
		},
		Finish: func(r *workflow.Run, reply map[string]any) {
			reply["investigation_status"].(map[string]any)["hypotheses_formed"] = len(r.Hypotheses())
		},
	})
}

func debugActions(r *workflow.Run) []string {
	s := r.Current()
	if s.StepNumber == 1 {
		return []string{
			"Reproduce the symptom or find the exact error, log line or failing test.",
			"Read the code on the failing path, from entry point to where it goes wrong.",
			"Keep open the possibility that there is no bug (misuse, configuration, expected behaviour).",
		}
	}
	switch s.Confidence {
	case workflow.Exploring, workflow.Low:
		return []string{"Stop guessing: collect evidence (logs, inputs, state) on the failing path.", "Trace data and control flow backwards from the failure.", "Write down each hypothesis with what would prove it wrong."}
	case workflow.AlmostCertain:
		return []string{"Make one decisive check of the hypothesis (a test, a log, a minimal reproduction).", "List in relevant_files every file the fix will touch."}
	}
	return []string{"Check the hypothesis against code you have not read yet: callers, concurrency, error paths.", "Rule out the strongest alternative explanation.", "Update hypothesis and confidence from the evidence, not from hope."}
}

const debugPrompt = `You are an experienced debugger reviewing an investigation another AI agent carried out step by step. You see its evidence, its hypotheses and the code.

Your job:
- Decide whether the evidence supports the agent's hypothesis. Name the evidence that contradicts it, if any.
- Identify the root cause, not a symptom: the first place the program's state goes wrong, and why.
- Propose the smallest fix that removes the cause, and a test that would have caught it.
- Consider that there may be no bug: a misuse, a configuration problem or expected behaviour. Say so when the evidence points there (status "no_bug_found").`
