package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// failTrigger in a prompt makes leakyProvider answer 401 with the key echoed in the body, as
// OpenAI does for a wrong key ("Incorrect API key provided: sk-...").
const failTrigger = "PLEASE-FAIL-WITH-401"

// leakyProvider answers like newProvider, except that a prompt holding failTrigger gets a 401
// whose body, headers and message repeat the Authorization header it received.
func leakyProvider(t *testing.T) *provider {
	p := &provider{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		auth := r.Header.Get("Authorization")
		p.mu.Lock()
		p.reqs = append(p.reqs, recorded{Auth: auth, Body: string(body)})
		n := len(p.reqs)
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(string(body), failTrigger) {
			key := strings.TrimPrefix(auth, "Bearer ")
			w.Header().Set("X-Echo-Authorization", auth)
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":{"message":"Incorrect API key provided: %s. You can find your API key at https://example.invalid/keys (sent %s)","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`, key, auth)
			return
		}
		var req struct {
			Model string `json:"model"`
		}
		json.Unmarshal(body, &req)
		fmt.Fprintf(w, `{"id":"chatcmpl-%d","object":"chat.completion","created":1764000000,"model":%q,
"choices":[{"index":0,"message":{"role":"assistant","content":"answer number %d"},"finish_reason":"stop"}],
"usage":{"prompt_tokens":10,"completion_tokens":3,"total_tokens":13}}`, n, req.Model, n)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// TestKeyNeverLeaks runs a successful chat with a file, a refused file and a chat whose
// provider answers 401 echoing the key, at LOG_LEVEL=DEBUG; then it looks for the key in
// everything pal wrote: the results, its log and its audit log.
func TestKeyNeverLeaks(t *testing.T) {
	w := newWorkspace(t)
	p := leakyProvider(t)
	cs, stderr := startCapturing(t, w, p)

	res, ok := callTool(t, cs, "chat", map[string]any{"prompt": "Review this.", "model": "gpt-5.2",
		"absolute_file_paths": []string{filepath.Join(w.root, "src", "calc.go")}})
	if res.IsError {
		t.Fatalf("chat failed: %s", ok)
	}
	res, refused := callTool(t, cs, "chat", map[string]any{"prompt": "Read the secrets.", "model": "gpt-5.2",
		"absolute_file_paths": []string{filepath.Join(w.root, ".env")}})
	if !res.IsError {
		t.Fatalf(".env was read: %s", refused)
	}
	res, failed := callTool(t, cs, "chat", map[string]any{"prompt": "Now " + failTrigger, "model": "gpt-5.2"})
	if !res.IsError {
		t.Fatalf("the 401 did not fail the call: %s", failed)
	}
	reqs := p.requests()
	if len(reqs) != 2 || !strings.Contains(reqs[1].Body, failTrigger) || reqs[1].Auth != "Bearer "+apiKey {
		t.Fatalf("the provider did not see the failing request with the key (%d requests)", len(reqs))
	}
	for name, text := range map[string]string{"successful result": ok, "refusal": refused, "401 result": failed} {
		if strings.Contains(text, apiKey) {
			t.Errorf("the key is in the %s: %s", name, text)
		}
	}
	if !strings.Contains(strings.ToLower(failed), "401") && !strings.Contains(strings.ToLower(failed), "api key") {
		t.Errorf("the 401 result does not say what went wrong: %s", failed)
	}

	cs.Close() // pal exits: its log and audit log are complete
	log := stderr.String()
	if strings.Contains(log, apiKey) {
		t.Errorf("the key is in the server log")
	}
	if !strings.Contains(log, "401") && !strings.Contains(log, "Incorrect API key") {
		t.Errorf("the server log does not record the 401, so the search above proves little:\n%s", log)
	}
	if !strings.Contains(log, "level=DEBUG") {
		t.Errorf("the server did not log at DEBUG")
	}

	auditPath := filepath.Join(w.stateDir, "state", "pal", "audit.jsonl")
	raw, err := os.ReadFile(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), apiKey) {
		t.Errorf("the key is in the audit log")
	}
	var allowRead, denyRead, generateError bool
	for _, r := range auditRecords(t, w) {
		switch {
		case r["op"] == "fs.read" && r["decision"] == "allow" && r["path"] == "src/calc.go":
			allowRead = true
		case r["op"] == "fs.read" && r["decision"] == "deny" && strings.Contains(fmt.Sprint(r["reason"], r["path"]), ".env"):
			denyRead = true
		case r["op"] == "model.generate" && r["decision"] != "allow":
			generateError = true
		}
		if r["time"] == nil {
			t.Errorf("audit record without a time: %v", r)
		}
		if r["op"] == "client.roots" {
			// A session-level record: what became of the client's roots. It
			// belongs to no tool call, so it names no call_id and no tool.
			continue
		}
		if r["call_id"] == "" || r["tool"] != "chat" {
			t.Errorf("incomplete audit record: %v", r)
		}
	}
	if !allowRead || !denyRead || !generateError {
		t.Errorf("audit log lacks records (fs.read allow %v, fs.read deny %v, model.generate failure %v):\n%s", allowRead, denyRead, generateError, raw)
	}
	fi, err := os.Stat(auditPath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode %v, want 0600 (%v)", fi.Mode().Perm(), err)
	}
}
