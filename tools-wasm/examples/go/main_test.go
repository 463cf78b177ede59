// paltest runs only natively; this tag keeps `GOOS=wasip1 go vet` from reading the test.
// Plain `go test` needs no tag.
//go:build !wasip1

package main

import (
	"strings"
	"testing"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/paltest"
)

func newHost() *paltest.Host {
	return &paltest.Host{
		Files: map[string]paltest.File{
			"/w/src/parse.ts": {Content: []byte("export function parse() {}\n// TODO: handle empty input\n")},
			"/w/lib/io.go":    {Content: []byte("package io\n\n// FIXME: close the file\n")},
			"/w/.env":         {Content: []byte("KEY=secret // TODO never read\n")},
		},
		Roots:  []string{"/w"},
		Deny:   []string{".env"},
		Models: []paltest.Model{{Name: "gemini-2.5-flash", Provider: "google"}},
	}
}

func TestFindsAndSummarises(t *testing.T) {
	h := newHost()
	r := h.Invoke(t, "todo_finder", map[string]any{"path": "/w"})
	text := paltest.Text(r)
	if r.IsError || !strings.Contains(text, "/w/src/parse.ts:2: // TODO: handle empty input") || !strings.Contains(text, "/w/lib/io.go:3: // FIXME: close the file") {
		t.Fatalf("result: %s", text)
	}
	if len(h.Generated) != 1 || strings.Contains(h.Generated[0].Prompt, "never read") {
		t.Fatalf("model calls: %+v", h.Generated)
	}
}

func TestRefusedWithoutModelGenerate(t *testing.T) {
	h := newHost()
	h.Grant = []string{pal.CapFSList, pal.CapFSRead}
	r := h.Invoke(t, "todo_finder", map[string]any{"path": "/w"})
	if text := paltest.Text(r); !r.IsError || !strings.Contains(text, "model.generate refused") {
		t.Fatalf("want a refusal, got %v: %s", r.IsError, text)
	}
	if len(h.Generated) != 0 {
		t.Fatalf("the model was called: %+v", h.Generated)
	}
}
