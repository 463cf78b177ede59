package main

import (
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/workflow"
)

func init() {
	workflow.Register(&workflow.Tool{
		Name:        "analyze",
		Title:       "Code analysis",
		Description: "Analyse code in steps you do yourself (architecture, performance, security, quality); another model checks it last.",
		Omit:        []string{workflow.FieldFilesChecked, workflow.FieldRelevantContext, workflow.FieldHypothesis, workflow.FieldThinkingMode},
		Describe: map[string]string{
			workflow.FieldIssuesFound: "Insights: [{severity: critical|high|medium|low, description}]",
		},
		Fields: []workflow.Field{
			{Name: "analysis_type", Schema: `{"type":"string","enum":["architecture","performance","security","quality","general"]}`, Description: "Default general."},
			{Name: "output_format", Schema: `{"type":"string","enum":["summary","detailed","actionable"]}`, Description: "Default detailed."},
		},
		Names: workflow.Names{Pause: "pause_for_analysis", Progress: "analysis_status",
			Complete: "analysis_complete", Summary: "complete_analysis"},
		Validate: stepOneNeedsFiles("analyze"),
		Actions: func(r *workflow.Run) []string {
			if r.Current().StepNumber == 1 {
				return []string{
					"Read the files in relevant_files and map the structure: modules, layers, main data flows.",
					"Identify the architectural patterns in use and where the code departs from them.",
					"Note first observations in findings; record strategic concerns in issues_found.",
				}
			}
			return []string{
				"Examine scalability and performance: hot paths, data volumes, blocking calls, caching.",
				"Examine maintainability: coupling, duplication, test coverage, technical debt that slows change.",
				"Weigh each concern by its effect on the system's goals; keep issues_found current.",
			}
		},
		Expert: &workflow.Expert{
			SystemPrompt:  analyzePrompt + expertRules,
			Instruction:   "Check the agent's analysis against the code. Confirm, correct or drop its insights, add what it missed, and rank them by strategic importance. Shape the answer by the output format: summary (short), detailed (with evidence) or actionable (ordered steps).",
			EmbedFiles:    true,
			NeedsEvidence: true,
			Context: func(r *workflow.Run) string {
				return section("ANALYSIS SETTINGS", "Type: "+stringField(r, "analysis_type", "general")+"\nOutput format: "+stringField(r, "output_format", "detailed"))
			},
			NextSteps: "Combine the expert's insights with yours; present the strategic findings first, each with its evidence and the recommended change.",
		},
		Finish: func(r *workflow.Run, reply map[string]any) {
			st := reply["analysis_status"].(map[string]any)
			st["insights_by_severity"] = r.IssuesBySeverity()
			st["analysis_confidence"] = r.Confidence()
		},
	})
}

const analyzePrompt = `You are a principal engineer reviewing an analysis of a codebase that another AI agent carried out step by step. You see its findings and the code.

Look at the system as a whole:
- architecture: boundaries, dependencies between modules, whether the structure fits what the system does
- performance and scalability: where load or data growth will hurt first
- security posture and operational risk where the code makes them visible
- maintainability: how hard the code is to change safely, and why
Prefer a few strategic insights with evidence to a list of nitpicks. Say what is sound as well as what is not, when it matters for a decision. For each recommendation give the benefit, the cost and the risk of the change.`
