package main

import (
	"fmt"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/workflow"
)

// docgenFields are docgen's own fields.
type docgenFields struct {
	NumFilesDocumented     int  `json:"num_files_documented"`
	TotalFilesToDocument   int  `json:"total_files_to_document"`
	DocumentComplexity     bool `json:"document_complexity"`
	DocumentFlow           bool `json:"document_flow"`
	UpdateExisting         bool `json:"update_existing"`
	CommentsOnComplexLogic bool `json:"comments_on_complex_logic"`
}

// docgenSettings are the run's settings: the switches as last sent in any step (default
// true), the counters as the current step sends them.
func docgenSettings(r *workflow.Run) docgenFields {
	x := docgenFields{DocumentComplexity: true, DocumentFlow: true, UpdateExisting: true, CommentsOnComplexLogic: true}
	for _, s := range r.Steps {
		_ = s.DecodeExtra(&x)
	}
	return x
}

func init() {
	workflow.Register(&workflow.Tool{
		Name:        "docgen",
		Title:       "Documentation generator",
		Description: "Document code file by file: step 1 finds the files, each later step documents one.",
		Omit: []string{workflow.FieldFilesChecked, workflow.FieldRelevantContext, workflow.FieldConfidence, workflow.FieldHypothesis,
			workflow.FieldUseAssistantModel, workflow.FieldImages, workflow.FieldModel, workflow.FieldThinkingMode},
		Describe: map[string]string{
			workflow.FieldStep:        "Step 1: what to document. Later: the file you documented.",
			workflow.FieldIssuesFound: "Bugs seen (do not fix): [{severity, description}]",
		},
		Fields: []workflow.Field{
			{Name: "num_files_documented", Schema: `{"type":"integer","minimum":0}`, Required: true, Description: "Files finished so far."},
			{Name: "total_files_to_document", Schema: `{"type":"integer","minimum":0}`, Required: true, Description: "Files found in step 1."},
			{Name: "document_complexity", Schema: `{"type":"boolean"}`, Description: "Give big-O costs (default true)."},
			{Name: "document_flow", Schema: `{"type":"boolean"}`, Description: "Describe call flow (default true)."},
			{Name: "update_existing", Schema: `{"type":"boolean"}`, Description: "Fix outdated docs (default true)."},
			{Name: "comments_on_complex_logic", Schema: `{"type":"boolean"}`, Description: "Comment tricky logic (default true)."},
		},
		Names: workflow.Names{Pause: "pause_for_documentation_analysis", Progress: "documentation_analysis_status",
			Required: "documentation_analysis_required", Complete: "documentation_analysis_complete",
			Summary: "complete_documentation_analysis", Done: "documentation_analysis_complete"},
		Validate: func(r *workflow.Run) error {
			x := docgenSettings(r)
			if x.NumFilesDocumented > x.TotalFilesToDocument {
				return fmt.Errorf("num_files_documented (%d) is larger than total_files_to_document (%d)", x.NumFilesDocumented, x.TotalFilesToDocument)
			}
			return nil
		},
		Actions: docgenActions,
		Finish:  finishDocgen,
	})
}

func docgenActions(r *workflow.Run) []string {
	s := r.Current()
	x := docgenSettings(r)
	if s.StepNumber == 1 {
		return []string{
			"Discover only; write no documentation yet. List every file to document (source, not generated or vendored code) in relevant_files.",
			"Set total_files_to_document to their number and num_files_documented to 0.",
			"Note the project's documentation conventions (doc comment style, language, existing docs).",
		}
	}
	acts := []string{
		fmt.Sprintf("Document the next file completely (file %d of %d): every public and non-obvious private function, type and constant, with parameters, return values, errors and units.", x.NumFilesDocumented+1, x.TotalFilesToDocument),
	}
	if x.DocumentComplexity {
		acts = append(acts, "Give the time and space cost (big-O) of functions whose cost is not obvious.")
	}
	if x.DocumentFlow {
		acts = append(acts, "Say what calls each function and what it calls when that helps the reader.")
	}
	if x.CommentsOnComplexLogic {
		acts = append(acts, "Add short inline comments where the logic is hard to follow; explain why, not what.")
	}
	if x.UpdateExisting {
		acts = append(acts, "Correct existing documentation that no longer matches the code.")
	}
	return append(acts, "Change comments only, never code; report bugs you see in issues_found. Then raise num_files_documented by one.")
}

func finishDocgen(r *workflow.Run, reply map[string]any) {
	s := r.Current()
	x := docgenSettings(r)
	if x.TotalFilesToDocument > 0 && s.StepNumber == 1 {
		reply["total_steps"] = 1 + x.TotalFilesToDocument // discovery, then one step per file
	}
	st := reply["documentation_analysis_status"].(map[string]any)
	st["num_files_documented"], st["total_files_to_document"] = x.NumFilesDocumented, x.TotalFilesToDocument
	st["documentation_strategies"] = map[string]bool{"document_complexity": x.DocumentComplexity, "document_flow": x.DocumentFlow,
		"update_existing": x.UpdateExisting, "comments_on_complex_logic": x.CommentsOnComplexLogic}
	if s.NextStepRequired {
		return
	}
	if x.TotalFilesToDocument == 0 || x.NumFilesDocumented < x.TotalFilesToDocument {
		delete(reply, "documentation_analysis_complete")
		delete(reply, "complete_documentation_analysis")
		reply["status"] = "documentation_analysis_required"
		reply["next_step_required"] = true
		reply["pause_for_docgen"] = true
		why := fmt.Sprintf("only %d of %d files are documented", x.NumFilesDocumented, x.TotalFilesToDocument)
		if x.TotalFilesToDocument == 0 {
			why = "total_files_to_document is 0: the discovery step did not count the files"
		}
		reply["next_steps"] = fmt.Sprintf("Documentation is not finished: %s. Document the remaining files one per step, "+
			"then call docgen with step_number %d, next_step_required false only when num_files_documented equals total_files_to_document, and continuation_id %q.",
			why, s.StepNumber+1, r.ID)
		return
	}
	reply["next_steps"] = fmt.Sprintf("All %d files are documented. Tell the user which files changed and list the bugs you noted, if any, without fixing them.", x.TotalFilesToDocument)
}
