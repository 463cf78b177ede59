//go:build !wasip1

package workflow

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/embed"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/paltest"
)

// Test tools: a review tool with an expert that needs evidence and skips at "certain", and
// a self-contained planning tool.
var (
	reviewTool = &Tool{
		Name: "wfreview", Title: "Review", Description: "Test review workflow.",
		Fields: []Field{{Name: "focus", Schema: `{"type":"string"}`, Description: "What to focus on."},
			{Name: "depth", Schema: `{"type":"string","enum":["quick","full"]}`, Description: "How deep."},
			{Name: "rounds", Schema: `{"type":"integer"}`, Description: "How many."},
			{Name: "tags", Schema: `{"type":"array","items":{"type":"string"}}`, Description: "Labels."}},
		PathFields: []string{"focus_file"},
		Names:      Names{Pause: "pause_for_review", Progress: "review_status"},
		Validate: func(r *Run) error {
			if r.Current().StepNumber == 1 && len(r.Current().RelevantFiles) == 0 {
				return fmt.Errorf("step 1 needs relevant_files")
			}
			return nil
		},
		Actions: func(r *Run) []string { return []string{"read the callers", "run the tests"} },
		Expert: &Expert{SystemPrompt: "EXPERT-SYSTEM", Instruction: "EXPERT-INSTRUCTION", EmbedFiles: true, NeedsEvidence: true,
			Skip: SkipAt(Certain), SkipStatus: "review_done_skipped", SkipExpertStatus: "skipped_due_to_certain",
			SkipNextSteps: "Apply the fix.",
			Context: func(r *Run) string {
				var x struct {
					Focus string `json:"focus"`
				}
				_ = r.First().DecodeExtra(&x)
				return "=== FOCUS ===\n" + x.Focus
			}},
	}
	planTool = &Tool{Name: "wfplan", Title: "Plan", Description: "Test planning workflow.",
		Omit: []string{FieldFindings, FieldFilesChecked, FieldRelevantContext, FieldConfidence, FieldModel, FieldThinkingMode, FieldUseAssistantModel, FieldImages}}
)

func init() {
	pal.SetModule("workflowtest", "0.0.1")
	Register(reviewTool)
	Register(planTool)
}

const srcA = "package a\n\nfunc A() {}\n"

func newHost() *paltest.Host {
	return &paltest.Host{
		Files: map[string]paltest.File{
			"/p/a.go":      {Content: []byte(srcA)},
			"/p/b.go":      {Content: []byte("package a\n\nfunc B() {}\n")},
			"/p/dir/c.go":  {Content: []byte("package dir\n")},
			"/p/secret.go": {Content: []byte("TOPSECRET")},
		},
		Deny:   []string{"/p/secret.go"},
		Models: []paltest.Model{{Name: "pro", Provider: "google", ContextWindow: 1_000_000, SupportsThinking: true}},
		Reply: func(paltest.GenerateCall) (pal.GenerateResponse, error) {
			return pal.GenerateResponse{Content: "EXPERT SAYS: looks fine", FinishReason: "stop"}, nil
		},
	}
}

type reply map[string]any

func call(t *testing.T, h *paltest.Host, tool string, args map[string]any) (reply, bool) {
	t.Helper()
	r := h.Invoke(t, tool, args)
	var out reply
	if err := json.Unmarshal([]byte(paltest.Text(r)), &out); err != nil {
		t.Fatalf("reply is not JSON: %v\n%s", err, paltest.Text(r))
	}
	return out, r.IsError
}

func step(n, total int, next bool, extra map[string]any) map[string]any {
	a := map[string]any{"step": fmt.Sprintf("step %d text", n), "step_number": n, "total_steps": total,
		"next_step_required": next, "findings": fmt.Sprintf("finding %d", n)}
	for k, v := range extra {
		a[k] = v
	}
	return a
}

func TestSchema(t *testing.T) {
	var s struct {
		Properties           map[string]map[string]any `json:"properties"`
		Required             []string                  `json:"required"`
		AdditionalProperties bool                      `json:"additionalProperties"`
	}
	if err := json.Unmarshal(reviewTool.Schema(), &s); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"step", "step_number", "total_steps", "next_step_required", "findings", "files_checked", "relevant_files",
		"relevant_context", "issues_found", "confidence", "hypothesis", "use_assistant_model", "continuation_id", "images", "model",
		"thinking_mode", "focus"} {
		p, ok := s.Properties[f]
		if !ok {
			t.Errorf("review schema lacks %s", f)
			continue
		}
		if d, _ := p["description"].(string); d == "" {
			t.Errorf("field %s has no description", f)
		}
	}
	if !slices.Equal(s.Required, []string{"step", "step_number", "total_steps", "next_step_required", "findings"}) || s.AdditionalProperties {
		t.Errorf("required = %v, additionalProperties = %v", s.Required, s.AdditionalProperties)
	}
	if enum := s.Properties["confidence"]["enum"].([]any); len(enum) != 7 || enum[6] != "certain" {
		t.Errorf("confidence enum = %v", enum)
	}
	var p struct {
		Properties map[string]any `json:"properties"`
		Required   []string       `json:"required"`
	}
	_ = json.Unmarshal(planTool.Schema(), &p)
	for _, f := range planTool.Omit {
		if _, ok := p.Properties[f]; ok {
			t.Errorf("plan schema keeps omitted %s", f)
		}
	}
	if slices.Contains(p.Required, "findings") {
		t.Errorf("plan requires omitted findings: %v", p.Required)
	}
}

func TestRefusals(t *testing.T) {
	long := strings.Repeat("x", 61)
	for _, tc := range []struct {
		name, tool string
		args       map[string]any
		status     string
		want       string
	}{
		{"unknown field", "wfreview", step(1, 2, true, map[string]any{"relevant_files": []string{"/p/a.go"}, "bogus": 1}), "wfreview_failed", "bogus"},
		{"omitted field", "wfplan", step(1, 2, true, nil), "wfplan_failed", "findings"},
		{"PAL bookkeeping a schema leaves out is accepted", "wfplan", map[string]any{"step": "s", "step_number": 1, "total_steps": 2,
			"next_step_required": true, "files_checked": []string{"/p/a.go"}, "relevant_context": []string{"f"}, "temperature": 0.2, "images": []string{"/p/x.png"}}, "", ""},
		{"missing required", "wfreview", map[string]any{"step": "x", "step_number": 1, "total_steps": 1, "findings": "f"}, "wfreview_failed", "next_step_required is required"},
		{"relative path", "wfreview", step(1, 2, true, map[string]any{"relevant_files": []string{"a.go"}}), "wfreview_failed", "absolute"},
		{"relative path field", "wfreview", step(1, 2, true, map[string]any{"relevant_files": []string{"/p/a.go"}}), "", ""},
		{"bad confidence", "wfreview", step(1, 2, true, map[string]any{"relevant_files": []string{"/p/a.go"}, "confidence": "sure"}), "wfreview_failed", "confidence must be"},
		{"bad severity", "wfreview", step(1, 2, true, map[string]any{"relevant_files": []string{"/p/a.go"}, "issues_found": []map[string]string{{"severity": "huge", "description": "d"}}}), "wfreview_failed", "severity"},
		{"wrong type", "wfreview", step(1, 2, true, map[string]any{"relevant_files": "/p/a.go"}), "wfreview_failed", "relevant_files"},
		{"own field wrong type", "wfreview", step(1, 2, true, map[string]any{"relevant_files": []string{"/p/a.go"}, "focus": 3}), "wfreview_failed", "focus must be of type string"},
		{"own field not in enum", "wfreview", step(1, 2, true, map[string]any{"relevant_files": []string{"/p/a.go"}, "depth": "deep"}), "wfreview_failed", "depth must be one of quick, full"},
		{"own field in enum", "wfreview", step(1, 2, true, map[string]any{"relevant_files": []string{"/p/a.go"}, "depth": "full", "rounds": 2, "tags": []string{"a"}}), "", ""},
		{"own field fraction for integer", "wfreview", step(1, 2, true, map[string]any{"relevant_files": []string{"/p/a.go"}, "rounds": 1.5}), "wfreview_failed", "rounds must be of type integer"},
		{"own field null", "wfreview", step(1, 2, true, map[string]any{"relevant_files": []string{"/p/a.go"}, "focus": nil}), "wfreview_failed", "focus must be of type string"},
		{"own array item type", "wfreview", step(1, 2, true, map[string]any{"relevant_files": []string{"/p/a.go"}, "tags": []any{"a", 1}}), "wfreview_failed", "tags[1] must be of type string"},
		{"tool validation", "wfreview", step(1, 2, true, nil), "wfreview_failed", "step 1 needs relevant_files"},
		{"unknown thread", "wfreview", step(2, 2, false, map[string]any{"continuation_id": "00000000-0000-4000-8000-999999999999"}), "wfreview_failed", "not found"},
		{"step too long", "wfreview", map[string]any{"step": long, "step_number": 1, "total_steps": 1, "next_step_required": true, "findings": "", "relevant_files": []string{"/p/a.go"}}, "resend_prompt", "60"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost()
			h.Info.Limits.PromptChars = 60
			out, isErr := call(t, h, tc.tool, tc.args)
			if tc.status == "" {
				if isErr {
					t.Fatalf("refused: %v", out)
				}
				return
			}
			text, _ := json.Marshal(out)
			if !isErr || out["status"] != tc.status || !strings.Contains(string(text), tc.want) {
				t.Fatalf("want isError %s containing %q, got isError=%v %s", tc.status, tc.want, isErr, text)
			}
			if len(h.Generated) != 0 {
				t.Fatal("a refused step called a model")
			}
		})
	}
}

// TestThreeStepsThenExpert walks a review: two pauses, then the expert call, and checks
// the statuses, the recorded turns and the prompt the model received.
func TestThreeStepsThenExpert(t *testing.T) {
	h := newHost()
	out, isErr := call(t, h, "wfreview", step(1, 3, true, map[string]any{"relevant_files": []string{"/p/a.go"}, "focus": "FOCUS-X",
		"files_checked": []string{"/p/a.go", "/p/b.go"}}))
	if isErr || out["status"] != "pause_for_review" || out["wfreview_required"] != true {
		t.Fatalf("step 1: %v", out)
	}
	id, _ := out["continuation_id"].(string)
	if id == "" || !strings.Contains(out["next_steps"].(string), "step_number 2") || !strings.Contains(out["next_steps"].(string), id) {
		t.Fatalf("step 1 next_steps: %v", out["next_steps"])
	}
	if acts := out["required_actions"].([]any); len(acts) != 2 {
		t.Fatalf("required_actions = %v", acts)
	}
	if fc := out["file_context"].(map[string]any); fc["type"] != "reference_only" {
		t.Fatalf("file_context = %v", fc)
	}
	out, _ = call(t, h, "wfreview", step(2, 3, true, map[string]any{"continuation_id": id, "relevant_files": []string{"/p/a.go", "/p/dir"},
		"issues_found": []map[string]string{{"severity": "HIGH", "description": "nil deref"}}, "hypothesis": "H2", "confidence": "medium"}))
	if out["status"] != "pause_for_review" {
		t.Fatalf("step 2: %v", out)
	}
	st := out["review_status"].(map[string]any)
	if st["relevant_files"] != 2.0 || st["issues_found"] != 1.0 || st["files_checked"] != 2.0 || st["current_confidence"] != "medium" {
		t.Fatalf("review_status = %v", st)
	}
	if len(h.Generated) != 0 {
		t.Fatal("an intermediate step called a model")
	}
	out, isErr = call(t, h, "wfreview", step(3, 3, false, map[string]any{"continuation_id": id, "confidence": "high", "relevant_files": []string{"/p/secret.go"}}))
	if isErr || out["status"] != "calling_expert_analysis" || out["wfreview_complete"] != true {
		t.Fatalf("step 3: %v", out)
	}
	ea := out["expert_analysis"].(map[string]any)
	if ea["raw_analysis"] != "EXPERT SAYS: looks fine" || ea["status"] != "analysis_complete" {
		t.Fatalf("expert_analysis = %v", ea)
	}
	sum := out["complete_wfreview"].(map[string]any)
	if sum["steps_taken"] != 3.0 || sum["initial_request"] != "step 1 text" {
		t.Fatalf("summary = %v", sum)
	}
	if len(h.Generated) != 1 {
		t.Fatalf("model calls = %d, want 1", len(h.Generated))
	}
	g := h.Generated[0]
	if g.System != "EXPERT-SYSTEM" || g.ThinkingMode != "high" || g.Category != "extended" {
		t.Fatalf("call settings: %+v", g)
	}
	for _, want := range []string{"step 1 text", "finding 1", "step 2 text", "finding 2", "finding 3", "Hypothesis: H2", "[HIGH] nil deref",
		"=== FOCUS ===\nFOCUS-X", "--- BEGIN FILE: /p/a.go", "   3│ func A() {}", "--- BEGIN FILE: /p/dir/c.go", "/p/secret.go (access denied", "EXPERT-INSTRUCTION"} {
		if !strings.Contains(g.Prompt, want) {
			t.Errorf("expert prompt lacks %q", want)
		}
	}
	if strings.Count(g.Prompt, "--- BEGIN FILE: /p/a.go") != 1 || strings.Count(g.Prompt, "step 1 text") != 1 {
		t.Errorf("expert prompt repeats a file or the task:\n%s", g.Prompt)
	}
	if strings.Contains(g.Prompt, "TOPSECRET") {
		t.Fatal("a denied file reached the model")
	}
	th, _ := h.Thread(id)
	if len(th.Turns) != 4 || th.Turns[3].Role != "assistant" || th.Turns[3].Model != "pro" {
		t.Fatalf("thread turns: %+v", th.Turns)
	}
	if off, ok := out["continuation_offer"].(map[string]any); !ok || off["continuation_id"] != id || off["remaining_turns"] != 46.0 {
		t.Fatalf("continuation_offer = %v", out["continuation_offer"])
	}
	if nf := out["files_not_included"].([]any); len(nf) != 1 {
		t.Fatalf("files_not_included = %v", nf)
	}
}

func TestFinalStepWithoutExpert(t *testing.T) {
	for _, tc := range []struct {
		name   string
		extra  map[string]any
		status string
	}{
		{"certain skips", map[string]any{"confidence": "certain", "relevant_files": []string{"/p/a.go"}}, "review_done_skipped"},
		{"use_assistant_model false", map[string]any{"use_assistant_model": false, "relevant_files": []string{"/p/a.go"}}, "local_work_complete"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost()
			out, isErr := call(t, h, "wfreview", step(1, 1, false, tc.extra))
			if isErr || out["status"] != tc.status || out["skip_expert_analysis"] != true || len(h.Generated) != 0 {
				t.Fatalf("got %v (model calls %d)", out, len(h.Generated))
			}
		})
	}
	h := newHost()
	out, _ := call(t, h, "wfplan", map[string]any{"step": "plan it", "step_number": 1, "total_steps": 1, "next_step_required": false})
	if out["status"] != "wfplan_complete" || out["wfplan_complete"] != true || len(h.Generated) != 0 {
		t.Fatalf("self-contained: %v", out)
	}
	// The evidence rule needs relevant files, issues or findings in two steps.
	r := &Run{Tool: reviewTool, Steps: []*Step{{StepNumber: 1, Findings: "one"}}}
	if r.HasEvidence() {
		t.Fatal("one finding counts as evidence")
	}
	r.Steps = append(r.Steps, &Step{StepNumber: 2, Findings: "two"})
	if !r.HasEvidence() {
		t.Fatal("two findings do not count as evidence")
	}
}

// TestRunsDoNotShareState interleaves two runs: each expert sees only its own steps.
func TestRunsDoNotShareState(t *testing.T) {
	h := newHost()
	a, _ := call(t, h, "wfreview", step(1, 2, true, map[string]any{"relevant_files": []string{"/p/a.go"}, "findings": "ALPHA"}))
	b, _ := call(t, h, "wfreview", step(1, 2, true, map[string]any{"relevant_files": []string{"/p/b.go"}, "findings": "BETA"}))
	call(t, h, "wfreview", step(2, 2, false, map[string]any{"continuation_id": a["continuation_id"]}))
	call(t, h, "wfreview", step(2, 2, false, map[string]any{"continuation_id": b["continuation_id"]}))
	if len(h.Generated) != 2 {
		t.Fatalf("model calls = %d", len(h.Generated))
	}
	pa, pb := h.Generated[0].Prompt, h.Generated[1].Prompt
	if !strings.Contains(pa, "ALPHA") || strings.Contains(pa, "BETA") || !strings.Contains(pb, "BETA") || strings.Contains(pb, "ALPHA") {
		t.Fatalf("runs mixed:\nA: %s\nB: %s", pa, pb)
	}
	// A new step 1 in the same thread starts a new run: the old run becomes history.
	call(t, h, "wfreview", step(1, 1, false, map[string]any{"continuation_id": a["continuation_id"], "relevant_files": []string{"/p/a.go"}, "findings": "GAMMA"}))
	p := h.Generated[2].Prompt
	if !strings.Contains(p, "=== CONVERSATION HISTORY") || !strings.Contains(p, "ALPHA") || strings.Count(p, "--- BEGIN FILE: /p/a.go") != 1 {
		t.Fatalf("second run in a thread:\n%s", p)
	}
}

// TestContinuesAnotherToolsThread starts a run in a chat conversation: the expert reads
// the chat history once, and a file the history holds is not embedded again.
func TestContinuesAnotherToolsThread(t *testing.T) {
	h := newHost()
	id := h.AddThread("chat", nil,
		pal.Turn{Role: "user", Content: "CHAT-QUESTION", Files: []string{"/p/a.go"}, Tool: "chat"},
		pal.Turn{Role: "assistant", Content: "CHAT-ANSWER", Tool: "chat", Model: "pro", Provider: "google"})
	out, isErr := call(t, h, "wfreview", step(1, 1, false, map[string]any{"continuation_id": id, "relevant_files": []string{"/p/a.go", "/p/b.go"}}))
	if isErr || out["status"] != "calling_expert_analysis" || out["continuation_id"] != id {
		t.Fatalf("got %v", out)
	}
	p := h.Generated[0].Prompt
	for _, w := range []string{"CHAT-QUESTION", "CHAT-ANSWER"} {
		if strings.Count(p, w) != 1 {
			t.Errorf("%s appears %d times", w, strings.Count(p, w))
		}
	}
	if strings.Count(p, "--- BEGIN FILE: /p/a.go") != 1 || strings.Count(p, "--- BEGIN FILE: /p/b.go") != 1 || strings.Count(p, "=== CONVERSATION HISTORY") != 1 {
		t.Errorf("files or history repeated:\n%s", p)
	}
	if h.Generated[0].Resolved != "pro" {
		t.Errorf("model = %s, want the conversation's model", h.Generated[0].Resolved)
	}
}

func TestExpertJSONAndPromotion(t *testing.T) {
	for _, tc := range []struct {
		reply, status string
	}{
		{"```json\n{\"status\":\"review_result\",\"issues\":[]}\n```", "calling_expert_analysis"},
		{`{"status":"files_required_to_continue","files_needed":["/p/z.go"]}`, "files_required_to_continue"},
	} {
		h := newHost()
		h.Reply = func(paltest.GenerateCall) (pal.GenerateResponse, error) {
			return pal.GenerateResponse{Content: tc.reply, FinishReason: "stop"}, nil
		}
		out, _ := call(t, h, "wfreview", step(1, 1, false, map[string]any{"relevant_files": []string{"/p/a.go"}}))
		if out["status"] != tc.status {
			t.Fatalf("reply %q: status %v", tc.reply, out["status"])
		}
		if tc.status == "calling_expert_analysis" && out["expert_analysis"].(map[string]any)["status"] != "review_result" {
			t.Fatalf("JSON not parsed: %v", out["expert_analysis"])
		}
	}
	h := newHost()
	h.Reply = func(paltest.GenerateCall) (pal.GenerateResponse, error) {
		return pal.GenerateResponse{}, fmt.Errorf("provider down")
	}
	out, isErr := call(t, h, "wfreview", step(1, 1, false, map[string]any{"relevant_files": []string{"/p/a.go"}}))
	if isErr || out["status"] != "error" || !strings.Contains(out["content"].(string), "provider down") {
		t.Fatalf("expert failure: %v", out)
	}
}

func TestParseAnalysis(t *testing.T) {
	for _, tc := range []struct{ in, status string }{
		{`{"status":"x"}`, "x"},
		{"text\n```go\nfunc f() {}\n```", "analysis_complete"},
		{"```\n{\"status\":\"y\"}\n```", "y"},
		{"plain", "analysis_complete"},
	} {
		if got := ParseAnalysis(tc.in)["status"]; got != tc.status {
			t.Errorf("%q: status %v, want %s", tc.in, got, tc.status)
		}
	}
}

func TestTurnCap(t *testing.T) {
	h := newHost()
	h.MaxTurns = 3
	out, _ := call(t, h, "wfreview", step(1, 3, true, map[string]any{"relevant_files": []string{"/p/a.go"}}))
	id := out["continuation_id"]
	call(t, h, "wfreview", step(2, 3, true, map[string]any{"continuation_id": id}))
	out, isErr := call(t, h, "wfreview", step(3, 3, false, map[string]any{"continuation_id": id}))
	if !isErr || !strings.Contains(out["error"].(string), "turns") || len(h.Generated) != 0 {
		t.Fatalf("full thread: %v", out)
	}
}

// TestJoinPrompt: the prompt written at its size is strings.Join of the parts with the files
// section in its place, as BuildPrompt built it before §58 (each file's block from
// embed.Block, LineNumbered and Normalize).
func TestJoinPrompt(t *testing.T) {
	mod := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	bodies := [][]byte{[]byte("package a\n\nfunc x() {}\n"), []byte("b"), {}, []byte("a\r\nb\xff\n")}
	var files []embed.File
	var blocks []string
	for i, b := range bodies {
		p := fmt.Sprintf("/src/f%d.go", i)
		files = append(files, embed.PrepareFile(p, mod, b))
		blocks = append(blocks, embed.Block(p, mod, embed.LineNumbered(embed.Normalize(b))))
	}
	tests := []struct {
		parts []string
		at    int
		files []int
	}{
		{[]string{"body"}, -1, nil},
		{[]string{}, -1, nil},
		{[]string{""}, 0, []int{0}},
		{[]string{"history", "body", "", "--- FILES NOT INCLUDED ---", "=== YOUR TASK ===\nx"}, 2, []int{0, 1, 2, 3}},
		{[]string{"body", ""}, 1, []int{1, 3}},
	}
	for i, tt := range tests {
		want := slices.Clone(tt.parts)
		var fs []embed.File
		var bs []string
		for _, j := range tt.files {
			fs, bs = append(fs, files[j]), append(bs, blocks[j])
		}
		if tt.at >= 0 {
			want[tt.at] = "=== FILES ===\n" + strings.Join(bs, "\n") + "\n=== END FILES ==="
		}
		b := joinPrompt(tt.parts, tt.at, fs)
		if got := b.String(); got != strings.Join(want, "\n\n") || b.Len() != len(got) {
			t.Errorf("%d: got %q, want %q", i, got, strings.Join(want, "\n\n"))
		}
		if text, _, _ := readFiles(nil, 0, 0); text != "" {
			t.Errorf("no files read as %q", text)
		}
	}
}
