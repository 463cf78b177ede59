package main

import (
	"fmt"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/workflow"
)

// tracerFields are tracer's own fields.
type tracerFields struct {
	TraceMode         string `json:"trace_mode"`
	TargetDescription string `json:"target_description"`
}

func tracerSettings(r *workflow.Run) tracerFields {
	var x tracerFields
	for _, s := range r.Steps {
		_ = s.DecodeExtra(&x)
	}
	return x
}

func init() {
	workflow.Register(&workflow.Tool{
		Name:        "tracer",
		Title:       "Code tracer",
		Description: "Trace a method's call flow or a component's dependencies in steps. No model call.",
		Omit: []string{workflow.FieldFilesChecked, workflow.FieldIssuesFound, workflow.FieldConfidence, workflow.FieldHypothesis,
			workflow.FieldUseAssistantModel, workflow.FieldImages, workflow.FieldModel, workflow.FieldThinkingMode},
		Fields: []workflow.Field{
			{Name: "trace_mode", Schema: `{"type":"string","enum":["precision","dependencies","ask"]}`, Required: true,
				Description: "precision: call flow; dependencies: uses and users; ask: the user picks."},
			{Name: "target_description", Schema: `{"type":"string"}`, Required: true, Description: "What to trace and why."},
		},
		Names: workflow.Names{Pause: "pause_for_tracing", Progress: "tracer_status", Complete: "tracing_complete",
			Summary: "complete_tracing", Done: "tracing_complete"},
		Actions: tracerActions,
		Finish:  finishTrace,
	})
}

func tracerActions(r *workflow.Run) []string {
	s := r.Current()
	mode := tracerSettings(r).TraceMode
	if s.StepNumber == 1 {
		return []string{
			"Find the exact target (method, type or module) and where it is defined; record it in relevant_context.",
			"Read its definition and the code immediately around it.",
			"List in relevant_files the files the trace runs through.",
		}
	}
	if mode == "dependencies" {
		return []string{
			"Find what depends on the target: callers, implementers, importers, configuration that selects it.",
			"Find what the target depends on: calls, types, data stores, external services.",
			"Note the direction and kind of each dependency (call, data, inheritance, event).",
		}
	}
	return []string{
		"Follow each call the target makes, in execution order, with file and line.",
		"Note the branches taken and why, the side effects (writes, I/O, state changes) and the error paths.",
		"Stop at the edges of the codebase (libraries, system calls) and say what they do.",
	}
}

// tracerRendering says how to draw each mode's result.
var tracerRendering = map[string]string{
	"precision": "Draw the call flow top to bottom: one line per call as 'file:line Type.method(args)', indented one level per nested call, " +
		"branches as '├─ if <condition>' / '└─ else', side effects marked '[writes …]' or '[I/O …]', and errors marked '[err → …]'. " +
		"Follow with a table: step, location, what happens, state changed.",
	"dependencies": "Draw the target in the middle: callers and users above with arrows pointing down to it ('A ──calls──▶ Target'), " +
		"what it uses below. Label each arrow with its kind (calls, reads, implements, imports, emits). " +
		"Follow with two lists, incoming and outgoing, each entry with file and line.",
}

func finishTrace(r *workflow.Run, reply map[string]any) {
	s := r.Current()
	x := tracerSettings(r)
	reply["tracer_status"].(map[string]any)["step_history_length"] = len(r.Steps)
	meta := reply["metadata"].(map[string]any)
	meta["trace_mode"], meta["target_description"], meta["step_history_length"] = x.TraceMode, x.TargetDescription, len(r.Steps)
	reply["step_content"] = s.Step
	if x.TraceMode == "ask" {
		delete(reply, "tracing_complete")
		delete(reply, "complete_tracing")
		reply["status"] = "mode_selection_required"
		reply["mode_selection_required"] = true
		reply["next_step_required"] = true
		reply["required_actions"] = []string{"Ask the user which trace they want, then call tracer again at step_number 1 with trace_mode set."}
		reply["next_steps"] = "Ask the user to choose the kind of trace before you start:\n" +
			"- precision: the execution flow of one method or function, call by call (best for how something works or fails);\n" +
			"- dependencies: what uses the target and what it uses (best for the impact of a change).\n" +
			fmt.Sprintf("Then call tracer with step_number 1, trace_mode set to the choice, and continuation_id %q.", r.ID)
		return
	}
	if s.NextStepRequired {
		return
	}
	reply["trace_summary"] = "TRACING COMPLETE: " + s.Step
	reply["output"] = map[string]any{
		"format":                 x.TraceMode + "_trace_analysis",
		"instructions":           "Present the trace of " + x.TargetDescription + " from what you recorded in the steps; every element must come from code you read.",
		"rendering_instructions": tracerRendering[x.TraceMode],
		"presentation_guidelines": "Start with one paragraph on what the trace shows, then the diagram, then the table or lists. " +
			"Name uncertain links as such. Use plain text and ASCII only.",
	}
	reply["next_steps"] = "The trace is complete. Present it to the user as the output instructions say."
}
