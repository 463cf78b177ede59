package main

import (
	"slices"
	"strings"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/workflow"
)

// Refactor's confidence levels (its own scale, as in PAL) and the style-guide budget.
const (
	refactorIncomplete = "incomplete"
	refactorPartial    = "partial"
	refactorComplete   = "complete"
	// styleGuideTokens caps the style_guide_examples embedded in the expert prompt.
	styleGuideTokens = 8_000
)

// refactorFields are refactor's own fields.
type refactorFields struct {
	RefactorType       string   `json:"refactor_type"`
	FocusAreas         []string `json:"focus_areas"`
	StyleGuideExamples []string `json:"style_guide_examples"`
}

func refactorSettings(r *workflow.Run) refactorFields {
	x := refactorFields{RefactorType: "codesmells"}
	for _, s := range r.Steps {
		_ = s.DecodeExtra(&x)
	}
	return x
}

func init() {
	workflow.Register(&workflow.Tool{
		Name:        "refactor",
		Title:       "Refactoring analysis",
		Description: "Find refactorings in steps you do yourself (smells, splitting, modernising); another model checks them.",
		Omit:        []string{workflow.FieldFilesChecked, workflow.FieldRelevantContext, workflow.FieldHypothesis, workflow.FieldThinkingMode},
		Describe: map[string]string{
			workflow.FieldIssuesFound: "[{severity: critical|high|medium|low, type: refactor_type, description}]",
			workflow.FieldConfidence:  "complete skips the expert.",
		},
		Confidence:        []string{workflow.Exploring, refactorIncomplete, refactorPartial, refactorComplete},
		DefaultConfidence: refactorIncomplete,
		Fields: []workflow.Field{
			{Name: "refactor_type", Schema: `{"type":"string","enum":["codesmells","decompose","modernize","organization"]}`, Description: "Default codesmells."},
			{Name: "focus_areas", Schema: `{"type":"array","items":{"type":"string"}}`, Description: "E.g. readability."},
			{Name: "style_guide_examples", Schema: `{"type":"array","items":{"type":"string"}}`, Description: "Absolute paths of code to imitate."},
		},
		PathFields: []string{"style_guide_examples"},
		Names: workflow.Names{Pause: "pause_for_refactoring_analysis", Progress: "refactoring_status",
			Complete: "refactoring_complete", Summary: "complete_refactoring"},
		Validate: stepOneNeedsFiles("refactor"),
		Actions:  refactorActions,
		Expert: &workflow.Expert{
			SystemPrompt:     refactorPrompt + expertRules,
			Instruction:      "Check the agent's refactoring opportunities against the code. Confirm, correct or drop each, add what it missed, and order them so that each step leaves the code working. For each: type, location, the change, and what could break.",
			EmbedFiles:       true,
			NeedsEvidence:    true,
			Skip:             workflow.SkipAt(refactorComplete),
			SkipStatus:       "refactoring_analysis_complete_ready_for_implementation",
			SkipExpertStatus: "skipped_due_to_complete_refactoring_confidence",
			SkipNextSteps:    "Your refactoring analysis is complete: present the opportunities by priority, then carry them out one at a time, running the tests after each.",
			Context:          refactorContext,
			NextSteps:        "Combine the expert's plan with yours; present the opportunities by priority and carry them out one at a time, running the tests after each.",
		},
		Finish: func(r *workflow.Run, reply map[string]any) {
			byType := map[string]int{}
			for _, is := range r.Issues() {
				t := is.Type
				if t == "" {
					t = "unclassified"
				}
				byType[t]++
			}
			st := reply["refactoring_status"].(map[string]any)
			st["opportunities_by_type"] = byType
			st["refactor_confidence"] = r.Confidence()
		},
	})
}

// refactorContext is the settings section and the style-guide examples, embedded within
// styleGuideTokens unless they are among the relevant files (embedded later anyway).
func refactorContext(r *workflow.Run) string {
	x := refactorSettings(r)
	focus := strings.Join(x.FocusAreas, ", ")
	if focus == "" {
		focus = "none given"
	}
	out := section("REFACTORING SETTINGS", "Type: "+x.RefactorType+"\nFocus: "+focus)
	relevant := r.RelevantFiles()
	var guides []string
	for _, p := range x.StyleGuideExamples {
		if !slices.Contains(relevant, p) {
			guides = append(guides, p)
		}
	}
	if len(guides) > 0 {
		text, _, left := workflow.ReadFiles(guides, styleGuideTokens, r.Info.Limits.MaxFileBytes)
		if len(left) > 0 {
			text += "\nNot included: " + strings.Join(left, "; ")
		}
		out += section("STYLE GUIDE EXAMPLES (follow their conventions)", text)
	}
	return out
}

func refactorActions(r *workflow.Run) []string {
	s := r.Current()
	if s.StepNumber == 1 {
		return []string{
			"Read the files in relevant_files in full and note their size, structure and responsibilities.",
			"Look for the refactor type asked for first: smells, oversized units to decompose, outdated idioms, or poor organisation.",
			"Record each opportunity in issues_found with a severity and its type.",
		}
	}
	if s.Confidence == refactorPartial {
		return []string{"Check the remaining files and the less obvious opportunities (shared abstractions, dead code, naming).", "Check each opportunity against callers and tests: what would the change break?"}
	}
	return []string{
		"Find the long functions, large types, duplicated logic and deep nesting in the code you have not read yet.",
		"Check how the code is used (callers, tests) before proposing to move or split it.",
		"Keep issues_found current and raise confidence only with evidence.",
	}
}

const refactorPrompt = `You are a senior engineer reviewing refactoring opportunities that another AI agent found step by step. You see its findings and the code.

Judge each opportunity by what it buys (clarity, fewer defects, easier change) against what it costs and risks. Types:
- codesmells: long functions, large types, duplication, deep nesting, unclear names, dead code
- decompose: units that do too much and should be split along their responsibilities
- modernize: idioms and APIs of the language or libraries that have better current forms
- organization: files, packages and modules whose layout hides how the code fits together
Keep behaviour unchanged. Order the changes so that each leaves the code building and the tests passing. Follow the project's conventions and any style-guide examples given. Do not propose a rewrite where a local change does.`
