package e2e

import (
	"encoding/json"
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
	var chat struct {
		ContinuationOffer *struct {
			ContinuationID string `json:"continuation_id"`
		} `json:"continuation_offer"`
	}
	if err := json.Unmarshal([]byte(text), &chat); err != nil || chat.ContinuationOffer == nil {
		t.Fatalf("chat result: %v %s", err, text)
	}
	id := chat.ContinuationOffer.ContinuationID

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
