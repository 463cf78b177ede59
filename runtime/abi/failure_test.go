package abi

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestShapeFailure(t *testing.T) {
	text := func(s string) Content { return Content{Type: "text", Text: s} }
	img := Content{Type: "image", Data: "AAAA", MIMEType: "image/png"}
	cases := []struct {
		name    string
		in      []Content
		status  string
		code    string
		content string
		extra   []string // substrings the shaped text must keep
		items   int
	}{
		{"plain text", []Content{text("disk on fire")}, "error", FailToolError, "disk on fire", nil, 1},
		{"two texts and an image", []Content{text("a"), img, text("b")}, "error", FailToolError, "a\nb", nil, 2},
		{"empty", []Content{}, "error", FailToolError, "the tool reported an error without a message", nil, 1},
		{"JSON without status", []Content{text(`{"x":1}`)}, "error", FailToolError, `{"x":1}`, nil, 1},
		{"PAL envelope", []Content{text(`{"status":"error","content":"no model","content_type":"text","metadata":{"requested_model":"x"}}`)},
			"error", FailToolError, "no model", []string{`"requested_model":"x"`}, 1},
		{"resend_prompt", []Content{text(`{"status":"resend_prompt","content":"too long","metadata":{"limit":5},"continuation_offer":null}`)},
			"resend_prompt", FailPromptTooLong, "too long", []string{`"limit":5`, `"continuation_offer":null`}, 1},
		{"workflow failed", []Content{text(`{"status":"debug_failed","error":"step 1 needs findings","step_number":1}`)},
			"debug_failed", FailToolError, "step 1 needs findings", []string{`"step_number":1`, `"error":"step 1 needs findings"`}, 1},
		{"own code kept", []Content{text(Failure("t", FailNotGranted, "no fs.read"))}, "error", FailNotGranted, "no fs.read", nil, 1},
		{"wrong tool name corrected", []Content{text(Failure("other", FailDenied, "x"))}, "error", FailDenied, "x", nil, 1},
		{"host code passed on as text", []Content{text("not_granted: no fs.read")}, "error", FailNotGranted, "not_granted: no fs.read", nil, 1},
		{"upstream passed on as text", []Content{text("upstream: HTTP 503")}, "error", FailProviderError, "upstream: HTTP 503", nil, 1},
		{"invalid is the tool's own error", []Content{text("invalid: bad field")}, "error", FailToolError, "invalid: bad field", nil, 1},
		{"HTML kept", []Content{text("a <b> & c")}, "error", FailToolError, "a <b> & c", []string{"a <b> & c"}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &Result{Content: c.in, IsError: true}
			ShapeFailure("t", r)
			if len(r.Content) != c.items || r.Content[0].Type != "text" {
				t.Fatalf("content = %+v", r.Content)
			}
			status, code, content, tool, ok := ParseFailure(r.Content[0].Text)
			if !ok || status != c.status || code != c.code || content != c.content || tool != "t" {
				t.Fatalf("shaped %s\n= %q %q %q %q %v", r.Content[0].Text, status, code, content, tool, ok)
			}
			if !strings.HasPrefix(r.Content[0].Text, `{"status":`) {
				t.Errorf("status is not the first key: %s", r.Content[0].Text)
			}
			for _, e := range c.extra {
				if !strings.Contains(r.Content[0].Text, e) {
					t.Errorf("lost %s: %s", e, r.Content[0].Text)
				}
			}
			again := *r
			again.Content = append([]Content(nil), r.Content...)
			ShapeFailure("t", &again)
			if again.Content[0].Text != r.Content[0].Text {
				t.Errorf("not idempotent:\n%s\n%s", r.Content[0].Text, again.Content[0].Text)
			}
		})
	}
	ok := &Result{Content: []Content{text("fine")}}
	ShapeFailure("t", ok)
	if ok.Content[0].Text != "fine" {
		t.Fatal("a successful result was changed")
	}
}

func TestFailureIsTheDocumentedShape(t *testing.T) {
	got := Failure("chat", FailBusy, "server busy")
	want := `{"status":"error","code":"busy","content":"server busy","content_type":"text","metadata":{"tool_name":"chat"}}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(got), &v); err != nil {
		t.Fatal(err)
	}
}

func TestFailureCodeFor(t *testing.T) {
	for c, want := range map[Code]string{
		CodeNotGranted: FailNotGranted, CodeDenied: FailDenied, CodeUpstream: FailProviderError, CodeCancelled: FailCancelled,
		CodeInvalid: FailToolError, CodeUnknownOp: FailToolError, CodeOverBudget: FailOverBudget, CodeNotFound: FailNotFound,
	} {
		if got := FailureCodeFor(c); got != want {
			t.Errorf("%s -> %s, want %s", c, got, want)
		}
	}
}
