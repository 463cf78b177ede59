package hostfns

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/memory"
	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/policy/secrets"
	"github.com/pal-mcp/pal/runtime/abi"
)

// The canary a denied file holds: it must never reach a reply.
const gitCanary = "PAL-DENIED-CANARY-5e1f"

// gitFixture is an allowed root holding a repository with a commit and then staged, unstaged
// and untracked changes, some of them to denied files.
type gitFixture struct {
	*fixture
	repo string
	home string // HOME of the test's own git commands
}

func needGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
}

// git runs the test's own git (not the host's) in dir with a clean, private configuration.
func (g *gitFixture) git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := g.gitErr(dir, args...)
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return out
}

func (g *gitFixture) gitErr(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + g.home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=Ada", "GIT_AUTHOR_EMAIL=ada@example.invalid", "GIT_COMMITTER_NAME=Ada", "GIT_COMMITTER_EMAIL=ada@example.invalid"}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func newGitFixture(t *testing.T) *gitFixture {
	t.Helper()
	needGit(t)
	g := &gitFixture{fixture: newFixture(t), home: t.TempDir()}
	g.repo = filepath.Join(g.root, "repo")
	w := func(name, content string) { writeFile(t, filepath.Join(g.repo, name), content) }
	w("a.txt", "alpha\n")
	w("b.txt", "bravo\n")
	w("server.pem", "old pem\n")
	g.git(t, g.root, "init", "-q", "-b", "main", "repo")
	g.git(t, g.repo, "add", ".")
	g.git(t, g.repo, "commit", "-q", "-m", "first")
	w("a.txt", "alpha\nstaged line\n")
	w("server.pem", "-----BEGIN "+gitCanary+"-----\n")
	g.git(t, g.repo, "add", "a.txt", "server.pem")
	w("b.txt", "bravo\nunstaged line\n")
	w("c.txt", "charlie, untracked\n")
	w(".env.local", "TOKEN="+gitCanary+"\n")
	return g
}

func (g *gitFixture) gitCall() *Call { return g.call(abi.CapGitRead) }

func change(r reply, list, path string) map[string]any {
	items, _ := r.result[list].([]any)
	for _, it := range items {
		m := it.(map[string]any)
		if m["path"] == path {
			return m
		}
	}
	return nil
}

func TestGitStatus(t *testing.T) {
	g := newGitFixture(t)
	r := do(t, g.gitCall(), abi.GitStatusRequest{Op: abi.OpGitStatus, Path: g.repo}, nil)
	if r.err != nil {
		t.Fatalf("git.status: %v", r.err)
	}
	if r.result["branch"] != "main" || len(r.result["head"].(string)) != 40 {
		t.Errorf("branch %v head %v", r.result["branch"], r.result["head"])
	}
	p := func(n string) string { return filepath.Join(g.repo, n) }
	tests := []struct {
		list, path, status string
		denied             bool
	}{
		{"staged", p("a.txt"), "M", false},
		{"staged", p("server.pem"), "M", true},
		{"unstaged", p("b.txt"), "M", false},
		{"untracked", p("c.txt"), "?", false},
		{"untracked", p(".env.local"), "?", true},
	}
	for _, tt := range tests {
		m := change(r, tt.list, tt.path)
		if m == nil {
			t.Errorf("%s lacks %s: %v", tt.list, tt.path, r.result[tt.list])
			continue
		}
		if m["status"] != tt.status || (m["denied"] != nil) != tt.denied {
			t.Errorf("%s %s: %v", tt.list, tt.path, m)
		}
	}
	if change(r, "unstaged", p("a.txt")) != nil || change(r, "staged", p("b.txt")) != nil {
		t.Errorf("staged and unstaged mixed up: %v", r.result)
	}
	// A subdirectory finds the same repository.
	writeFile(t, p("sub/d.txt"), "delta\n")
	r = do(t, g.gitCall(), abi.GitStatusRequest{Op: abi.OpGitStatus, Path: p("sub")}, nil)
	if r.err != nil || r.result["repo"] != g.repo {
		t.Fatalf("from a subdirectory: %v %v", r.err, r.result["repo"])
	}
	recs := g.audit.Records()
	if last := recs[len(recs)-1]; last.Op != abi.OpGitStatus || last.Decision != "allow" || last.Path != "repo" {
		t.Errorf("audit: %+v", last)
	}
}

func TestGitDiffLeavesDeniedFilesOut(t *testing.T) {
	g := newGitFixture(t)
	tests := []struct {
		name       string
		req        abi.GitDiffRequest
		want, not  []string
		omitted    string
		filesCount int
	}{
		{"staged", abi.GitDiffRequest{Mode: abi.GitDiffStaged}, []string{"+staged line", "a/a.txt"}, []string{"unstaged line"}, "server.pem", 1},
		{"unstaged", abi.GitDiffRequest{Mode: abi.GitDiffUnstaged}, []string{"+unstaged line", "b/b.txt"}, []string{"+staged line"}, "", 1},
		{"against HEAD", abi.GitDiffRequest{Mode: abi.GitDiffRef, Ref: "HEAD"}, []string{"+staged line", "+unstaged line"}, nil, "server.pem", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Op, tt.req.Path = abi.OpGitDiff, g.repo
			r := do(t, g.gitCall(), tt.req, nil)
			if r.err != nil {
				t.Fatalf("git.diff: %v", r.err)
			}
			body := string(r.body)
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("diff lacks %q:\n%s", w, body)
				}
			}
			for _, w := range append(tt.not, gitCanary, "BEGIN") {
				if strings.Contains(body, w) {
					t.Errorf("diff holds %q:\n%s", w, body)
				}
			}
			if len(r.result["files"].([]any)) != tt.filesCount {
				t.Errorf("files: %v", r.result["files"])
			}
			if tt.omitted != "" {
				m := change(r, "omitted", filepath.Join(g.repo, tt.omitted))
				if m == nil || !strings.Contains(m["denied"].(string), "deny rule") {
					t.Errorf("omitted: %v", r.result["omitted"])
				}
			}
		})
	}
}

func TestGitDiffCapsAndRedacts(t *testing.T) {
	g := newGitFixture(t)
	r := do(t, g.gitCall(), abi.GitDiffRequest{Op: abi.OpGitDiff, Path: g.repo, Mode: abi.GitDiffUnstaged, MaxBytes: 20}, nil)
	if r.err != nil || len(r.body) != 20 || r.result["truncated"] != true {
		t.Fatalf("capped diff: %v %q %v", r.err, r.body, r.result["truncated"])
	}
}

// TestGitDiffRedactsPerFile: a diff is redacted file by file with the rules fs.read applies
// to that file, so a rule tied to file names (a password in a .tf file) runs on the .tf file's
// section only, exactly as fs.read of the file would redact it.
func TestGitDiffRedactsPerFile(t *testing.T) {
	g := newGitFixture(t)
	sc, err := secrets.New(secrets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g.env.Secrets = sc
	const line = "administrator_login_password = \"swordswords1\"\n"
	writeFile(t, filepath.Join(g.repo, "main.tf"), "# infra\n")
	writeFile(t, filepath.Join(g.repo, "notes.txt"), "# notes\n")
	g.git(t, g.repo, "add", "main.tf", "notes.txt")
	g.git(t, g.repo, "commit", "-q", "-m", "tf")
	writeFile(t, filepath.Join(g.repo, "main.tf"), "# infra\n"+line)
	writeFile(t, filepath.Join(g.repo, "notes.txt"), "# notes\n"+line)
	r := do(t, g.gitCall(), abi.GitDiffRequest{Op: abi.OpGitDiff, Path: g.repo, Mode: abi.GitDiffUnstaged}, nil)
	if r.err != nil {
		t.Fatalf("git.diff: %v", r.err)
	}
	tf, notes, ok := strings.Cut(string(r.body), "diff --git a/notes.txt")
	if !ok || !strings.Contains(tf, "diff --git a/main.tf") {
		t.Fatalf("diff sections: %s", r.body)
	}
	if strings.Contains(tf, "swordswords1") || !strings.Contains(tf, "[REDACTED:") {
		t.Errorf("the .tf section kept the password:\n%s", tf)
	}
	if !strings.Contains(notes, "swordswords1") {
		t.Errorf("the .txt section was redacted by a rule for .tf files:\n%s", notes)
	}
	if r.result["redacted"].(float64) != 1 {
		t.Errorf("redacted = %v, want 1", r.result["redacted"])
	}
	fr := do(t, g.call(abi.CapFSRead), abi.FSReadRequest{Op: abi.OpFSRead, Path: filepath.Join(g.repo, "main.tf")}, nil)
	if fr.err != nil || strings.Contains(string(fr.body), "swordswords1") {
		t.Fatalf("fs.read of the same file: %v %q", fr.err, fr.body)
	}
}

func TestGitLog(t *testing.T) {
	g := newGitFixture(t)
	g.git(t, g.repo, "commit", "-q", "-m", "second")
	r := do(t, g.gitCall(), abi.GitLogRequest{Op: abi.OpGitLog, Path: g.repo, Range: "HEAD~1..HEAD"}, nil)
	if r.err != nil {
		t.Fatalf("git.log: %v", r.err)
	}
	commits := r.result["commits"].([]any)
	if len(commits) != 1 || commits[0].(map[string]any)["subject"] != "second" || commits[0].(map[string]any)["author"] != "Ada" {
		t.Fatalf("commits: %v", commits)
	}
	r = do(t, g.gitCall(), abi.GitLogRequest{Op: abi.OpGitLog, Path: g.repo, MaxCount: 1}, nil)
	if r.err != nil || len(r.result["commits"].([]any)) != 1 || r.result["truncated"] != true {
		t.Fatalf("capped log: %v %v", r.err, r.result)
	}
}

func TestGitRefusals(t *testing.T) {
	g := newGitFixture(t)
	outsideRepo := filepath.Join(g.outside, "other")
	g.git(t, g.outside, "init", "-q", "other")
	tests := []struct {
		name    string
		req     any
		code    abi.Code
		mention string
	}{
		{"option as ref", abi.GitDiffRequest{Op: abi.OpGitDiff, Path: g.repo, Mode: abi.GitDiffRef, Ref: "--output=/tmp/x"}, abi.CodeInvalid, "not a ref"},
		{"path as ref", abi.GitDiffRequest{Op: abi.OpGitDiff, Path: g.repo, Mode: abi.GitDiffRef, Ref: "HEAD:a.txt"}, abi.CodeInvalid, "not a ref"},
		{"range as ref", abi.GitDiffRequest{Op: abi.OpGitDiff, Path: g.repo, Mode: abi.GitDiffRef, Ref: "HEAD~1..HEAD"}, abi.CodeInvalid, "not a ref"},
		{"unknown ref", abi.GitDiffRequest{Op: abi.OpGitDiff, Path: g.repo, Mode: abi.GitDiffRef, Ref: "nosuchbranch"}, abi.CodeNotFound, "nosuchbranch"},
		{"option in a range", abi.GitLogRequest{Op: abi.OpGitLog, Path: g.repo, Range: "HEAD..--all"}, abi.CodeInvalid, "not a ref"},
		{"bad mode", abi.GitDiffRequest{Op: abi.OpGitDiff, Path: g.repo, Mode: "all"}, abi.CodeInvalid, "mode"},
		{"repo outside the roots", abi.GitStatusRequest{Op: abi.OpGitStatus, Path: outsideRepo}, abi.CodeDenied, "outside"},
		{"not a repository", abi.GitStatusRequest{Op: abi.OpGitStatus, Path: filepath.Join(g.root, "src")}, abi.CodeNotFound, "git working tree"},
		{"relative path", abi.GitStatusRequest{Op: abi.OpGitStatus, Path: "repo"}, abi.CodeDenied, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, do(t, g.gitCall(), tt.req, nil), tt.code, tt.mention)
		})
	}
	// Without the capability, nothing runs.
	wantCode(t, do(t, g.call(abi.CapFSRead), abi.GitStatusRequest{Op: abi.OpGitStatus, Path: g.repo}, nil), abi.CodeNotGranted, "git.read")
}

// TestGitRepoOutsideByIndirection: a .git file, a commondir or an alternates file may point
// git at objects outside the roots; each is refused.
func TestGitRepoOutsideByIndirection(t *testing.T) {
	g := newGitFixture(t)
	g.git(t, g.outside, "init", "-q", "other")
	otherGit := filepath.Join(g.outside, "other", ".git")

	linked := filepath.Join(g.root, "linked")
	writeFile(t, filepath.Join(linked, ".git"), "gitdir: "+otherGit+"\n")
	wantCode(t, do(t, g.gitCall(), abi.GitStatusRequest{Op: abi.OpGitStatus, Path: linked}, nil), abi.CodeDenied, "outside every allowed root")

	writeFile(t, filepath.Join(g.repo, ".git", "objects", "info", "alternates"), filepath.Join(otherGit, "objects")+"\n")
	wantCode(t, do(t, g.gitCall(), abi.GitStatusRequest{Op: abi.OpGitStatus, Path: g.repo}, nil), abi.CodeDenied, "alternate")
	os.Remove(filepath.Join(g.repo, ".git", "objects", "info", "alternates"))

	// A linked worktree whose git directory is inside the root works.
	g.git(t, g.repo, "worktree", "add", "-q", "--detach", filepath.Join(g.root, "wt"))
	r := do(t, g.gitCall(), abi.GitStatusRequest{Op: abi.OpGitStatus, Path: filepath.Join(g.root, "wt")}, nil)
	if r.err != nil || r.result["repo"] != filepath.Join(g.root, "wt") {
		t.Fatalf("linked worktree: %v %v", r.err, r.result)
	}
}

// TestGitRunsNoRepositoryProgram: a repository whose .git/config sets core.fsmonitor, a diff
// driver's command and textconv, a filter's clean, smudge and process commands, a pager and
// a worktree elsewhere. The test first shows that plain git runs them (the markers appear),
// then that no git op does.
func TestGitRunsNoRepositoryProgram(t *testing.T) {
	g := newGitFixture(t)
	markers := t.TempDir()
	elsewhere := t.TempDir()
	writeFile(t, filepath.Join(elsewhere, "outside.txt"), "outside worktree\n")
	mark := func(name string) string { return "touch " + filepath.Join(markers, name) + "; cat" }
	set := func(k, v string) { g.git(t, g.repo, "config", k, v) }
	writeFile(t, filepath.Join(g.repo, ".gitattributes"), "* filter=evil diff=evil\n")
	g.git(t, g.repo, "add", ".gitattributes")
	set("filter.evil.clean", mark("clean"))
	set("filter.evil.smudge", mark("smudge"))
	set("filter.evil.process", mark("process"))
	set("diff.evil.command", mark("diffcmd"))
	set("diff.evil.textconv", mark("textconv"))
	set("diff.external", mark("external"))
	set("core.fsmonitor", mark("fsmonitor"))
	set("core.pager", mark("pager"))
	set("log.showSignature", "true")
	set("gpg.program", mark("gpg"))
	writeFile(t, filepath.Join(g.repo, ".git", "hooks", "post-index-change"), "#!/bin/sh\n"+mark("hook")+"\n")
	os.Chmod(filepath.Join(g.repo, ".git", "hooks", "post-index-change"), 0o755)
	writeFile(t, filepath.Join(g.repo, "a.txt"), "alpha\nstaged line\nchanged again, so a filter must run\n")

	entries := func() []string {
		des, _ := os.ReadDir(markers)
		var n []string
		for _, d := range des {
			n = append(n, d.Name())
		}
		return n
	}
	// The control: the repository's configuration is live.
	g.gitErr(g.repo, "diff", "--textconv") // fails: the programs are not real drivers
	if len(entries()) == 0 {
		t.Fatal("control: plain git ran none of the repository's programs; the test would prove nothing")
	}
	os.RemoveAll(markers)
	os.MkdirAll(markers, 0o755)
	set("core.worktree", elsewhere)

	reqs := []any{
		abi.GitStatusRequest{Op: abi.OpGitStatus, Path: g.repo},
		abi.GitDiffRequest{Op: abi.OpGitDiff, Path: g.repo, Mode: abi.GitDiffUnstaged},
		abi.GitDiffRequest{Op: abi.OpGitDiff, Path: g.repo, Mode: abi.GitDiffStaged},
		abi.GitDiffRequest{Op: abi.OpGitDiff, Path: g.repo, Mode: abi.GitDiffRef, Ref: "HEAD"},
		abi.GitLogRequest{Op: abi.OpGitLog, Path: g.repo},
	}
	for _, req := range reqs {
		r := do(t, g.gitCall(), req, nil)
		if r.err != nil {
			t.Fatalf("%+v: %v", req, r.err)
		}
		if strings.Contains(string(r.body), "outside worktree") || change(r, "untracked", filepath.Join(g.repo, "outside.txt")) != nil {
			t.Fatalf("core.worktree was followed: %q %v", r.body, r.result)
		}
	}
	if m := entries(); len(m) != 0 {
		t.Fatalf("repository programs ran: %v", m)
	}
	r := do(t, g.gitCall(), abi.GitDiffRequest{Op: abi.OpGitDiff, Path: g.repo, Mode: abi.GitDiffUnstaged}, nil)
	if !strings.Contains(string(r.body), "+changed again") {
		t.Fatalf("unstaged diff: %q", r.body)
	}
}

// TestGitHardLinkWithheld: a changed file with a second hard link (which may be a file from
// outside the roots) is listed but not diffed.
func TestGitHardLinkWithheld(t *testing.T) {
	g := newGitFixture(t)
	if err := os.Link(filepath.Join(g.repo, "b.txt"), filepath.Join(g.outside, "b-link")); err != nil {
		t.Skip("hard links not supported here")
	}
	r := do(t, g.gitCall(), abi.GitDiffRequest{Op: abi.OpGitDiff, Path: g.repo, Mode: abi.GitDiffUnstaged}, nil)
	if r.err != nil || strings.Contains(string(r.body), "unstaged line") {
		t.Fatalf("hard-linked file diffed: %v %q", r.err, r.body)
	}
	if m := change(r, "omitted", filepath.Join(g.repo, "b.txt")); m == nil || !strings.Contains(m["denied"].(string), "hard links") {
		t.Fatalf("omitted: %v", r.result["omitted"])
	}
}

// TestGitNoBinary: without git the ops are unavailable, not a crash.
func TestGitNoBinary(t *testing.T) {
	f := newFixture(t)
	paths, _ := policy.NewPaths([]string{f.root}, policy.DefaultDeny, policy.Caps{})
	defer paths.Close()
	env := &Env{Paths: paths, Threads: memory.New(memory.Config{}), Audit: f.audit, GitPath: "relative/git"}
	c := env.NewCall(CallSpec{Tool: "t", CallID: "c", Grant: policy.NewCapSet(abi.CapGitRead)})
	wantCode(t, do(t, c, abi.GitStatusRequest{Op: abi.OpGitStatus, Path: f.root}, nil), abi.CodeUnavailable, "git")
}

// gitReplyCases are the git ops' cases of TestRepliesFitTheABITypes, on the repository repo.
func gitReplyCases(repo string) []replyCase {
	return []replyCase{
		{"git.status", func() any { return abi.GitStatusRequest{Op: abi.OpGitStatus, Path: repo} }, nil, func() any { return &abi.GitStatusResult{} }},
		{"git.diff", func() any { return abi.GitDiffRequest{Op: abi.OpGitDiff, Path: repo, Mode: abi.GitDiffStaged} }, nil, func() any { return &abi.GitDiffResult{} }},
		{"git.log", func() any { return abi.GitLogRequest{Op: abi.OpGitLog, Path: repo} }, nil, func() any { return &abi.GitLogResult{} }},
	}
}

// TestGitRepliesFitTheABITypes is TestRepliesFitTheABITypes for the git ops, which need a
// repository.
func TestGitRepliesFitTheABITypes(t *testing.T) {
	g := newGitFixture(t)
	for _, tc := range gitReplyCases(g.repo) {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, g.gitCall()) })
	}
}

// TestGitWithinClientRoots: with the client's roots narrowed to a directory inside the
// repository, git ops find no repository (its top lies above the client root), and fs.read
// of a file outside the client root is refused; with the client root at the repository,
// git.status works.
func TestGitWithinClientRoots(t *testing.T) {
	g := newGitFixture(t)
	writeFile(t, filepath.Join(g.repo, "sub", "d.txt"), "delta\n")
	uri := func(p string) string { return "file://" + p }
	narrowCall := func(root string, caps ...policy.Capability) *Call {
		n, _ := g.env.Paths.Narrow([]string{uri(root)})
		return g.env.NewCall(CallSpec{Tool: "t", CallID: "c1", Grant: policy.NewCapSet(caps...), Category: "fast", Paths: n})
	}
	sub := filepath.Join(g.repo, "sub")
	r := do(t, narrowCall(sub, abi.CapGitRead), abi.GitStatusRequest{Op: abi.OpGitStatus, Path: sub}, nil)
	if r.err == nil {
		t.Fatalf("git.status from a client root below the repository's top found it: %v", r.result)
	}
	r = do(t, narrowCall(sub, abi.CapFSRead), abi.FSReadRequest{Op: abi.OpFSRead, Path: filepath.Join(g.repo, "a.txt")}, nil)
	if r.err == nil || r.err.Code != abi.CodeDenied || !strings.Contains(r.err.Message, "client's roots") {
		t.Fatalf("fs.read outside the client root: %+v", r.err)
	}
	r = do(t, narrowCall(g.repo, abi.CapGitRead), abi.GitStatusRequest{Op: abi.OpGitStatus, Path: sub}, nil)
	if r.err != nil || r.result["repo"] != g.repo {
		t.Fatalf("git.status with the client root at the repository: %v %v", r.err, r.result["repo"])
	}
}
