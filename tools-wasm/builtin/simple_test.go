//go:build !wasip1

package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/paltest"
)

func TestChallengeAndAPILookup(t *testing.T) {
	for _, tc := range []struct {
		tool, status, key string
		want              []string
	}{
		{"challenge", "challenge_accepted", "challenge_prompt", []string{"do not agree by reflex", `"You are wrong about the lock"`}},
		{"apilookup", "web_lookup_needed", "instructions", []string{"official", "Do not call apilookup again"}},
	} {
		t.Run(tc.tool, func(t *testing.T) {
			h := newHost()
			r := h.Invoke(t, tc.tool, map[string]any{"prompt": "You are wrong about the lock"})
			var out map[string]any
			if err := json.Unmarshal([]byte(paltest.Text(r)), &out); err != nil || r.IsError {
				t.Fatalf("reply %s", paltest.Text(r))
			}
			text, _ := out[tc.key].(string)
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("%s lacks %q: %s", tc.key, w, text)
				}
			}
			if out["status"] != tc.status || len(h.Generated) != 0 || !slices.Equal(h.Requests, []string{"host.info ok"}) {
				t.Fatalf("status %v, host requests %v", out["status"], h.Requests)
			}
			if tc.tool == "apilookup" && out["user_prompt"] != "You are wrong about the lock" {
				t.Fatalf("user_prompt %v", out["user_prompt"])
			}
			for _, bad := range []any{map[string]any{"prompt": " "}, map[string]any{}, map[string]any{"prompt": "x", "extra": 1}} {
				if r := h.Invoke(t, tc.tool, bad); !r.IsError || !strings.Contains(paltest.Text(r), `"status":"error"`) {
					t.Errorf("%v accepted: %s", bad, paltest.Text(r))
				}
			}
		})
	}
}

func TestChatRefusesWorkingDirectory(t *testing.T) {
	h := newHost()
	out := invoke(t, h, "chat", map[string]any{"prompt": "write me a file", "working_directory_absolute_path": "/proj"})
	mustFail(t, out, "error", "working_directory_absolute_path is not supported", "never writes files")
	if len(h.Generated) != 0 {
		t.Fatal("a refused call reached the model")
	}
	mustSucceed(t, invoke(t, h, "chat", map[string]any{"prompt": "hi", "working_directory_absolute_path": ""}))
}
