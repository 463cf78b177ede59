package main

import (
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/workflow"
)

func init() {
	workflow.Register(&workflow.Tool{
		Name:        "testgen",
		Title:       "Test generation",
		Description: "Plan tests in steps you do yourself (paths, edge cases, failures); another model designs them.",
		Omit:        []string{workflow.FieldFilesChecked, workflow.FieldRelevantContext, workflow.FieldHypothesis, workflow.FieldThinkingMode},
		Describe: map[string]string{
			workflow.FieldStep:        "Step 1: the code to test. Later: what you examine now.",
			workflow.FieldIssuesFound: "Scenarios: [{severity: critical|high|medium|low, description}]",
			workflow.FieldConfidence:  "certain skips the expert.",
		},
		Names: workflow.Names{Pause: "pause_for_test_analysis", Progress: "test_generation_status",
			Complete: "test_generation_complete", Summary: "complete_test_generation"},
		Validate: stepOneNeedsFiles("testgen"),
		Actions: func(r *workflow.Run) []string {
			if r.Current().StepNumber == 1 {
				return []string{
					"Read the code under test and its existing tests: framework, helpers, naming and layout.",
					"List the public behaviour to cover: inputs, outputs, side effects, errors.",
					"Record each scenario in issues_found with a priority.",
				}
			}
			return []string{
				"Find the edge cases: empty, zero, maximum, invalid and concurrent inputs; boundaries of loops and sizes.",
				"Find the failure modes: errors from dependencies, timeouts, partial writes, cancellation.",
				"Keep issues_found current; note which scenarios need fakes or fixtures.",
			}
		},
		Expert: &workflow.Expert{
			SystemPrompt:     testgenPrompt + expertRules,
			Instruction:      "Design the tests: check the agent's scenarios, add the ones it missed, then write the test code in the project's framework and style, most important first. Say which tests need fixtures or fakes and why.",
			EmbedFiles:       true,
			NeedsEvidence:    true,
			Skip:             workflow.SkipAt(workflow.Certain),
			SkipStatus:       "test_generation_complete_ready_for_implementation",
			SkipExpertStatus: "skipped_due_to_certain_test_confidence",
			SkipNextSteps:    "Your test plan is final at confidence certain: write the tests in the project's framework and style, run them, and show the user what they cover.",
			NextSteps:        "Write the tests from the combined plan in the project's framework and style, run them, and fix any that fail for a reason other than a real bug (report those).",
		},
		Finish: func(r *workflow.Run, reply map[string]any) {
			st := reply["test_generation_status"].(map[string]any)
			st["test_scenarios_identified"] = len(r.Issues())
			st["analysis_confidence"] = r.Confidence()
		},
	})
}

const testgenPrompt = `You are a senior test engineer designing tests from an analysis that another AI agent made step by step. You see its findings and the code under test.

Aim for tests that would catch real defects:
- the main behaviour, then boundaries, invalid input, error paths and resource limits
- concurrency, ordering and time where the code depends on them
- one behaviour per test, named for what it checks, independent of the others and of test order
Use the project's test framework, helpers and style; do not add a new framework. Prefer real collaborators to mocks where they are cheap and deterministic. A test must be able to fail: assert on outcomes, not on the code's internals. If the code has a bug, write the test that exposes it and say so.`
