package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPrecommitOnARealRepository: precommit through the built binary on a git repository with
// staged, unstaged and untracked changes and two denied files (one staged, one untracked).
// The loopback provider receives the diffs and the new file, never a denied file's content.
func TestPrecommitOnARealRepository(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	w := newWorkspace(t)
	p := newProvider(t)
	repo := filepath.Join(w.root, "repo")
	home := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
			"GIT_AUTHOR_NAME=Ada", "GIT_AUTHOR_EMAIL=ada@example.invalid", "GIT_COMMITTER_NAME=Ada", "GIT_COMMITTER_EMAIL=ada@example.invalid"}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(repo, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	git("init", "-q", "-b", "main")
	write("calc.go", "package calc\n\nfunc Add(a, b int) int { return a + b }\n")
	write("util.go", "package calc\n")
	write("deploy.pem", "old\n")
	git("add", ".")
	git("commit", "-q", "-m", "first")
	write("calc.go", "package calc\n\nfunc Add(a, b int) int { return a + b + STAGED_MARKER_1 }\n")
	write("deploy.pem", "-----BEGIN PRIVATE KEY----- DENIED_STAGED_CANARY\n")
	git("add", "calc.go", "deploy.pem")
	write("util.go", "package calc\n\n// UNSTAGED_MARKER_2\n")
	write("new.go", "package calc\n\n// UNTRACKED_MARKER_3\n")
	write(".env.production", "SECRET=DENIED_UNTRACKED_CANARY\n")

	cs := start(t, w, p)
	res, text := callTool(t, cs, "precommit", map[string]any{"step": "Validate the pending changes.", "step_number": 1, "total_steps": 2,
		"next_step_required": true, "findings": "Starting.", "path": repo, "model": "gpt-5.2"})
	if res.IsError {
		t.Fatalf("precommit step 1: %s", text)
	}
	var step1 struct {
		Status         string `json:"status"`
		ContinuationID string `json:"continuation_id"`
	}
	if err := json.Unmarshal([]byte(text), &step1); err != nil || step1.Status != "pause_for_validation" || step1.ContinuationID == "" {
		t.Fatalf("step 1: %v %s", err, text)
	}
	if n := len(p.requests()); n != 0 {
		t.Fatalf("step 1 called the provider %d times", n)
	}
	res, text = callTool(t, cs, "precommit", map[string]any{"step": "Changes reviewed.", "step_number": 2, "total_steps": 2,
		"next_step_required": false, "findings": "Add changed; util got a comment; a new file.", "confidence": "high",
		"relevant_files": []string{filepath.Join(repo, "calc.go")}, "continuation_id": step1.ContinuationID, "model": "gpt-5.2"})
	if res.IsError {
		t.Fatalf("precommit step 2: %s", text)
	}
	if !strings.Contains(text, "calling_expert_analysis") || !strings.Contains(text, "validation_status") {
		t.Fatalf("step 2: %s", text)
	}
	reqs := p.requests()
	if len(reqs) != 1 {
		t.Fatalf("provider got %d requests, want 1", len(reqs))
	}
	got := reqs[0].Body
	for _, want := range []string{"STAGED_MARKER_1", "UNSTAGED_MARKER_2", "UNTRACKED_MARKER_3", "deploy.pem", "STAGED CHANGES", "UNSTAGED CHANGES"} {
		if !strings.Contains(got, want) {
			t.Errorf("the provider did not receive %q", want)
		}
	}
	for _, leak := range []string{"DENIED_STAGED_CANARY", "DENIED_UNTRACKED_CANARY", "PRIVATE KEY", "MARKER-DOTENV-77", apiKey} {
		if strings.Contains(got, leak) || strings.Contains(text, leak) {
			t.Errorf("%q reached the provider or the client", leak)
		}
	}
	if t.Failed() {
		t.Logf("provider request:\n%s", got)
	}
}
