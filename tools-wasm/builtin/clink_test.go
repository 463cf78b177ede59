//go:build !wasip1

package main

import (
	"strings"
	"testing"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/paltest"
)

// clinkHost is newHost with two configured CLIs; the program answers with Gemini CLI's JSON.
func clinkHost(reply string) *paltest.Host {
	h := newHost()
	h.CLIs = []pal.CLIInfo{{Name: "codex"}, {Name: "gemini", AllowedArgs: []string{"--model"}}}
	h.RunCLI = func(abi.CLIRunRequest, []byte) (pal.CLIResult, string, error) {
		return pal.CLIResult{ExitCode: 0, DurationMS: 1500}, reply, nil
	}
	return h
}

func TestClinkRefusals(t *testing.T) {
	tests := []struct {
		name string
		host func() *paltest.Host
		args map[string]any
		want []string
	}{
		{"cli.run not granted", func() *paltest.Host {
			h := clinkHost("")
			h.Grant = []string{pal.CapFSRead, pal.CapThreadRead, pal.CapThreadWrite, pal.CapHostInfo}
			return h
		}, map[string]any{"prompt": "hi"}, []string{"not enabled", "cli.run", "Nothing was run"}},
		{"no [[cli]]", func() *paltest.Host { return newHost() }, map[string]any{"prompt": "hi"}, []string{"no [[cli]]", "configured: none"}},
		{"unknown CLI", func() *paltest.Host { return clinkHost("") }, map[string]any{"prompt": "hi", "cli_name": "claude"},
			[]string{"'claude' is not configured", "configured: codex, gemini"}},
		{"unknown role", func() *paltest.Host { return clinkHost("") }, map[string]any{"prompt": "hi", "role": "boss"},
			[]string{"default, planner, codereviewer"}},
		{"empty prompt", func() *paltest.Host { return clinkHost("") }, map[string]any{"prompt": " "}, []string{"prompt is empty"}},
		{"relative path", func() *paltest.Host { return clinkHost("") }, map[string]any{"prompt": "hi", "absolute_file_paths": []string{"main.go"}},
			[]string{"Relative paths"}},
		{"image data URL", func() *paltest.Host { return clinkHost("") },
			map[string]any{"prompt": "hi", "images": []string{"data:image/png;base64," + strings.Repeat("QUFB", 5000)}},
			[]string{"cannot pass an image data URL", "absolute path", "Nothing was run"}},
		{"denied file", func() *paltest.Host { return clinkHost("") }, map[string]any{"prompt": "hi", "absolute_file_paths": []string{"/proj/secrets/key.pem"}},
			[]string{"/proj/secrets/key.pem", "access denied"}},
		{"argument the host refuses", func() *paltest.Host {
			h := clinkHost("")
			h.RunCLI = func(abi.CLIRunRequest, []byte) (pal.CLIResult, string, error) {
				return pal.CLIResult{}, "", &pal.HostError{Code: pal.CodeDenied, Message: `argument "--yolo" is not in the allowed_args of CLI "gemini"`}
			}
			return h
		}, map[string]any{"prompt": "hi", "args": []string{"--yolo"}}, []string{"did not run", "--yolo", "allowed_args"}},
		// args comes from the client: no spelling of an unlisted flag gets through.
		{"auto-approve flag with a value", func() *paltest.Host { return clinkHost("") },
			map[string]any{"prompt": "hi", "args": []string{"--yolo=true"}}, []string{"did not run", `"--yolo=true"`, "allowed_args"}},
		{"flag and value in one argument", func() *paltest.Host { return clinkHost("") },
			map[string]any{"prompt": "hi", "args": []string{"--model pro"}}, []string{"did not run", `"--model pro"`, "allowed_args"}},
		{"newline smuggling a flag", func() *paltest.Host { return clinkHost("") },
			map[string]any{"prompt": "hi", "args": []string{"--model\n--yolo"}}, []string{"did not run", `"--model\n--yolo"`}},
		{"non-zero exit", func() *paltest.Host {
			h := clinkHost("")
			h.RunCLI = func(abi.CLIRunRequest, []byte) (pal.CLIResult, string, error) {
				return pal.CLIResult{ExitCode: 3, Stderr: "boom"}, "not json", nil
			}
			return h
		}, map[string]any{"prompt": "hi"}, []string{"exited with status 3"}},
		{"timeout", func() *paltest.Host {
			h := clinkHost("")
			h.RunCLI = func(abi.CLIRunRequest, []byte) (pal.CLIResult, string, error) {
				return pal.CLIResult{ExitCode: -1, TimedOut: true, DurationMS: 300_000}, "partial", nil
			}
			return h
		}, map[string]any{"prompt": "hi"}, []string{"timed out after 300 seconds"}},
		{"empty reply", func() *paltest.Host { return clinkHost(`{"response": ""}`) }, map[string]any{"prompt": "hi"}, []string{"returned no reply"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.host()
			out := invoke(t, h, "clink", tt.args)
			mustFail(t, out, "error", tt.want...)
			if strings.Contains(out.Content, "QUFBQUFB") {
				t.Fatalf("the refusal echoed the image data: %d bytes", len(out.Content))
			}
			if tt.name != "argument the host refuses" && tt.name != "non-zero exit" && tt.name != "timeout" && tt.name != "empty reply" && len(h.CLIRuns) != 0 {
				t.Fatalf("the program ran: %+v", h.CLIRuns)
			}
		})
	}
}

func TestClinkRunsAndContinues(t *testing.T) {
	h := clinkHost(`{"response": "gemini says hi <SUMMARY>short</SUMMARY>", "stats": {"models": {"gemini-2.5-pro": {}}}}`)
	out := invoke(t, h, "clink", map[string]any{"prompt": "Review the parser.", "role": "codereviewer",
		"absolute_file_paths": []string{"/proj/main.go", "/proj/pkg"}, "args": []string{"--model"}})
	mustSucceed(t, out)
	if out.Status != "continuation_available" || out.ContinuationOffer == nil || out.ContinuationOffer.ContinuationID == "" {
		t.Fatalf("no continuation offer: %+v", out)
	}
	if !strings.HasPrefix(out.Content, "gemini says hi") || out.Metadata["cli_name"] != "gemini" || out.Metadata["role"] != "codereviewer" ||
		out.Metadata["parser"] != "gemini_json" || out.Metadata["model_used"] != "gemini-2.5-pro" {
		t.Fatalf("reply: %+v", out)
	}
	if len(h.CLIRuns) != 1 {
		t.Fatalf("runs: %d", len(h.CLIRuns))
	}
	run := h.CLIRuns[0]
	if run.Request.Name != "gemini" || len(run.Request.Args) != 1 || run.Request.Args[0] != "--model" {
		t.Fatalf("request %+v", run.Request)
	}
	for _, want := range []string{"code reviewer", "<SUMMARY>", "=== USER REQUEST ===\nReview the parser.", "=== FILE REFERENCES ===",
		"- /proj/main.go (last modified ", "- /proj/pkg (directory)"} {
		if !strings.Contains(run.Stdin, want) {
			t.Errorf("stdin lacks %q:\n%s", want, run.Stdin)
		}
	}
	if strings.Contains(run.Stdin, "func main") {
		t.Error("a referenced file was embedded")
	}

	// The continuation carries the first exchange to the program and names codex.
	h.RunCLI = func(abi.CLIRunRequest, []byte) (pal.CLIResult, string, error) {
		return pal.CLIResult{}, `{"type":"item.completed","item":{"type":"agent_message","text":"codex agrees"}}` + "\n" + `{"type":"turn.completed"}`, nil
	}
	out2 := invoke(t, h, "clink", map[string]any{"prompt": "And the lexer?", "cli_name": "codex", "continuation_id": out.ContinuationOffer.ContinuationID})
	mustSucceed(t, out2)
	if !strings.HasPrefix(out2.Content, "codex agrees") || out2.Metadata["parser"] != "codex_jsonl" || out2.ContinuationOffer.ContinuationID != out.ContinuationOffer.ContinuationID {
		t.Fatalf("continuation reply: %+v", out2)
	}
	stdin := h.CLIRuns[1].Stdin
	for _, want := range []string{"CONVERSATION HISTORY", "Review the parser.", "gemini says hi", "And the lexer?", "package main"} {
		if !strings.Contains(stdin, want) {
			t.Errorf("continuation stdin lacks %q:\n%s", want, stdin)
		}
	}
	if !strings.Contains(stdin, "You are an AI coding agent") {
		t.Error("default role prompt missing")
	}
}

func TestClinkNoOfferOnLastExchange(t *testing.T) {
	h := clinkHost("plain text answer")
	h.MaxTurns = 2
	out := invoke(t, h, "clink", map[string]any{"prompt": "hi"})
	mustSucceed(t, out)
	if out.Status != "success" || string(out.Raw["continuation_offer"]) != "null" || out.Metadata["parser"] != "text" {
		t.Fatalf("want no offer: %s %s", out.Status, out.Raw["continuation_offer"])
	}
}

func TestParseCLIOutput(t *testing.T) {
	tests := []struct{ out, content, parser, model string }{
		{`{"response":"hi","stats":{"models":{"m1":{}}}}`, "hi", "gemini_json", "m1"},
		{`{"type":"result","result":"done","model":"sonnet"}`, "done", "claude_json", "sonnet"},
		{`[{"type":"system"},{"type":"result","result":"ev"}]`, "ev", "claude_json", ""},
		{"{\"type\":\"item.completed\",\"item\":{\"type\":\"agent_message\",\"text\":\"a\"}}\n{\"type\":\"item.completed\",\"item\":{\"type\":\"agent_message\",\"text\":\"b\"}}", "a\n\nb", "codex_jsonl", ""},
		{"{\"type\":\"turn.completed\"}\nnot json", "{\"type\":\"turn.completed\"}\nnot json", "text", ""},
		{"  just text\n", "just text", "text", ""},
		{`{"other":1}`, `{"other":1}`, "text", ""},
	}
	for _, tt := range tests {
		c, p, m := parseCLIOutput(tt.out)
		if c != tt.content || p != tt.parser || m != tt.model {
			t.Errorf("parseCLIOutput(%q) = %q, %q, %q", tt.out, c, p, m)
		}
	}
}

func TestLimitCLIOutput(t *testing.T) {
	long := strings.Repeat("é", clinkMaxChars+1)
	meta := map[string]any{}
	if got := limitCLIOutput("g", "short", meta); got != "short" || len(meta) != 0 {
		t.Fatalf("short reply changed: %q %v", got, meta)
	}
	got := limitCLIOutput("g", long+"<SUMMARY> the gist </SUMMARY>", meta)
	if got != "the gist" || meta["output_summarized"] != true {
		t.Fatalf("summary: %q %v", got, meta)
	}
	meta = map[string]any{}
	got = limitCLIOutput("g", long, meta)
	if meta["output_truncated"] != true || !strings.Contains(got, "produced 20001 characters") ||
		!strings.HasSuffix(got, strings.Repeat("é", clinkExcerptChars)) || strings.HasSuffix(got, strings.Repeat("é", clinkExcerptChars+1)) {
		t.Fatalf("truncated: %v %q", meta, got[:200])
	}
}

// TestClinkPromptFile: a prompt.txt in absolute_file_paths is the prompt (not held to the
// limit), and is not named to the CLI as a file.
func TestClinkPromptFile(t *testing.T) {
	h := clinkHost("ok")
	h.Info.Limits.PromptChars = 10
	out := invoke(t, h, "clink", map[string]any{"prompt": "see file", "absolute_file_paths": []string{"/proj/main.go", "/proj/prompt.txt"}})
	mustSucceed(t, out)
	stdin := h.CLIRuns[0].Stdin
	if !strings.Contains(stdin, "The real question, from prompt.txt.") || strings.Contains(stdin, "see file") ||
		strings.Contains(stdin, "- /proj/prompt.txt") || !strings.Contains(stdin, "- /proj/main.go") {
		t.Fatalf("stdin:\n%s", stdin)
	}
}
