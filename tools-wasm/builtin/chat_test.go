//go:build !wasip1

package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/paltest"
)

func TestChatNewConversation(t *testing.T) {
	h := newHost()
	out := invoke(t, h, "chat", map[string]any{"prompt": "Explain main", "absolute_file_paths": []string{"/proj/main.go"}})
	mustSucceed(t, out)
	if out.Status != "continuation_available" || out.ContinuationOffer == nil || out.ContinuationOffer.RemainingTurns != 48 ||
		out.ContinuationOffer.ContinuationID == "" || !strings.Contains(out.ContinuationOffer.Note, "48") {
		t.Fatalf("offer %+v", out.ContinuationOffer)
	}
	if out.Content != "model says hi"+agentTurnLine || out.ContentType != "text" {
		t.Fatalf("content %q", out.Content)
	}
	m := out.Metadata
	if m["tool_name"] != "chat" || m["model_used"] != "gemini-2.5-flash" || m["provider_used"] != "google" || m["conversation_ready"] != true {
		t.Fatalf("metadata %v", m)
	}

	if len(h.Generated) != 1 {
		t.Fatalf("%d model calls", len(h.Generated))
	}
	g := h.Generated[0]
	wantBlock := "\n--- BEGIN FILE: /proj/main.go (Last modified: 2026-01-02 03:04:05 UTC) ---\n   1│ package main\n   2│ \n   3│ func main() {}\n--- END FILE: /proj/main.go ---\n"
	for _, w := range []string{"=== USER REQUEST ===\nExplain main\n", "=== CONTEXT FILES ===\n" + wantBlock, "=== END REQUEST ===", "(48 turns left)"} {
		if !strings.Contains(g.Prompt, w) {
			t.Fatalf("prompt lacks %q:\n%s", w, g.Prompt)
		}
	}
	if strings.Contains(g.Prompt, "CONVERSATION HISTORY") {
		t.Fatal("history in a new conversation")
	}
	if g.Category != "fast" || g.Temperature == nil || *g.Temperature != 1.0 || g.ThinkingMode != "medium" || g.Model != "auto" {
		t.Fatalf("generate request %+v", g)
	}
	if strings.HasPrefix(g.System, "LOCALE") || !strings.Contains(g.System, "files_required_to_continue") {
		t.Fatalf("system prompt %q", g.System)
	}

	th, ok := h.Thread(out.ContinuationOffer.ContinuationID)
	if !ok || th.Tool != "chat" || len(th.Turns) != 2 {
		t.Fatalf("thread %+v", th)
	}
	user, asst := th.Turns[0], th.Turns[1]
	if user.Role != "user" || user.Content != "Explain main" || strings.Join(user.Files, ",") != "/proj/main.go" || user.Tool != "chat" {
		t.Fatalf("user turn %+v", user)
	}
	if asst.Role != "assistant" || asst.Content != "model says hi" || asst.Model != "gemini-2.5-flash" || asst.Provider != "google" {
		t.Fatalf("assistant turn %+v", asst)
	}
	if th.InitialContext["prompt"] != "Explain main" || len(th.InitialContext) != 2 {
		t.Fatalf("initial context %v", th.InitialContext)
	}
	if len(h.Progress) != 3 || h.Progress[0].Progress != 1 || h.Progress[2].Message != "done" || h.Progress[1].Total != 3 {
		t.Fatalf("progress %+v", h.Progress)
	}
}

func TestChatLocaleAndSettings(t *testing.T) {
	h := newHost()
	h.Info.Limits.Locale = "de-DE"
	out := invoke(t, h, "chat", map[string]any{"prompt": "Hallo", "model": "o3", "temperature": 0.2, "thinking_mode": "high"})
	mustSucceed(t, out)
	g := h.Generated[0]
	if !strings.HasPrefix(g.System, `LOCALE: write every reply in the language and conventions of locale "de-DE".`) {
		t.Fatalf("system %q", g.System[:80])
	}
	// o3 does not think: no thinking mode is sent.
	if g.Model != "o3" || *g.Temperature != 0.2 || g.ThinkingMode != "" {
		t.Fatalf("generate %+v", g)
	}
}

func TestChatContinuation(t *testing.T) {
	h := newHost()
	first := invoke(t, h, "chat", map[string]any{"prompt": "Explain main", "absolute_file_paths": []string{"/proj/main.go"}})
	mustSucceed(t, first)
	id := first.ContinuationOffer.ContinuationID

	out := invoke(t, h, "chat", map[string]any{"prompt": "And util?", "continuation_id": id,
		"absolute_file_paths": []string{"/proj/main.go", "/proj/util.go"}})
	mustSucceed(t, out)
	if out.ContinuationOffer == nil || out.ContinuationOffer.ContinuationID != id || out.ContinuationOffer.RemainingTurns != 46 {
		t.Fatalf("offer %+v", out.ContinuationOffer)
	}
	p := h.Generated[1].Prompt
	for w, n := range map[string]int{
		"=== CONVERSATION HISTORY (CONTINUATION) ===": 1,
		"Explain main":                                     1, // the earlier question, once
		"model says hi":                                    1, // the earlier answer, once
		"--- BEGIN FILE: /proj/main.go":                    1, // in the history only
		"--- BEGIN FILE: /proj/util.go":                    1,
		"=== USER REQUEST ===\nAnd util?":                  1,
		"   1│ package main\n   2│ \n   3│ func util() {}": 1, // new files are numbered
		"   1│ package main\n   2│ \n   3│ func main() {}": 0, // history files are not
	} {
		if got := strings.Count(p, w); got != n {
			t.Errorf("%q appears %d times, want %d", w, got, n)
		}
	}
	if !strings.Contains(p, "--- NOTE: Additional files referenced in conversation history ---") || !strings.Contains(p, "  - /proj/main.go\n") {
		t.Errorf("no de-dup note:\n%s", p)
	}
	if !strings.Contains(p, "Turn 2/50") || !strings.Contains(p, "This is turn 3 of the conversation.") || !strings.Contains(p, "(46 turns left)") {
		t.Errorf("turn numbers:\n%s", p)
	}
	if strings.Index(p, "=== END CONVERSATION HISTORY ===") > strings.Index(p, "=== USER REQUEST ===") {
		t.Error("history after the request")
	}
	// The conversation's model answers again when none is named.
	if h.Generated[1].Model != "gemini-2.5-flash" {
		t.Errorf("model %q", h.Generated[1].Model)
	}
	th, _ := h.Thread(id)
	if len(th.Turns) != 4 || th.Turns[2].Content != "And util?" || strings.Join(th.Turns[2].Files, ",") != "/proj/main.go,/proj/util.go" {
		t.Fatalf("thread turns %+v", th.Turns)
	}
	if h.CountRequests("thread.create") != 1 {
		t.Fatal("a continuation created a thread")
	}
}

func TestChatContinuationCarriesInitialFiles(t *testing.T) {
	h := newHost()
	first := invoke(t, h, "chat", map[string]any{"prompt": "Explain", "absolute_file_paths": []string{"/proj/pkg"}})
	mustSucceed(t, first)
	out := invoke(t, h, "chat", map[string]any{"prompt": "More", "continuation_id": first.ContinuationOffer.ContinuationID})
	mustSucceed(t, out)
	p := h.Generated[1].Prompt
	if strings.Count(p, "--- BEGIN FILE: /proj/pkg/a.go") != 1 || !strings.Contains(p, "  - /proj/pkg/a.go\n") {
		t.Fatalf("carried files not de-duplicated:\n%s", p)
	}
	th, _ := h.Thread(first.ContinuationOffer.ContinuationID)
	if len(th.Turns[2].Files) != 0 {
		t.Fatalf("carried files recorded as new: %v", th.Turns[2].Files)
	}
}

func TestChatContinuationErrors(t *testing.T) {
	h := newHost()
	out := invoke(t, h, "chat", map[string]any{"prompt": "x", "continuation_id": "00000000-0000-4000-8000-999999999999"})
	mustFail(t, out, "error", "was not found or has expired")

	h = newHost()
	h.MaxTurns = 4
	first := invoke(t, h, "chat", map[string]any{"prompt": "one"})
	if first.ContinuationOffer == nil || first.ContinuationOffer.RemainingTurns != 2 {
		t.Fatalf("offer %+v", first.ContinuationOffer)
	}
	id := first.ContinuationOffer.ContinuationID
	second := invoke(t, h, "chat", map[string]any{"prompt": "two", "continuation_id": id})
	mustSucceed(t, second)
	if second.Status != "success" || string(second.Raw["continuation_offer"]) != "null" {
		t.Fatalf("last exchange: %s %s", second.Status, second.Raw["continuation_offer"])
	}
	if !strings.Contains(h.Generated[1].Prompt, "FINAL EXCHANGE") {
		t.Fatal("the model was not told the conversation ends")
	}
	third := invoke(t, h, "chat", map[string]any{"prompt": "three", "continuation_id": id})
	mustFail(t, third, "error", "4 of its 4 turns")
	if len(h.Generated) != 2 {
		t.Fatal("a full thread reached the model")
	}
}

func TestChatRefusedPathsFailBeforeTheModel(t *testing.T) {
	tests := []struct {
		name  string
		args  map[string]any
		names string // the path the error must name
		why   string
	}{
		{"denied glob", map[string]any{"absolute_file_paths": []string{"/proj/main.go", "/proj/secrets/key.pem"}}, "/proj/secrets/key.pem", "access denied"},
		{"denied directory", map[string]any{"absolute_file_paths": []string{"/proj/private"}}, "/proj/private", "access denied"},
		{"denied file named directly", map[string]any{"absolute_file_paths": []string{"/proj/private/x.go"}}, "/proj/private/x.go", "access denied"},
		{"dot-dot escape", map[string]any{"absolute_file_paths": []string{"/proj/../etc/passwd"}}, "/proj/../etc/passwd", "access denied"},
		{"missing", map[string]any{"absolute_file_paths": []string{"/proj/nope.go"}}, "/proj/nope.go", "no such file"},
		{"too large", map[string]any{"absolute_file_paths": []string{"/proj/big.log"}}, "/proj/big.log", "per-file limit"},
		{"denied prompt.txt", map[string]any{"absolute_file_paths": []string{"/proj/private/prompt.txt"}}, "/proj/private/prompt.txt", "access denied"},
		{"denied image", map[string]any{"images": []string{"/proj/private/shot.png"}}, "/proj/private/shot.png", "access denied"},
		{"missing image", map[string]any{"images": []string{"/proj/none.png"}}, "/proj/none.png", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost()
			tt.args["prompt"] = "look"
			out := invoke(t, h, "chat", tt.args)
			mustFail(t, out, "error", tt.names, tt.why, "Nothing was sent to the model")
			if len(out.Metadata) != 1 || out.Metadata["tool_name"] != "chat" {
				t.Fatalf("metadata %v", out.Metadata)
			}
			if _, ok := out.Raw["continuation_offer"]; ok {
				t.Fatal("an error carries continuation_offer")
			}
			if len(h.Generated) != 0 || h.CountRequests("model.generate") != 0 || h.CountRequests("thread.create") != 0 {
				t.Fatal("the model was called or a thread was created")
			}
		})
	}
}

func TestChatDirectoryExpanded(t *testing.T) {
	h := newHost()
	h.Files["/proj/pkg/huge.go"] = paltest.File{Content: []byte(strings.Repeat("y", 1500))}
	out := invoke(t, h, "chat", map[string]any{"prompt": "review", "absolute_file_paths": []string{"/proj/pkg"}})
	mustSucceed(t, out)
	p := h.Generated[0].Prompt
	a, b := strings.Index(p, "--- BEGIN FILE: /proj/pkg/a.go"), strings.Index(p, "--- BEGIN FILE: /proj/pkg/b.py")
	if a < 0 || b < a || !strings.Contains(p, "   1│ print('b')\n--- END FILE") {
		t.Fatalf("directory files missing or out of order:\n%s", p)
	}
	if strings.Contains(p, "yyyy") || strings.Contains(p, "BEGIN FILE: /proj/pkg/logo.png") || strings.Contains(p, "BEGIN FILE: /proj/pkg/.hidden.go") {
		t.Fatal("non-source or hidden file embedded")
	}
	if !strings.Contains(p, "--- SKIPPED FILES (OVER THE PER-FILE LIMIT) ---\n  - /proj/pkg/huge.go") {
		t.Fatalf("oversize file not noted:\n%s", p)
	}
	if h.CountRequests("fs.read /proj/pkg/huge.go") != 0 || h.CountRequests("fs.list /proj/pkg ok") != 1 {
		t.Fatalf("requests %v", h.Requests)
	}
	th, _ := h.Thread(out.ContinuationOffer.ContinuationID)
	if strings.Join(th.Turns[0].Files, ",") != "/proj/pkg/a.go,/proj/pkg/b.py" {
		t.Fatalf("recorded files %v", th.Turns[0].Files)
	}
}

func TestChatPromptTxt(t *testing.T) {
	h := newHost()
	h.Info.Limits.PromptChars = 10 // prompt.txt is how long prompts travel: it is not held to the limit
	out := invoke(t, h, "chat", map[string]any{"prompt": "", "absolute_file_paths": []string{"/proj/prompt.txt", "/proj/main.go"}})
	mustSucceed(t, out)
	p := h.Generated[0].Prompt
	if !strings.HasPrefix(p, "=== USER REQUEST ===\nThe real question, from prompt.txt.\n") || strings.Contains(p, "BEGIN FILE: /proj/prompt.txt") ||
		!strings.Contains(p, "BEGIN FILE: /proj/main.go") {
		t.Fatalf("prompt:\n%s", p)
	}
	th, _ := h.Thread(out.ContinuationOffer.ContinuationID)
	if th.Turns[0].Content != "The real question, from prompt.txt.\n" || strings.Join(th.Turns[0].Files, ",") != "/proj/main.go" {
		t.Fatalf("user turn %+v", th.Turns[0])
	}

	out = invoke(t, newHost(), "chat", map[string]any{"prompt": "  "})
	mustFail(t, out, "error", "prompt is empty")
}

func TestChatPromptSizeLimit(t *testing.T) {
	for _, n := range []int{100, 101} {
		h := newHost()
		h.Info.Limits.PromptChars = 100
		// Multi-byte characters: the limit counts characters, not bytes.
		out := invoke(t, h, "chat", map[string]any{"prompt": strings.Repeat("é", n)})
		if n == 100 {
			mustSucceed(t, out)
			continue
		}
		mustFail(t, out, "resend_prompt", "prompt.txt", "100 characters")
		if out.Metadata["prompt_size"] != float64(101) || out.Metadata["limit"] != float64(100) || out.Metadata["instructions"] == "" {
			t.Fatalf("metadata %v", out.Metadata)
		}
		if string(out.Raw["continuation_offer"]) != "null" {
			t.Fatalf("continuation_offer %s", out.Raw["continuation_offer"])
		}
		if len(h.Generated) != 0 || h.CountRequests("fs.") != 0 {
			t.Fatal("work done for an oversized prompt")
		}
	}
}

func TestChatArgumentErrors(t *testing.T) {
	tests := []struct {
		name string
		args string
		want string
	}{
		{"missing prompt", `{}`, "prompt is required"},
		{"unknown argument", `{"prompt":"x","files":["/a"]}`, `unknown argument "files"`},
		{"prompt not a string", `{"prompt":5}`, "argument prompt has a number where a string is expected"},
		{"temperature too high", `{"prompt":"x","temperature":1.5}`, "temperature must be between 0 and 1"},
		{"temperature negative", `{"prompt":"x","temperature":-0.1}`, "temperature must be between 0 and 1"},
		{"thinking mode", `{"prompt":"x","thinking_mode":"huge"}`, "thinking_mode must be one of"},
		{"relative path", `{"prompt":"x","absolute_file_paths":["proj/main.go"]}`, "Relative paths are not supported. Please provide an absolute path.\nReceived: proj/main.go"},
		{"tilde path", `{"prompt":"x","absolute_file_paths":["~/main.go"]}`, "Received: ~/main.go"},
		{"empty path", `{"prompt":"x","absolute_file_paths":[""]}`, "Relative paths are not supported"},
		{"relative image", `{"prompt":"x","images":["shot.png"]}`, "Relative paths are not supported"},
		{"image type", `{"prompt":"x","images":["/proj/shot.bmp"]}`, "not a supported image"},
		{"bad data URL", `{"prompt":"x","images":["data:text/plain;base64,AA=="]}`, "data:image/"},
		{"bad base64", `{"prompt":"x","images":["data:image/png;base64,@@@"]}`, "valid base64"},
		{"six images", `{"prompt":"x","images":["/a.png","/b.png","/c.png","/d.png","/e.png","/f.png"]}`, "too many images"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost()
			out := invoke(t, h, "chat", jsonRaw(tt.args))
			mustFail(t, out, "error", tt.want)
			if len(h.Generated) != 0 || h.CountRequests("fs.") != 0 {
				t.Fatal("work done for bad arguments")
			}
		})
	}
}

func TestChatModelFailures(t *testing.T) {
	h := newHost()
	out := invoke(t, h, "chat", map[string]any{"prompt": "x", "model": "gpt-9"})
	mustFail(t, out, "error", "gpt-9", "available models")
	if out.Metadata["requested_model"] != "gpt-9" || len(h.Generated) != 0 {
		t.Fatalf("metadata %v", out.Metadata)
	}

	h = newHost()
	h.Reply = func(paltest.GenerateCall) (pal.GenerateResponse, error) {
		return pal.GenerateResponse{}, errors.New("provider returned 503 after 4 attempts")
	}
	out = invoke(t, h, "chat", map[string]any{"prompt": "x"})
	mustFail(t, out, "error", "gemini-2.5-flash", "503")
	if h.CountRequests("thread.create") != 0 {
		t.Fatal("a failed call created a thread")
	}

	// An empty reply after a normal finish is retried once.
	h = newHost()
	calls := 0
	h.Reply = func(paltest.GenerateCall) (pal.GenerateResponse, error) {
		calls++
		if calls == 1 {
			return pal.GenerateResponse{Content: " ", FinishReason: "STOP"}, nil
		}
		return pal.GenerateResponse{Content: "second try", FinishReason: "stop"}, nil
	}
	out = invoke(t, h, "chat", map[string]any{"prompt": "x"})
	mustSucceed(t, out)
	if calls != 2 || !strings.HasPrefix(out.Content, "second try") || !strings.HasSuffix(h.Generated[1].Prompt, emptyReplyRetry) {
		t.Fatalf("retry: %d calls, %q", calls, out.Content)
	}

	// A safety block is not retried.
	h = newHost()
	h.Reply = func(paltest.GenerateCall) (pal.GenerateResponse, error) {
		return pal.GenerateResponse{FinishReason: "SAFETY"}, nil
	}
	out = invoke(t, h, "chat", map[string]any{"prompt": "x"})
	mustFail(t, out, "error", "content safety policy")
	if len(h.Generated) != 1 {
		t.Fatalf("%d calls", len(h.Generated))
	}
}

func TestChatImages(t *testing.T) {
	h := newHost()
	imgs := []string{"/proj/shot.png", "data:image/png;base64,iVBORw0KGgo="}
	out := invoke(t, h, "chat", map[string]any{"prompt": "what is this", "images": imgs})
	mustSucceed(t, out)
	if strings.Join(h.Generated[0].Images, ",") != strings.Join(imgs, ",") {
		t.Fatalf("images %v", h.Generated[0].Images)
	}
	th, _ := h.Thread(out.ContinuationOffer.ContinuationID)
	if len(th.Turns[0].Images) != 2 {
		t.Fatalf("images not recorded: %+v", th.Turns[0])
	}

	h = newHost()
	out = invoke(t, h, "chat", map[string]any{"prompt": "x", "model": "o3", "images": imgs})
	mustFail(t, out, "error", "does not accept images")
	if len(h.Generated) != 0 {
		t.Fatal("model called")
	}
}

func TestChatWithoutOptionalCapabilities(t *testing.T) {
	h := newHost()
	h.Grant = []string{pal.CapFSRead, pal.CapFSList, pal.CapModelGenerate} // no host.info, threads or progress
	out := invoke(t, h, "chat", map[string]any{"prompt": "x", "absolute_file_paths": []string{"/proj/main.go"}})
	mustSucceed(t, out)
	if out.Status != "success" || out.Metadata["conversation_ready"] != false || string(out.Raw["continuation_offer"]) != "null" {
		t.Fatalf("got %s %v %s", out.Status, out.Metadata, out.Raw["continuation_offer"])
	}
	out = invoke(t, h, "chat", map[string]any{"prompt": "x", "continuation_id": "00000000-0000-4000-8000-000000000001"})
	mustFail(t, out, "error", "Cannot read conversation thread")
}

func TestChatFileBudget(t *testing.T) {
	h := newHost()
	h.MaxFileBytes = 100_000
	h.Models = []paltest.Model{{Name: "tiny", Provider: "custom", ContextWindow: 10_000}}
	// 10,000 tokens: content 6,000, files 1,800, so new files get 1,000 tokens (~4,000 bytes).
	h.Files["/proj/large.go"] = paltest.File{Content: []byte(strings.Repeat("// filler line\n", 400))}
	out := invoke(t, h, "chat", map[string]any{"prompt": "x", "absolute_file_paths": []string{"/proj/large.go", "/proj/main.go"}})
	mustSucceed(t, out)
	p := h.Generated[0].Prompt
	if strings.Contains(p, "BEGIN FILE: /proj/large.go") || !strings.Contains(p, "BEGIN FILE: /proj/main.go") ||
		!strings.Contains(p, "--- SKIPPED FILES (TOKEN LIMIT) ---\nTotal skipped: 1\n  - /proj/large.go") {
		t.Fatalf("prompt:\n%s", p)
	}
	th, _ := h.Thread(out.ContinuationOffer.ContinuationID)
	if strings.Join(th.Turns[0].Files, ",") != "/proj/main.go" {
		t.Fatalf("recorded %v", th.Turns[0].Files)
	}
}

func TestIsAbsolute(t *testing.T) {
	for p, want := range map[string]bool{
		"/a": true, `C:\x`: true, "c:/x": true, `\\srv\share`: true,
		"": false, "a/b": false, "~/a": false, "~": false, "./a": false, "C:": false, "1:/x": false, `\a`: false,
	} {
		if isAbsolute(p) != want {
			t.Errorf("isAbsolute(%q) != %v", p, want)
		}
	}
}

// FuzzIsAbsolute: nothing that starts with "~" or "." is absolute, and an absolute path
// starts with a separator or a drive letter.
func FuzzIsAbsolute(f *testing.F) {
	for _, s := range []string{"/a", "~/x", `C:\`, `\\s`, "", "a:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if !isAbsolute(p) {
			return
		}
		if strings.HasPrefix(p, "~") || strings.HasPrefix(p, ".") {
			t.Fatalf("%q judged absolute", p)
		}
		if !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, `\\`) && !(len(p) >= 3 && p[1] == ':') {
			t.Fatalf("%q judged absolute", p)
		}
	})
}

// FuzzChatArguments: whatever the arguments, chat answers with a result the runtime
// accepts, and a request naming a relative path never reaches the model.
func FuzzChatArguments(f *testing.F) {
	for _, s := range []string{`{"prompt":"hi"}`, `{"prompt":"x","absolute_file_paths":["/proj/main.go"]}`, `{}`, `{"prompt":null}`,
		`{"prompt":"x","images":["data:image/png;base64,AA=="]}`, `{"prompt":"x","continuation_id":"zz"}`, `{"prompt":"x","temperature":0.5}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, args string) {
		h := newHost()
		out := h.Invoke(t, "chat", jsonRaw(args))
		if !out.IsError && strings.Contains(args, `"absolute_file_paths":["proj`) {
			t.Fatalf("relative path accepted: %s", args)
		}
	})
}
