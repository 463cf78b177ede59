package main

import (
	"fmt"
	"sort"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/workflow"
)

func init() {
	workflow.Register(&workflow.Tool{
		Name:        "planner",
		Title:       "Step-by-step planner",
		Description: "Build a plan one step per call, with revisions and branches. No model call.",
		Omit: []string{workflow.FieldFindings, workflow.FieldFilesChecked, workflow.FieldRelevantFiles, workflow.FieldRelevantContext,
			workflow.FieldIssuesFound, workflow.FieldConfidence, workflow.FieldHypothesis, workflow.FieldUseAssistantModel,
			workflow.FieldImages, workflow.FieldModel, workflow.FieldThinkingMode},
		Describe: map[string]string{
			workflow.FieldStep: "This plan step. Step 1: the goal, scope and constraints.",
		},
		Fields: []workflow.Field{
			{Name: "is_step_revision", Schema: `{"type":"boolean"}`, Description: "true if this step replaces an earlier one."},
			{Name: "revises_step_number", Schema: `{"type":"integer","minimum":1}`, Description: "The step this one replaces."},
			{Name: "is_branch_point", Schema: `{"type":"boolean"}`, Description: "true if this step starts an alternative."},
			{Name: "branch_from_step", Schema: `{"type":"integer","minimum":1}`, Description: "The step the alternative leaves from."},
			{Name: "branch_id", Schema: `{"type":"string"}`, Description: "The alternative's name."},
			{Name: "more_steps_needed", Schema: `{"type":"boolean"}`, Description: "true if more than total_steps are needed."},
		},
		Names: workflow.Names{Pause: "pause_for_planning", Progress: "planner_status", Required: "planner_required",
			Complete: "planning_complete", Summary: "complete_planning", Done: "planning_complete"},
		Validate: func(r *workflow.Run) error {
			p := planStep(r.Current())
			if p.IsStepRevision && p.RevisesStepNumber == 0 {
				return fmt.Errorf("is_step_revision needs revises_step_number")
			}
			if p.IsBranchPoint && (p.BranchFromStep == 0 || p.BranchID == "") {
				return fmt.Errorf("is_branch_point needs branch_from_step and branch_id")
			}
			return nil
		},
		Actions: func(r *workflow.Run) []string {
			s := r.Current()
			if s.TotalSteps >= 5 && s.StepNumber <= 3 {
				return []string{
					"Before the next step, think: what are the riskiest unknowns and dependencies?",
					"Consider alternative approaches; branch (is_branch_point) if one deserves its own path.",
					"Check the plan so far against the goal and constraints of step 1; revise (is_step_revision) what no longer fits.",
				}
			}
			return []string{fmt.Sprintf("Write step %d of the plan: concrete, ordered, with what it depends on.", s.StepNumber+1)}
		},
		// A revision of step 1 sent as step 1 continues the plan instead of starting over.
		StartsRun: func(s *workflow.Step) bool { return s.StepNumber == 1 && !planStep(s).IsStepRevision },
		Finish:    finishPlan,
	})
}

// planFields are planner's own fields.
type planFields struct {
	IsStepRevision    bool   `json:"is_step_revision"`
	RevisesStepNumber int    `json:"revises_step_number"`
	IsBranchPoint     bool   `json:"is_branch_point"`
	BranchFromStep    int    `json:"branch_from_step"`
	BranchID          string `json:"branch_id"`
	MoreStepsNeeded   bool   `json:"more_steps_needed"`
}

func planStep(s *workflow.Step) planFields {
	var p planFields
	_ = s.DecodeExtra(&p)
	return p
}

// planOf rebuilds the plan: the main line by step number (a revision replaces the step it
// names) and each branch's steps, in order.
func planOf(r *workflow.Run) (main []map[string]any, branches map[string][]map[string]any) {
	byNumber := map[int]string{}
	branches = map[string][]map[string]any{}
	for _, s := range r.Steps {
		p := planStep(s)
		switch {
		case p.BranchID != "":
			branches[p.BranchID] = append(branches[p.BranchID], map[string]any{"step_number": s.StepNumber, "step": s.Step, "branch_from_step": p.BranchFromStep})
		case p.IsStepRevision:
			byNumber[p.RevisesStepNumber] = s.Step
		default:
			byNumber[s.StepNumber] = s.Step
		}
	}
	nums := make([]int, 0, len(byNumber))
	for n := range byNumber {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	for _, n := range nums {
		main = append(main, map[string]any{"step_number": n, "step": byNumber[n]})
	}
	return main, branches
}

func finishPlan(r *workflow.Run, reply map[string]any) {
	s := r.Current()
	p := planStep(s)
	main, branches := planOf(r)
	ids := make([]string, 0, len(branches))
	for id := range branches {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	reply["step_content"] = s.Step
	meta := reply["metadata"].(map[string]any)
	meta["branches"] = ids
	meta["step_history_length"] = len(r.Steps)
	meta["is_step_revision"] = p.IsStepRevision
	meta["revises_step_number"] = p.RevisesStepNumber
	meta["is_branch_point"] = p.IsBranchPoint
	meta["branch_from_step"] = p.BranchFromStep
	meta["branch_id"] = p.BranchID
	meta["more_steps_needed"] = p.MoreStepsNeeded
	if s.NextStepRequired {
		if s.TotalSteps >= 5 && s.StepNumber <= 3 {
			reply["status"] = "pause_for_deep_thinking"
			reply["thinking_required"] = true
			reply["required_thinking"] = reply["required_actions"]
		}
		return
	}
	reply["plan_summary"] = fmt.Sprintf("COMPLETE PLAN: %s (%d steps recorded)", r.Initial(), len(r.Steps))
	reply["plan"] = main
	if len(branches) > 0 {
		reply["branches"] = branches
	}
	reply["output"] = map[string]any{
		"format": "step_by_step_planning",
		"instructions": "Present the plan as numbered steps with their dependencies; show branches as labelled alternatives after the step they leave from, " +
			"and say which you recommend. Use plain text or simple ASCII diagrams; no time or cost estimates unless the user asked.",
	}
	reply["next_steps"] = "The plan is complete. Present it to the user, then start on step 1 if they agree."
}
