//go:build !wasip1

package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/paltest"
)

// workflowTools are the built-in tools of package workflow.
var workflowTools = []string{"thinkdeep", "codereview", "debug", "planner", "consensus", "secaudit", "analyze", "refactor", "tracer", "testgen", "docgen", "precommit"}

// selfContained are the workflow tools that never call a model.
var selfContained = []string{"planner", "tracer", "docgen"}

type wfReply map[string]any

func wf(t *testing.T, h *paltest.Host, tool string, args map[string]any) wfReply {
	t.Helper()
	r := h.Invoke(t, tool, args)
	var out wfReply
	if err := json.Unmarshal([]byte(paltest.Text(r)), &out); err != nil {
		t.Fatalf("not JSON: %s", paltest.Text(r))
	}
	if r.IsError {
		t.Fatalf("%s failed: %s", tool, paltest.Text(r))
	}
	return out
}

func wfStep(n, total int, next bool, kv ...any) map[string]any {
	a := map[string]any{"step": fmt.Sprintf("step %d", n), "step_number": n, "total_steps": total, "next_step_required": next,
		"findings": fmt.Sprintf("found %d", n)}
	for i := 0; i+1 < len(kv); i += 2 {
		a[kv[i].(string)] = kv[i+1]
	}
	return a
}

func TestWorkflowManifest(t *testing.T) {
	var m abi.Manifest
	if err := json.Unmarshal(pal.Describe(), &m); err != nil {
		t.Fatal(err)
	}
	for _, name := range workflowTools {
		i := slices.IndexFunc(m.Tools, func(s abi.ToolSpec) bool { return s.Name == name })
		if i < 0 {
			t.Fatalf("manifest lacks %s", name)
		}
		s := m.Tools[i]
		if s.Category != "extended" || !*s.Annotations.ReadOnlyHint || *s.Annotations.DestructiveHint {
			t.Errorf("%s: %+v", name, s)
		}
		wantModel := !slices.Contains(selfContained, name)
		if slices.Contains(s.Capabilities, "model.generate") != wantModel || *s.Annotations.OpenWorldHint != wantModel {
			t.Errorf("%s capabilities %v", name, s.Capabilities)
		}
		if len(s.Description) > 260 {
			t.Errorf("%s description is %d chars; keep it under 260", name, len(s.Description))
		}
	}
}

func TestCodereviewThreeStepsThenExpert(t *testing.T) {
	h := newHost()
	out := wf(t, h, "codereview", wfStep(1, 3, true, "relevant_files", []string{"/proj/main.go"}, "review_type", "security"))
	if out["status"] != "pause_for_code_review" || out["code_review_required"] != true {
		t.Fatalf("step 1: %v", out)
	}
	id := out["continuation_id"]
	out = wf(t, h, "codereview", wfStep(2, 3, true, "continuation_id", id, "relevant_files", []string{"/proj/main.go", "/proj/util.go"},
		"issues_found", []map[string]string{{"severity": "high", "description": "unchecked error"}}))
	if st := out["code_review_status"].(map[string]any); st["issues_by_severity"].(map[string]any)["high"] != 1.0 {
		t.Fatalf("step 2: %v", st)
	}
	out = wf(t, h, "codereview", wfStep(3, 3, false, "continuation_id", id, "confidence", "high"))
	if out["status"] != "calling_expert_analysis" || out["code_review_complete"] != true || out["complete_code_review"] == nil || len(h.Generated) != 1 {
		t.Fatalf("step 3: %v", out)
	}
	p := h.Generated[0].Prompt
	for _, w := range []string{"Type: security", "[HIGH] unchecked error", "--- BEGIN FILE: /proj/util.go"} {
		if !strings.Contains(p, w) {
			t.Errorf("prompt lacks %q", w)
		}
	}
	if strings.Count(p, "--- BEGIN FILE: /proj/main.go") != 1 {
		t.Errorf("main.go embedded %d times", strings.Count(p, "--- BEGIN FILE: /proj/main.go"))
	}
	// Step 1 without files is refused; internal validation skips the expert.
	if r := h.Invoke(t, "codereview", wfStep(1, 1, false)); !r.IsError || !strings.Contains(paltest.Text(r), "codereview_failed") {
		t.Fatalf("no files: %s", paltest.Text(r))
	}
	out = wf(t, h, "codereview", wfStep(1, 1, false, "relevant_files", []string{"/proj/main.go"}, "review_validation_type", "internal"))
	if out["status"] != "code_review_complete_ready_for_implementation" || len(h.Generated) != 1 {
		t.Fatalf("internal: %v", out)
	}
}

func TestDebugSkippedAtCertain(t *testing.T) {
	h := newHost()
	out := wf(t, h, "debug", wfStep(1, 2, true, "hypothesis", "off by one", "confidence", "medium"))
	if out["status"] != "pause_for_investigation" || out["investigation_required"] != true {
		t.Fatalf("step 1: %v", out)
	}
	if acts := out["required_actions"].([]any); !strings.Contains(acts[2].(string), "no bug") {
		t.Fatalf("actions %v", acts)
	}
	out = wf(t, h, "debug", wfStep(2, 2, false, "continuation_id", out["continuation_id"], "hypothesis", "loop bound", "confidence", "certain",
		"relevant_files", []string{"/proj/main.go"}))
	if out["status"] != "certain_confidence_proceed_with_fix" || out["skip_expert_analysis"] != true || len(h.Generated) != 0 {
		t.Fatalf("step 2: %v", out)
	}
	if out["investigation_status"].(map[string]any)["hypotheses_formed"] != 2.0 {
		t.Fatalf("hypotheses: %v", out["investigation_status"])
	}
}

func TestPlannerBranchesAndRevises(t *testing.T) {
	h := newHost()
	out := wf(t, h, "planner", map[string]any{"step": "Migrate the DB", "step_number": 1, "total_steps": 5, "next_step_required": true})
	if out["status"] != "pause_for_deep_thinking" || out["thinking_required"] != true {
		t.Fatalf("step 1: %v", out)
	}
	id := out["continuation_id"]
	steps := []map[string]any{
		{"step": "Dump the schema", "step_number": 2},
		{"step": "Use logical replication", "step_number": 3, "is_branch_point": true, "branch_from_step": 2, "branch_id": "replication"},
		{"step": "Dump and restore the schema", "step_number": 4, "is_step_revision": true, "revises_step_number": 2},
	}
	for _, s := range steps {
		s["total_steps"], s["next_step_required"], s["continuation_id"] = 5, true, id
		wf(t, h, "planner", s)
	}
	out = wf(t, h, "planner", map[string]any{"step": "Switch traffic", "step_number": 5, "total_steps": 5, "next_step_required": false, "continuation_id": id})
	if out["status"] != "planning_complete" || out["planning_complete"] != true || len(h.Generated) != 0 {
		t.Fatalf("final: %v", out)
	}
	plan, _ := json.Marshal(out["plan"])
	if !strings.Contains(string(plan), `{"step":"Dump and restore the schema","step_number":2}`) || strings.Contains(string(plan), `"Dump the schema"`) {
		t.Fatalf("revision not applied: %s", plan)
	}
	if br := out["branches"].(map[string]any)["replication"].([]any); len(br) != 1 {
		t.Fatalf("branches %v", out["branches"])
	}
	if md := out["metadata"].(map[string]any); md["step_history_length"] != 5.0 || !slices.Equal(toStrings(md["branches"]), []string{"replication"}) {
		t.Fatalf("metadata %v", md)
	}
	if r := h.Invoke(t, "planner", map[string]any{"step": "x", "step_number": 2, "total_steps": 2, "next_step_required": false, "is_step_revision": true}); !r.IsError {
		t.Fatal("a revision without revises_step_number was accepted")
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestThinkdeepContinuesChat(t *testing.T) {
	h := newHost()
	chat := invoke(t, h, "chat", map[string]any{"prompt": "CHAT-Q about main", "absolute_file_paths": []string{"/proj/main.go"}})
	mustSucceed(t, chat)
	id := chat.ContinuationOffer.ContinuationID
	out := wf(t, h, "thinkdeep", wfStep(1, 1, false, "continuation_id", id, "relevant_files", []string{"/proj/main.go", "/proj/util.go"},
		"problem_context", "CTX-P", "confidence", "high"))
	if out["status"] != "calling_expert_analysis" || out["continuation_id"] != id || len(h.Generated) != 2 {
		t.Fatalf("thinkdeep: %v", out)
	}
	p := h.Generated[1].Prompt
	for w, n := range map[string]int{"CHAT-Q about main": 1, "model says hi": 1, "--- BEGIN FILE: /proj/main.go": 1, "--- BEGIN FILE: /proj/util.go": 1,
		"=== CONVERSATION HISTORY": 1, "CTX-P": 1} {
		if c := strings.Count(p, w); c != n {
			t.Errorf("%q appears %d times, want %d", w, c, n)
		}
	}
	th, _ := h.Thread(id)
	if len(th.Turns) != 4 || th.Turns[3].Tool != "thinkdeep" || th.Turns[3].Role != "assistant" {
		t.Fatalf("thread %+v", th.Turns)
	}
}

func TestConsensusThreeModels(t *testing.T) {
	h := newHost()
	h.Models = append(h.Models, paltest.Model{Name: "grok", Provider: "xai", ContextWindow: 100_000})
	h.Reply = func(c paltest.GenerateCall) (pal.GenerateResponse, error) {
		return pal.GenerateResponse{Content: "VERDICT from " + c.Resolved, FinishReason: "stop"}, nil
	}
	models := []map[string]string{{"model": "flash", "stance": "for"}, {"model": "o3", "stance": "against"}, {"model": "grok", "stance_prompt": "Focus on cost."}}
	out := wf(t, h, "consensus", wfStep(1, 1, true, "step", "PROPOSAL: adopt gRPC", "models", models, "relevant_files", []string{"/proj/main.go"}))
	if out["status"] != "analysis_and_first_model_consulted" || out["total_steps"] != 3.0 || out["model_consulted"] != "flash" || out["model_stance"] != "for" {
		t.Fatalf("step 1: %v", out)
	}
	id := out["continuation_id"]
	out = wf(t, h, "consensus", wfStep(2, 3, true, "continuation_id", id))
	if out["status"] != "model_consulted" || out["model_consulted"] != "o3" {
		t.Fatalf("step 2: %v", out)
	}
	out = wf(t, h, "consensus", wfStep(3, 3, false, "continuation_id", id))
	if out["status"] != "consensus_workflow_complete" || out["consensus_complete"] != true || len(h.Generated) != 3 {
		t.Fatalf("step 3: %v", out)
	}
	acc := out["accumulated_responses"].([]any)
	if len(acc) != 3 || acc[0].(map[string]any)["stance"] != "for" || acc[2].(map[string]any)["verdict"] != "VERDICT from grok" {
		t.Fatalf("accumulated %v", acc)
	}
	for i, g := range h.Generated {
		if strings.Count(g.Prompt, "PROPOSAL: adopt gRPC") != 1 || strings.Count(g.Prompt, "--- BEGIN FILE: /proj/main.go") != 1 || strings.Contains(g.Prompt, "VERDICT") {
			t.Errorf("call %d prompt is not the blind proposal:\n%s", i, g.Prompt)
		}
	}
	if !strings.Contains(h.Generated[0].System, "FOR the proposal") || !strings.Contains(h.Generated[1].System, "AGAINST") || !strings.Contains(h.Generated[2].System, "Focus on cost.") {
		t.Error("stances not in the system prompts")
	}
	if len(h.Progress) != 6 || h.Progress[4].Message != "consulting grok (neutral), 3 of 3" {
		t.Errorf("progress %+v", h.Progress)
	}
	if r := h.Invoke(t, "consensus", wfStep(1, 1, true, "models", []map[string]string{{"model": "o3"}, {"model": "o3"}})); !r.IsError {
		t.Error("a repeated model and stance was accepted")
	}
}
