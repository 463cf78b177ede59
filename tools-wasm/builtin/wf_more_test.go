//go:build !wasip1

package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/paltest"
)

// refused asserts an isError <tool>_failed reply whose text contains want, and no model call.
func mustRefuse(t *testing.T, h *paltest.Host, tool string, args map[string]any, want string) {
	t.Helper()
	n := len(h.Generated)
	r := h.Invoke(t, tool, args)
	if text := paltest.Text(r); !r.IsError || !strings.Contains(text, tool+"_failed") || !strings.Contains(text, want) {
		t.Fatalf("%s: want %s_failed with %q, got isError=%v %s", tool, tool, want, r.IsError, text)
	}
	if len(h.Generated) != n {
		t.Fatalf("%s: a refused step called a model", tool)
	}
}

func TestSecauditStepsThenExpert(t *testing.T) {
	h := newHost()
	out := wf(t, h, "secaudit", wfStep(1, 2, true, "relevant_files", []string{"/proj/main.go"}, "threat_level", "high",
		"compliance_requirements", []string{"HIPAA", "SOC9"}, "security_scope", "SCOPE: public API"))
	if out["status"] != "pause_for_security_audit" || out["secaudit_required"] != true {
		t.Fatalf("step 1: %v", out)
	}
	if w := out["warnings"].([]any); len(w) != 1 || !strings.Contains(w[0].(string), `"SOC9"`) {
		t.Fatalf("warnings %v", out["warnings"])
	}
	out = wf(t, h, "secaudit", wfStep(2, 2, false, "continuation_id", out["continuation_id"], "confidence", "high",
		"issues_found", []map[string]string{{"severity": "critical", "description": "SQL built from input", "location": "main.go:3"}}))
	if out["status"] != "calling_expert_analysis" || out["security_audit_complete"] != true || out["complete_security_audit"] == nil || len(h.Generated) != 1 {
		t.Fatalf("step 2: %v", out)
	}
	st := out["security_audit_status"].(map[string]any)
	if st["vulnerabilities_by_severity"].(map[string]any)["critical"] != 1.0 || st["audit_confidence"] != "high" {
		t.Fatalf("status %v", st)
	}
	g := h.Generated[0]
	for w, n := range map[string]int{"Threat level: high": 1, "Compliance: HIPAA, SOC9": 1, "SCOPE: public API": 1, "[CRITICAL] SQL built from input (main.go:3)": 1,
		"--- BEGIN FILE: /proj/main.go": 1} {
		if c := strings.Count(g.Prompt, w); c != n {
			t.Errorf("prompt has %q %d times, want %d", w, c, n)
		}
	}
	if !strings.Contains(g.System, "application security engineer") || !strings.Contains(g.System, "files_required_to_continue") {
		t.Errorf("system prompt %q", g.System)
	}
	// certain skips the expert; a bad enum value is refused.
	out = wf(t, h, "secaudit", wfStep(1, 1, false, "relevant_files", []string{"/proj/main.go"}, "confidence", "certain"))
	if out["status"] != "security_analysis_complete" || out["expert_analysis"].(map[string]any)["status"] != "skipped_due_to_certain_audit_confidence" || len(h.Generated) != 1 {
		t.Fatalf("certain: %v", out)
	}
	mustRefuse(t, h, "secaudit", wfStep(1, 1, false, "audit_focus", "everything"), "audit_focus must be one of")
}

func TestAnalyzeNeverSkipsTheExpert(t *testing.T) {
	h := newHost()
	mustRefuse(t, h, "analyze", wfStep(1, 2, true), "step 1 of analyze needs relevant_files")
	mustRefuse(t, h, "analyze", wfStep(1, 2, true, "relevant_files", []string{"/proj/main.go"}, "hypothesis", "x"), "unknown argument(s) hypothesis")
	out := wf(t, h, "analyze", wfStep(1, 2, true, "relevant_files", []string{"/proj/main.go", "/proj/util.go"}, "analysis_type", "architecture"))
	if out["status"] != "pause_for_analysis" || out["analyze_required"] != true {
		t.Fatalf("step 1: %v", out)
	}
	out = wf(t, h, "analyze", wfStep(2, 2, false, "continuation_id", out["continuation_id"], "confidence", "certain", "output_format", "actionable",
		"issues_found", []map[string]string{{"severity": "medium", "description": "util is unused"}}))
	if out["status"] != "calling_expert_analysis" || out["analysis_complete"] != true || len(h.Generated) != 1 {
		t.Fatalf("certain must still call the expert: %v", out)
	}
	if st := out["analysis_status"].(map[string]any); st["insights_by_severity"].(map[string]any)["medium"] != 1.0 || st["analysis_confidence"] != "certain" {
		t.Fatalf("status %v", st)
	}
	p := h.Generated[0].Prompt
	for _, w := range []string{"Type: architecture", "Output format: actionable", "[MEDIUM] util is unused"} {
		if !strings.Contains(p, w) {
			t.Errorf("prompt lacks %q", w)
		}
	}
	for _, f := range []string{"/proj/main.go", "/proj/util.go"} {
		if c := strings.Count(p, "--- BEGIN FILE: "+f); c != 1 {
			t.Errorf("%s embedded %d times", f, c)
		}
	}
	// use_assistant_model false: local completion, no call.
	out = wf(t, h, "analyze", wfStep(1, 1, false, "relevant_files", []string{"/proj/main.go"}, "use_assistant_model", false))
	if out["status"] != "local_work_complete" || len(h.Generated) != 1 {
		t.Fatalf("local: %v", out)
	}
}

func TestRefactorOwnConfidenceScale(t *testing.T) {
	h := newHost()
	mustRefuse(t, h, "refactor", wfStep(1, 2, true, "relevant_files", []string{"/proj/main.go"}, "confidence", "high"), "confidence must be one of exploring, incomplete, partial, complete")
	mustRefuse(t, h, "refactor", wfStep(1, 2, true, "relevant_files", []string{"/proj/main.go"}, "style_guide_examples", []string{"util.go"}), "style_guide_examples must hold absolute paths")
	out := wf(t, h, "refactor", wfStep(1, 2, true, "relevant_files", []string{"/proj/main.go"}, "refactor_type", "decompose",
		"style_guide_examples", []string{"/proj/util.go", "/proj/main.go"}))
	if out["status"] != "pause_for_refactoring_analysis" || out["refactoring_status"].(map[string]any)["current_confidence"] != "incomplete" {
		t.Fatalf("step 1: %v", out)
	}
	out = wf(t, h, "refactor", wfStep(2, 2, false, "continuation_id", out["continuation_id"], "confidence", "partial",
		"issues_found", []map[string]string{{"severity": "high", "type": "decompose", "description": "main does too much"}, {"severity": "low", "description": "naming"}}))
	if out["status"] != "calling_expert_analysis" || out["refactoring_complete"] != true || len(h.Generated) != 1 {
		t.Fatalf("step 2: %v", out)
	}
	st := out["refactoring_status"].(map[string]any)
	if by := st["opportunities_by_type"].(map[string]any); by["decompose"] != 1.0 || by["unclassified"] != 1.0 || st["refactor_confidence"] != "partial" {
		t.Fatalf("status %v", st)
	}
	p := h.Generated[0].Prompt
	// util.go is a style example only; main.go is both and is embedded once, as a relevant file.
	for w, n := range map[string]int{"Type: decompose": 1, "=== STYLE GUIDE EXAMPLES": 1, "--- BEGIN FILE: /proj/util.go": 1, "--- BEGIN FILE: /proj/main.go": 1} {
		if c := strings.Count(p, w); c != n {
			t.Errorf("prompt has %q %d times, want %d", w, c, n)
		}
	}
	if strings.Index(p, "--- BEGIN FILE: /proj/util.go") > strings.Index(p, "--- BEGIN FILE: /proj/main.go") {
		t.Error("style examples should come before the relevant files")
	}
	out = wf(t, h, "refactor", wfStep(1, 1, false, "relevant_files", []string{"/proj/main.go"}, "confidence", "complete"))
	if out["status"] != "refactoring_analysis_complete_ready_for_implementation" ||
		out["expert_analysis"].(map[string]any)["status"] != "skipped_due_to_complete_refactoring_confidence" || len(h.Generated) != 1 {
		t.Fatalf("complete: %v", out)
	}
}

func TestTestgenStepsThenExpert(t *testing.T) {
	h := newHost()
	mustRefuse(t, h, "testgen", wfStep(1, 2, true), "step 1 of testgen needs relevant_files")
	out := wf(t, h, "testgen", wfStep(1, 2, true, "relevant_files", []string{"/proj/util.go"},
		"issues_found", []map[string]string{{"severity": "high", "description": "util on empty input"}}))
	if out["status"] != "pause_for_test_analysis" || out["testgen_required"] != true {
		t.Fatalf("step 1: %v", out)
	}
	id := out["continuation_id"]
	out = wf(t, h, "testgen", wfStep(2, 2, false, "continuation_id", id, "confidence", "high",
		"issues_found", []map[string]string{{"severity": "medium", "description": "util called twice"}}))
	if out["status"] != "calling_expert_analysis" || out["test_generation_complete"] != true || len(h.Generated) != 1 {
		t.Fatalf("step 2: %v", out)
	}
	if st := out["test_generation_status"].(map[string]any); st["test_scenarios_identified"] != 2.0 || st["analysis_confidence"] != "high" {
		t.Fatalf("status %v", st)
	}
	g := h.Generated[0]
	if !strings.Contains(g.System, "test engineer") || strings.Count(g.Prompt, "--- BEGIN FILE: /proj/util.go") != 1 ||
		!strings.Contains(g.Prompt, "[HIGH] util on empty input") || !strings.Contains(g.Prompt, "Design the tests") {
		t.Errorf("expert call: system %q\nprompt %s", g.System, g.Prompt)
	}
	out = wf(t, h, "testgen", wfStep(1, 1, false, "relevant_files", []string{"/proj/util.go"}, "confidence", "certain"))
	if out["status"] != "test_generation_complete_ready_for_implementation" ||
		out["expert_analysis"].(map[string]any)["status"] != "skipped_due_to_certain_test_confidence" || len(h.Generated) != 1 {
		t.Fatalf("certain: %v", out)
	}
}

func TestTracerAsksForTheModeThenTraces(t *testing.T) {
	h := newHost()
	mustRefuse(t, h, "tracer", wfStep(1, 2, true, "target_description", "x"), "trace_mode is required")
	mustRefuse(t, h, "tracer", wfStep(1, 2, true, "target_description", "x", "trace_mode", "fast"), "trace_mode must be one of precision, dependencies, ask")
	out := wf(t, h, "tracer", wfStep(1, 3, true, "trace_mode", "ask", "target_description", "how Login works"))
	if out["status"] != "mode_selection_required" || out["mode_selection_required"] != true || !strings.Contains(out["next_steps"].(string), "dependencies:") {
		t.Fatalf("ask: %v", out)
	}
	id := out["continuation_id"]
	out = wf(t, h, "tracer", wfStep(1, 2, true, "continuation_id", id, "trace_mode", "precision", "target_description", "how Login works",
		"relevant_context", []string{"Auth.Login"}))
	if out["status"] != "pause_for_tracing" || out["tracer_required"] != true {
		t.Fatalf("step 1: %v", out)
	}
	out = wf(t, h, "tracer", wfStep(2, 2, false, "continuation_id", id, "trace_mode", "precision", "target_description", "how Login works"))
	if out["status"] != "tracing_complete" || out["tracing_complete"] != true || len(h.Generated) != 0 {
		t.Fatalf("final: %v", out)
	}
	o := out["output"].(map[string]any)
	if o["format"] != "precision_trace_analysis" || !strings.Contains(o["rendering_instructions"].(string), "file:line") {
		t.Fatalf("output %v", o)
	}
	if md := out["metadata"].(map[string]any); md["trace_mode"] != "precision" || md["step_history_length"] != 2.0 {
		t.Fatalf("metadata %v (the ask step belongs to an earlier run)", md)
	}
}

func TestDocgenCountsFiles(t *testing.T) {
	h := newHost()
	doc := func(n, total int, next bool, done, files int, kv ...any) wfReply {
		return wf(t, h, "docgen", wfStep(n, total, next, append([]any{"num_files_documented", done, "total_files_to_document", files}, kv...)...))
	}
	mustRefuse(t, h, "docgen", wfStep(1, 1, true), "num_files_documented is required")
	mustRefuse(t, h, "docgen", wfStep(1, 1, true, "num_files_documented", 3, "total_files_to_document", 2), "larger than total_files_to_document")
	out := doc(1, 1, true, 0, 2, "relevant_files", []string{"/proj/main.go", "/proj/util.go"}, "document_complexity", false)
	if out["status"] != "pause_for_documentation_analysis" || out["documentation_analysis_required"] != true || out["total_steps"] != 3.0 {
		t.Fatalf("step 1: %v", out)
	}
	id := out["continuation_id"]
	out = doc(2, 3, true, 1, 2, "continuation_id", id)
	acts := strings.Join(toStrings(out["required_actions"]), "\n")
	if !strings.Contains(acts, "file 2 of 2") || strings.Contains(acts, "big-O") || !strings.Contains(acts, "inline comments") {
		t.Fatalf("actions (complexity was switched off at step 1): %s", acts)
	}
	// Finishing with a file left is refused as a forced continuation.
	out = doc(3, 3, false, 1, 2, "continuation_id", id)
	if out["status"] != "documentation_analysis_required" || out["next_step_required"] != true || out["pause_for_docgen"] != true ||
		out["documentation_analysis_complete"] != nil || !strings.Contains(out["next_steps"].(string), "only 1 of 2") {
		t.Fatalf("early finish: %v", out)
	}
	out = doc(4, 4, false, 2, 2, "continuation_id", id)
	if out["status"] != "documentation_analysis_complete" || out["documentation_analysis_complete"] != true || len(h.Generated) != 0 {
		t.Fatalf("final: %v", out)
	}
	if st := out["documentation_analysis_status"].(map[string]any); st["num_files_documented"] != 2.0 ||
		st["documentation_strategies"].(map[string]any)["document_complexity"] != false {
		t.Fatalf("status %v", st)
	}
}

// TestPlannerRevisionOfStepOneKeepsThePlan: step 1 sent again as a revision continues the
// plan; step 1 sent plainly starts a new one.
func TestPlannerRevisionOfStepOneKeepsThePlan(t *testing.T) {
	h := newHost()
	out := wf(t, h, "planner", map[string]any{"step": "GOAL-A", "step_number": 1, "total_steps": 3, "next_step_required": true})
	id := out["continuation_id"]
	wf(t, h, "planner", map[string]any{"step": "STEP-TWO", "step_number": 2, "total_steps": 3, "next_step_required": true, "continuation_id": id})
	out = wf(t, h, "planner", map[string]any{"step": "GOAL-A-REVISED", "step_number": 1, "total_steps": 3, "next_step_required": true,
		"is_step_revision": true, "revises_step_number": 1, "continuation_id": id})
	if md := out["metadata"].(map[string]any); md["step_history_length"] != 3.0 {
		t.Fatalf("the revision started a new run: %v", md)
	}
	out = wf(t, h, "planner", map[string]any{"step": "STEP-THREE", "step_number": 3, "total_steps": 3, "next_step_required": false, "continuation_id": id})
	plan, _ := json.Marshal(out["plan"])
	if want := `[{"step":"GOAL-A-REVISED","step_number":1},{"step":"STEP-TWO","step_number":2},{"step":"STEP-THREE","step_number":3}]`; string(plan) != want {
		t.Fatalf("plan %s, want %s", plan, want)
	}
	// A plain step 1 on the same thread starts over.
	out = wf(t, h, "planner", map[string]any{"step": "GOAL-B", "step_number": 1, "total_steps": 1, "next_step_required": false, "continuation_id": id})
	if plan, _ := json.Marshal(out["plan"]); string(plan) != `[{"step":"GOAL-B","step_number":1}]` {
		t.Fatalf("new plan %s", plan)
	}
}
