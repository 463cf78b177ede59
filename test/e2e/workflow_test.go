package e2e

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCodereviewThroughTheBinary continues a chat with codereview: steps 1 and 2 pause
// without a model call, step 3 makes the expert call to the loopback provider. The expert's
// prompt holds the earlier conversation once and the reviewed file once (it is in the
// chat's history and in relevant_files), and every step's findings.
func TestCodereviewThroughTheBinary(t *testing.T) {
	w := newWorkspace(t)
	p := newProvider(t)
	cs := start(t, w, p)
	file := filepath.Join(w.root, "src", "calc.go")

	res, text := callTool(t, cs, "chat", map[string]any{"prompt": "CHAT-QUESTION about the adder.", "absolute_file_paths": []string{file}, "model": "gpt-5.2"})
	if res.IsError {
		t.Fatalf("chat: %s", text)
	}
	id := continuationID(t, text)

	step := func(n int, next bool, extra map[string]any) map[string]any {
		t.Helper()
		args := map[string]any{"step": "REVIEW-STEP-" + string(rune('0'+n)), "step_number": n, "total_steps": 3, "next_step_required": next,
			"findings": "FINDING-" + string(rune('0'+n)), "continuation_id": id, "model": "gpt-5.2"}
		for k, v := range extra {
			args[k] = v
		}
		res, text := callTool(t, cs, "codereview", args)
		var out map[string]any
		if err := json.Unmarshal([]byte(text), &out); err != nil || res.IsError {
			t.Fatalf("codereview step %d: isError=%v %v %s", n, res.IsError, err, text)
		}
		if out["continuation_id"] != id {
			t.Fatalf("step %d answered on another thread: %v", n, out["continuation_id"])
		}
		return out
	}
	out := step(1, true, map[string]any{"relevant_files": []string{file}, "review_type": "full"})
	if out["status"] != "pause_for_code_review" || out["code_review_required"] != true || len(out["required_actions"].([]any)) == 0 {
		t.Fatalf("step 1: %v", out)
	}
	out = step(2, true, map[string]any{"issues_found": []map[string]string{{"severity": "medium", "description": "ISSUE-OVERFLOW unchecked"}}})
	if out["status"] != "pause_for_code_review" || len(p.requests()) != 1 {
		t.Fatalf("step 2 (no model call): %v, %d provider requests", out, len(p.requests()))
	}
	out = step(3, false, map[string]any{"confidence": "high"})
	if out["status"] != "calling_expert_analysis" || out["code_review_complete"] != true {
		t.Fatalf("step 3: %v", out)
	}
	if ea, _ := out["expert_analysis"].(map[string]any); ea == nil || !strings.Contains(ea["raw_analysis"].(string), "answer number 2") {
		t.Fatalf("expert analysis: %v", out["expert_analysis"])
	}
	if md := out["metadata"].(map[string]any); md["model_used"] != "gpt-5.2" {
		t.Errorf("metadata %v", md)
	}
	reqs := p.requests()
	if len(reqs) != 2 {
		t.Fatalf("provider got %d requests, want 2 (chat, expert)", len(reqs))
	}
	body := reqs[1].Body
	for want, n := range map[string]int{
		"CHAT-QUESTION about the adder.":          1, // history, once
		"answer number 1 from the loopback model": 1,
		"MARKER-IN-ROOT-42":                       1, // the file, once
		"=== CONVERSATION HISTORY":                1,
		"REVIEW-STEP-2":                           1, // the run's steps are not history
		"FINDING-1":                               1,
		"FINDING-2":                               1,
		"FINDING-3":                               1,
		"ISSUE-OVERFLOW unchecked":                1,
	} {
		if c := strings.Count(body, want); c != n {
			t.Errorf("%q appears %d times in the expert's request, want %d", want, c, n)
		}
	}
	if t.Failed() {
		t.Logf("expert request:\n%s", body)
	}
}

// TestWorkflowsThroughTheBinary walks debug (skipped at certain: no model call), planner
// (a branch and a revision: no model call) and consensus (three models with stances, one per
// step, each seeing only the proposal) through the binary and the loopback provider.
func TestWorkflowsThroughTheBinary(t *testing.T) {
	w := newWorkspace(t)
	p := newProvider(t)
	cs := start(t, w, p)
	file := filepath.Join(w.root, "src", "calc.go")
	call := func(tool string, args map[string]any) map[string]any {
		t.Helper()
		res, text := callTool(t, cs, tool, args)
		var out map[string]any
		if err := json.Unmarshal([]byte(text), &out); err != nil || res.IsError {
			t.Fatalf("%s: isError=%v %v %s", tool, res.IsError, err, text)
		}
		return out
	}

	out := call("debug", map[string]any{"step": "Add overflows.", "step_number": 1, "total_steps": 2, "next_step_required": true,
		"findings": "Large inputs wrap.", "hypothesis": "int overflow", "confidence": "medium"})
	if out["status"] != "pause_for_investigation" {
		t.Fatalf("debug step 1: %v", out)
	}
	out = call("debug", map[string]any{"step": "Confirmed with a test.", "step_number": 2, "total_steps": 2, "next_step_required": false,
		"findings": "Add(MaxInt, 1) is negative.", "hypothesis": "int overflow in Add", "confidence": "certain",
		"relevant_files": []string{file}, "continuation_id": out["continuation_id"]})
	if out["status"] != "certain_confidence_proceed_with_fix" || out["skip_expert_analysis"] != true || len(p.requests()) != 0 {
		t.Fatalf("debug at certain: %v, %d provider requests", out, len(p.requests()))
	}

	out = call("planner", map[string]any{"step": "PLAN-GOAL", "step_number": 1, "total_steps": 3, "next_step_required": true})
	id := out["continuation_id"]
	call("planner", map[string]any{"step": "PLAN-TWO", "step_number": 2, "total_steps": 3, "next_step_required": true, "continuation_id": id})
	call("planner", map[string]any{"step": "PLAN-ALT", "step_number": 3, "total_steps": 4, "next_step_required": true, "continuation_id": id,
		"is_branch_point": true, "branch_from_step": 2, "branch_id": "alt"})
	out = call("planner", map[string]any{"step": "PLAN-TWO-REVISED", "step_number": 4, "total_steps": 4, "next_step_required": false,
		"continuation_id": id, "is_step_revision": true, "revises_step_number": 2})
	plan, _ := json.Marshal(out["plan"])
	if out["status"] != "planning_complete" || !strings.Contains(string(plan), "PLAN-TWO-REVISED") || strings.Contains(string(plan), `"PLAN-TWO"`) ||
		out["branches"].(map[string]any)["alt"] == nil || len(p.requests()) != 0 {
		t.Fatalf("planner: %v", out)
	}

	models := []map[string]string{{"model": "gpt-5", "stance": "for"}, {"model": "o3", "stance": "against"}, {"model": "gpt-5-mini", "stance_prompt": "STANCE-COST: weigh the cost."}}
	out = call("consensus", map[string]any{"step": "PROPOSAL-X: switch calc to big.Int.", "step_number": 1, "total_steps": 3, "next_step_required": true,
		"findings": "My view: safer, slower.", "models": models, "relevant_files": []string{file}})
	if out["status"] != "analysis_and_first_model_consulted" || out["model_consulted"] != "gpt-5" {
		t.Fatalf("consensus step 1: %v", out)
	}
	id = out["continuation_id"]
	if out = call("consensus", map[string]any{"step": "Noted.", "step_number": 2, "total_steps": 3, "next_step_required": true, "findings": "For: safety.", "continuation_id": id}); out["status"] != "model_consulted" {
		t.Fatalf("consensus step 2: %v", out)
	}
	out = call("consensus", map[string]any{"step": "Noted.", "step_number": 3, "total_steps": 3, "next_step_required": false, "findings": "Against: speed.", "continuation_id": id})
	if out["status"] != "consensus_workflow_complete" || len(out["accumulated_responses"].([]any)) != 3 {
		t.Fatalf("consensus step 3: %v", out)
	}
	reqs := p.requests()
	if len(reqs) != 3 {
		t.Fatalf("provider got %d requests, want 3", len(reqs))
	}
	for i, want := range []string{`"model":"gpt-5"`, `"model":"o3"`, `"model":"gpt-5-mini"`} {
		body := reqs[i].Body
		if !strings.Contains(body, want) || strings.Count(body, "PROPOSAL-X") != 1 || strings.Count(body, "MARKER-IN-ROOT-42") != 1 ||
			strings.Contains(body, "from the loopback model") {
			t.Errorf("request %d is not the blind proposal to %s:\n%s", i, want, body)
		}
	}
	if !strings.Contains(reqs[0].Body, "FOR the proposal") || !strings.Contains(reqs[1].Body, "AGAINST") || !strings.Contains(reqs[2].Body, "STANCE-COST") {
		t.Error("the stances did not reach the models' system prompts")
	}
}

// TestMoreWorkflowToolsThroughTheBinary: secaudit, analyze and testgen make one expert call
// each on their final step (the file once in each prompt); refactor at confidence complete,
// tracer and docgen call no model.
func TestMoreWorkflowToolsThroughTheBinary(t *testing.T) {
	w := newWorkspace(t)
	p := newProvider(t)
	cs := start(t, w, p)
	file := filepath.Join(w.root, "src", "calc.go")
	call := func(tool string, args map[string]any) map[string]any {
		t.Helper()
		res, text := callTool(t, cs, tool, args)
		var out map[string]any
		if err := json.Unmarshal([]byte(text), &out); err != nil || res.IsError {
			t.Fatalf("%s: isError=%v %v %s", tool, res.IsError, err, text)
		}
		return out
	}
	twoSteps := func(tool, pause string, first, last map[string]any) map[string]any {
		t.Helper()
		a := map[string]any{"step": tool + "-STEP-1", "step_number": 1, "total_steps": 2, "next_step_required": true, "findings": tool + "-FINDING-1",
			"relevant_files": []string{file}, "model": "gpt-5"}
		for k, v := range first {
			a[k] = v
		}
		out := call(tool, a)
		if out["status"] != pause {
			t.Fatalf("%s step 1: %v", tool, out)
		}
		b := map[string]any{"step": tool + "-STEP-2", "step_number": 2, "total_steps": 2, "next_step_required": false, "findings": tool + "-FINDING-2",
			"continuation_id": out["continuation_id"], "model": "gpt-5"}
		for k, v := range last {
			b[k] = v
		}
		return call(tool, b)
	}
	expert := []struct {
		tool, pause, marker string
		first, last         map[string]any
	}{
		{"secaudit", "pause_for_security_audit", "Threat level: high", map[string]any{"threat_level": "high"}, map[string]any{"confidence": "high"}},
		{"analyze", "pause_for_analysis", "Output format: actionable", map[string]any{"output_format": "actionable"}, map[string]any{"confidence": "certain"}},
		{"testgen", "pause_for_test_analysis", "testgen-FINDING-1", nil, map[string]any{"confidence": "high"}},
	}
	for i, tc := range expert {
		out := twoSteps(tc.tool, tc.pause, tc.first, tc.last)
		if out["status"] != "calling_expert_analysis" {
			t.Fatalf("%s final: %v", tc.tool, out)
		}
		reqs := p.requests()
		if len(reqs) != i+1 {
			t.Fatalf("%s: %d provider requests, want %d", tc.tool, len(reqs), i+1)
		}
		body := reqs[i].Body
		if strings.Count(body, "MARKER-IN-ROOT-42") != 1 || !strings.Contains(body, tc.marker) || !strings.Contains(body, tc.tool+"-FINDING-2") {
			t.Errorf("%s expert request:\n%s", tc.tool, body)
		}
	}

	out := twoSteps("refactor", "pause_for_refactoring_analysis", nil, map[string]any{"confidence": "complete"})
	if out["status"] != "refactoring_analysis_complete_ready_for_implementation" {
		t.Fatalf("refactor at complete: %v", out)
	}
	out = call("tracer", map[string]any{"step": "Trace Add.", "step_number": 1, "total_steps": 1, "next_step_required": false, "findings": "Add is a leaf.",
		"trace_mode": "precision", "target_description": "Add", "relevant_files": []string{file}})
	if out["status"] != "tracing_complete" || out["output"].(map[string]any)["format"] != "precision_trace_analysis" {
		t.Fatalf("tracer: %v", out)
	}
	out = call("docgen", map[string]any{"step": "Find files.", "step_number": 1, "total_steps": 1, "next_step_required": true, "findings": "One file.",
		"num_files_documented": 0, "total_files_to_document": 1, "relevant_files": []string{file}})
	out = call("docgen", map[string]any{"step": "Documented calc.go.", "step_number": 2, "total_steps": 2, "next_step_required": false, "findings": "Done.",
		"num_files_documented": 1, "total_files_to_document": 1, "continuation_id": out["continuation_id"]})
	if out["status"] != "documentation_analysis_complete" {
		t.Fatalf("docgen: %v", out)
	}
	if n := len(p.requests()); n != len(expert) {
		t.Errorf("provider got %d requests, want %d (refactor, tracer and docgen call no model)", n, len(expert))
	}
}

// TestWorkflowImageReachesTheProvider: analyze takes `images` as PAL's does; the final step's
// expert call sends the image file, read by the host under the path rules, to the loopback
// provider as an image part, and the reply counts it.
func TestWorkflowImageReachesTheProvider(t *testing.T) {
	w := newWorkspace(t)
	p := newProvider(t)
	cs := start(t, w, p)
	// The smallest valid PNG: signature, IHDR, IDAT and IEND of a 1x1 grey pixel.
	png, _ := base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==")
	shot := filepath.Join(w.root, "src", "diagram.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	res, text := callTool(t, cs, "analyze", map[string]any{"step": "Explain the architecture in the diagram.", "step_number": 1, "total_steps": 1,
		"next_step_required": false, "findings": "calc has one function.", "relevant_files": []string{filepath.Join(w.root, "src", "calc.go")},
		"images": []string{shot}, "model": "gpt-5.2"})
	var out map[string]any
	if err := json.Unmarshal([]byte(text), &out); err != nil || res.IsError || out["status"] != "calling_expert_analysis" {
		t.Fatalf("analyze: isError=%v %v %s", res.IsError, err, text)
	}
	if n := out["analysis_status"].(map[string]any)["images_collected"]; n != 1.0 {
		t.Errorf("images_collected = %v, want 1", n)
	}
	reqs := p.requests()
	if len(reqs) != 1 {
		t.Fatalf("provider got %d requests, want 1", len(reqs))
	}
	if want := "data:image/png;base64," + base64.StdEncoding.EncodeToString(png); strings.Count(reqs[0].Body, want) != 1 {
		t.Fatalf("the expert request does not carry the image once:\n%s", reqs[0].Body)
	}
}
