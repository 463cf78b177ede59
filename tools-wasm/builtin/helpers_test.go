//go:build !wasip1

package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/paltest"
)

const mainGo = "package main\n\nfunc main() {}\n"

// newHost is a host with a small project, two models and a model that answers "model
// says hi".
func newHost() *paltest.Host {
	return &paltest.Host{
		Files: map[string]paltest.File{
			"/proj/main.go":         {Content: []byte(mainGo)},
			"/proj/util.go":         {Content: []byte("package main\n\nfunc util() {}\n")},
			"/proj/pkg/a.go":        {Content: []byte("package pkg\n")},
			"/proj/pkg/b.py":        {Content: []byte("print('b')\r\n")},
			"/proj/pkg/logo.png":    {Content: []byte("\x89PNG")},
			"/proj/pkg/.hidden.go":  {Content: []byte("package hidden\n")},
			"/proj/secrets/key.pem": {Content: []byte("-----BEGIN PRIVATE KEY-----")},
			"/proj/private/x.go":    {Content: []byte("package private\n")},
			"/proj/prompt.txt":      {Content: []byte("The real question, from prompt.txt.\r\n")},
			"/proj/shot.png":        {Content: []byte("\x89PNG fake image")},
			"/proj/big.log":         {Content: []byte(strings.Repeat("x", 2000))},
		},
		Roots:        []string{"/proj"},
		Deny:         []string{"*.pem", "/proj/private"},
		MaxFileBytes: 1000,
		Models: []paltest.Model{
			{Name: "gemini-2.5-flash", Provider: "google", Aliases: []string{"flash"}, ContextWindow: 1_048_576,
				SupportsThinking: true, SupportsImages: true, SupportsTemperature: true, Score: 10, Description: "Fast and cheap."},
			{Name: "o3", Provider: "openai", Aliases: []string{"o3-full"}, ContextWindow: 200_000, SupportsTemperature: false, Score: 14},
		},
		ProviderNames: map[string]string{"google": "Google Gemini", "openai": "OpenAI", "xai": "X.AI (Grok)"},
		Reply: func(paltest.GenerateCall) (pal.GenerateResponse, error) {
			return pal.GenerateResponse{Content: "model says hi", FinishReason: "stop"}, nil
		},
	}
}

// output is a decoded ToolOutput; Raw keeps the JSON for key checks.
type output struct {
	Status            string                 `json:"status"`
	Content           string                 `json:"content"`
	ContentType       string                 `json:"content_type"`
	Metadata          map[string]any         `json:"metadata"`
	ContinuationOffer *pal.ContinuationOffer `json:"continuation_offer"`
	Raw               map[string]json.RawMessage
	IsError           bool
}

func invoke(t *testing.T, h *paltest.Host, tool string, args any) output {
	t.Helper()
	r := h.Invoke(t, tool, args)
	if len(r.Content) != 1 || r.Content[0].Type != "text" {
		t.Fatalf("want one text item, got %+v", r.Content)
	}
	var out output
	if err := json.Unmarshal([]byte(r.Content[0].Text), &out); err != nil {
		t.Fatalf("reply is not ToolOutput JSON: %v\n%s", err, r.Content[0].Text)
	}
	_ = json.Unmarshal([]byte(r.Content[0].Text), &out.Raw)
	out.IsError = r.IsError
	return out
}

// mustSucceed fails the test unless out is a successful reply.
func mustSucceed(t *testing.T, out output) {
	t.Helper()
	if out.IsError || (out.Status != "success" && out.Status != "continuation_available") {
		t.Fatalf("call failed: %s: %s", out.Status, out.Content)
	}
}

// mustFail fails the test unless out is an isError reply with status and a content that
// contains every one of want.
func mustFail(t *testing.T, out output, status string, want ...string) {
	t.Helper()
	if !out.IsError || out.Status != status || out.ContentType != "text" {
		t.Fatalf("want isError %s, got isError=%v %s: %s", status, out.IsError, out.Status, out.Content)
	}
	for _, w := range want {
		if !strings.Contains(out.Content, w) {
			t.Fatalf("content %q lacks %q", out.Content, w)
		}
	}
}
