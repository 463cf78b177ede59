package hostfns

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pal-mcp/pal/internal/boundedre"
	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/policy/secrets"
	"github.com/pal-mcp/pal/runtime/abi"
)

// The git ops (capability git.read) run the git binary on repositories inside the roots. git
// is a program that runs other programs when its configuration says so; the repository's own
// configuration is written by whoever wrote the repository. So every git process here:
//   - is started directly (no shell) with a fixed argument list; refs from the guest are
//     checked against gitRefRE and turned into commit ids before they reach an argument list;
//   - gets an environment built from nothing: no variable of the server, no HOME, no system or
//     global configuration, PATH=/usr/bin:/bin, explicit GIT_DIR and GIT_WORK_TREE;
//   - has every configuration key that names a program overridden with command-line scope
//     (GIT_CONFIG_COUNT, which wins over the repository's files): core.fsmonitor, hooks, the
//     pager, external diff, and the clean, smudge, process and textconv commands of every
//     filter and diff driver the configuration defines; plus --no-ext-diff and --no-textconv;
//   - may not use any transport (protocol.allow=never), so a partial clone cannot fetch;
//   - does not look into submodules, takes no optional locks (never writes the index), and is
//     killed with its process group after gitTimeout, when the call ends or when its output
//     passes its cap (startChild, the runner cli.run uses too).
// Each git.status, git.diff and git.log spends one of limits.read_files and the bytes git wrote
// of limits.read_bytes, like fs.read.
// The git directory, its common directory and any alternate object directory must lie inside
// an allowed root. Changed files whose name matches a deny glob, or which have more than one
// hard link, are listed with the reason but their content never leaves the host.

// gitTimeout bounds one git process.
const gitTimeout = 60 * time.Second

// gitMaxFiles caps the changed files one git.diff lists and diffs.
const gitMaxFiles = 2000

// gitDefaultLog and gitMaxLog are git.log's default and ceiling commit counts.
const (
	gitDefaultLog = 100
	gitMaxLog     = 1000
)

// ErrGitUnavailable: no usable git binary was found.
var ErrGitUnavailable = errors.New("git is not available")

// gitNoHome is HOME and XDG_CONFIG_HOME for git: a path that does not exist, so that no file
// of the user's is read.
const gitNoHome = "/nonexistent/pal-git-home"

// gitRefRE is what a ref from a guest may look like: a name, a commit id, or an expression with
// ~, ^ and @{…}. It cannot start with "-" (an option) and cannot hold ":" (a path), spaces or
// "..".
var gitRefRE = boundedre.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._/@{}^~+-]*$`, 255)

// commitIDRE is a full SHA-1 or SHA-256 commit id.
var commitIDRE = boundedre.MustCompileLengths(`^[0-9a-f]*$`, 40, 64)

var (
	gitPathOnce  sync.Once
	gitPathFound string
)

// gitBinary returns the absolute path of git: Env.GitPath when set, else git found once in the
// server's PATH.
func (e *Env) gitBinary() (string, error) {
	if e.GitPath != "" {
		if !filepath.IsAbs(e.GitPath) {
			return "", fmt.Errorf("%w: %q is not an absolute path", ErrGitUnavailable, e.GitPath)
		}
		return e.GitPath, nil
	}
	gitPathOnce.Do(func() {
		if p, err := exec.LookPath("git"); err == nil {
			if abs, err := filepath.Abs(p); err == nil {
				gitPathFound = abs
			}
		}
	})
	if gitPathFound == "" {
		return "", fmt.Errorf("%w: no git in the server's PATH", ErrGitUnavailable)
	}
	return gitPathFound, nil
}

// gitRepo is a repository whose working tree and git directories passed the policy.
type gitRepo struct {
	bin     string
	top     string // working tree top, absolute, symlink-free
	gitDir  string
	root    string // the allowed root holding top
	rel     string // top relative to root, for the audit log
	configs []string
}

// openRepo finds the repository holding the directory path and checks it against the policy.
func (c *Call) openRepo(ctx context.Context, path string) (*gitRepo, error) {
	if path == "" {
		return nil, fail(abi.CodeInvalid, "a git op needs a path (an absolute directory inside the repository)")
	}
	p := c.paths
	if p == nil {
		return nil, fail(abi.CodeDenied, "no file access is configured")
	}
	bin, err := c.env.gitBinary()
	if err != nil {
		return nil, fail(abi.CodeUnavailable, "%v", err)
	}
	res, err := p.Resolve(path)
	if err != nil {
		return nil, pathError(err)
	}
	if !res.Info.IsDir() {
		return nil, fail(abi.CodeInvalid, "%q is not a directory", path)
	}
	top := res.Abs()
	var dotGit fs.FileInfo
	for {
		if fi, err := os.Lstat(filepath.Join(top, ".git")); err == nil {
			dotGit = fi
			break
		}
		if top == res.Root {
			return nil, fail(abi.CodeNotFound, "%q is not inside a git working tree within its root", path)
		}
		top = filepath.Dir(top)
	}
	if p.DeniedName(top) != "" {
		return nil, fail(abi.CodeDenied, "the working tree of %q is denied by the path policy", path)
	}
	inside := func(what, dir string) (string, error) {
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return "", fail(abi.CodeNotFound, "the repository's %s cannot be found", what)
		}
		if !p.Within(real) {
			return "", fail(abi.CodeDenied, "the repository's %s lies outside every allowed root", what)
		}
		return real, nil
	}
	var gitDir string
	switch {
	case dotGit.IsDir():
		gitDir = filepath.Join(top, ".git")
	case dotGit.Mode().IsRegular():
		// A linked worktree or a submodule: ".git" is a file naming the git directory.
		data, err := readSmall(filepath.Join(top, ".git"))
		if err != nil {
			return nil, fail(abi.CodeInvalid, "the repository's .git file cannot be read")
		}
		target, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "gitdir:")
		if !ok {
			return nil, fail(abi.CodeInvalid, "the repository's .git file does not name a git directory")
		}
		target = strings.TrimSpace(target)
		if !filepath.IsAbs(target) {
			target = filepath.Join(top, target)
		}
		gitDir = target
	default:
		return nil, fail(abi.CodeDenied, "the repository's .git is neither a directory nor a file (a symlink?)")
	}
	if gitDir, err = inside("git directory", gitDir); err != nil {
		return nil, err
	}
	common := gitDir
	if data, err := readSmall(filepath.Join(gitDir, "commondir")); err == nil {
		dir := strings.TrimSpace(string(data))
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(gitDir, dir)
		}
		if common, err = inside("common git directory", dir); err != nil {
			return nil, err
		}
	}
	objects := filepath.Join(common, "objects")
	if data, err := readSmall(filepath.Join(objects, "info", "alternates")); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if strings.HasPrefix(line, `"`) {
				return nil, fail(abi.CodeDenied, "the repository borrows objects from a quoted path; refused")
			}
			if !filepath.IsAbs(line) {
				line = filepath.Join(objects, line)
			}
			if _, err := inside("alternate object directory", line); err != nil {
				return nil, err
			}
		}
	}
	r := &gitRepo{bin: bin, top: top, gitDir: gitDir, root: res.Root}
	if rel, err := filepath.Rel(res.Root, top); err == nil {
		r.rel = filepath.ToSlash(rel)
	}
	if err := r.neutralise(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// readSmall reads at most 4 KiB of a small file of the git directory (never a symlink).
func readSmall(path string) ([]byte, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, 4096)
	n, err := f.Read(buf)
	if err != nil && n == 0 {
		return nil, err
	}
	return buf[:n], nil
}

// gitFixedConfig is set, with command-line scope, on every git process.
var gitFixedConfig = []string{
	"core.fsmonitor", "false",
	"core.hooksPath", "/dev/null",
	"core.pager", "cat",
	"core.sshCommand", "false",
	"core.askPass", "",
	"core.attributesFile", "/dev/null",
	"core.untrackedCache", "false",
	"diff.external", "",
	"diff.noprefix", "false",
	"diff.relative", "false",
	"diff.mnemonicPrefix", "false",
	"credential.helper", "",
	"protocol.allow", "never",
	"log.showSignature", "false",
	"gc.auto", "0",
	"maintenance.auto", "false",
	"color.ui", "never",
	"status.showUntrackedFiles", "all",
	"status.relativePaths", "false",
	"core.quotePath", "false",
}

// driverKeys are the keys of filter and diff drivers that name programs, and what they are
// overridden with.
var driverKeys = map[string][]string{
	"filter": {"clean", "", "smudge", "", "process", "", "required", "false"},
	"diff":   {"command", "", "textconv", "", "cachetextconv", "false"},
}

// neutralise lists the filter and diff drivers the repository's configuration defines (in
// any file it includes) and overrides each one's programs for every later git process.
func (r *gitRepo) neutralise(ctx context.Context) error {
	out, _, err := r.run(ctx, 1<<20, "config", "--null", "--name-only", "--get-regexp", `^(filter|diff)\.`)
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 { // 1: no such key
			return err
		}
	}
	seen := map[string]bool{}
	for _, key := range strings.Split(string(out), "\x00") {
		section, rest, ok := strings.Cut(key, ".")
		if !ok {
			continue
		}
		i := strings.LastIndexByte(rest, '.')
		if i <= 0 {
			continue // no subsection: diff.external and the like, fixed above
		}
		sub := rest[:i]
		pairs := driverKeys[strings.ToLower(section)]
		if pairs == nil || seen[section+"\x00"+sub] {
			continue
		}
		seen[section+"\x00"+sub] = true
		for j := 0; j < len(pairs); j += 2 {
			r.configs = append(r.configs, strings.ToLower(section)+"."+sub+"."+pairs[j], pairs[j+1])
		}
	}
	return nil
}

// env is the whole environment of a git process.
func (r *gitRepo) env() []string {
	env := []string{
		"PATH=/usr/bin:/bin",
		"HOME=" + gitNoHome,
		"XDG_CONFIG_HOME=" + gitNoHome,
		"LC_ALL=C",
		"GIT_DIR=" + r.gitDir,
		"GIT_WORK_TREE=" + r.top,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_ATTR_NOSYSTEM=1",
		"GIT_OPTIONAL_LOCKS=0",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_NO_REPLACE_OBJECTS=1",
		"GIT_NO_LAZY_FETCH=1",
		"GIT_LITERAL_PATHSPECS=1",
		"GIT_PAGER=cat",
		"PAGER=cat",
	}
	all := append(append([]string{}, gitFixedConfig...), r.configs...)
	env = append(env, "GIT_CONFIG_COUNT="+strconv.Itoa(len(all)/2))
	for i := 0; i < len(all); i += 2 {
		n := strconv.Itoa(i / 2)
		env = append(env, "GIT_CONFIG_KEY_"+n+"="+all[i], "GIT_CONFIG_VALUE_"+n+"="+all[i+1])
	}
	return env
}

// run runs git with args and returns at most maxOut bytes of its output; truncated is set
// when there was more (the process group is then killed, as at the deadline).
func (r *gitRepo) run(ctx context.Context, maxOut int64, args ...string) (out []byte, truncated bool, err error) {
	cmd := exec.Command(r.bin, append([]string{"--no-pager"}, args...)...)
	cmd.Env = r.env()
	cmd.Dir = r.top
	cmd.Stdin = nil
	stderr := &capBuffer{max: 4096}
	p, err := startChild(cmd, maxOut, stderr)
	if err != nil {
		return nil, false, err
	}
	end := p.wait(ctx, gitTimeout)
	if p.stdout.over {
		return p.stdout.buf.Bytes(), true, nil
	}
	if end.timedOut || end.cancelled {
		return nil, false, fail(abi.CodeCancelled, "git %s did not finish in time", args[0])
	}
	if end.err != nil {
		var ee *exec.ExitError
		if errors.As(end.err, &ee) {
			return p.stdout.buf.Bytes(), false, &gitExit{code: ee.ExitCode(), msg: firstLine(stderr.buf.String()), err: end.err}
		}
		return nil, false, end.err
	}
	return p.stdout.buf.Bytes(), false, nil
}

// gitExit is a git process that ended with a non-zero status.
type gitExit struct {
	code int
	msg  string
	err  error
}

func (e *gitExit) Error() string { return fmt.Sprintf("git exited with status %d: %s", e.code, e.msg) }
func (e *gitExit) Unwrap() error { return e.err }

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// gitFailed turns a git failure into an op error the guest may see.
func gitFailed(what string, err error) error {
	var oe *opError
	if errors.As(err, &oe) {
		return oe
	}
	var ge *gitExit
	if errors.As(err, &ge) {
		return fail(abi.CodeInvalid, "git could not %s: %s", what, ge.msg)
	}
	return err
}

// commit turns a ref from the guest into a commit id, or refuses it.
func (r *gitRepo) commit(ctx context.Context, ref string) (string, error) {
	if !gitRefRE.MatchString(ref) || strings.Contains(ref, "..") {
		return "", fail(abi.CodeInvalid, "%q is not a ref this op accepts (a branch, tag, commit id or an expression such as HEAD~2)", ref)
	}
	out, _, err := r.run(ctx, 256, "rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}")
	if err != nil {
		var ge *gitExit
		if errors.As(err, &ge) {
			return "", fail(abi.CodeNotFound, "no commit %q in the repository", ref)
		}
		return "", err
	}
	id := strings.TrimSpace(string(out))
	if !commitIDRE.MatchString(id) {
		return "", fail(abi.CodeNotFound, "no commit %q in the repository", ref)
	}
	return id, nil
}

// vet says why a changed file's content must stay in the host, or "".
func (c *Call) vet(abs string) string {
	if why := c.paths.DeniedName(abs); why != "" {
		return why
	}
	fi, err := os.Lstat(abs)
	if err == nil && fi.Mode().IsRegular() && !c.paths.Caps().AllowHardLinks {
		if n := policy.LinkCount(fi); n > 1 {
			return fmt.Sprintf("has %d hard links (paths.allow_hard_links)", n)
		}
	}
	return ""
}

func (r *gitRepo) abs(p string) string { return filepath.Join(r.top, filepath.FromSlash(p)) }

// gitStatus reports staged, unstaged and untracked files.
func gitStatus(ctx context.Context, c *Call, req abi.GitStatusRequest, _ []byte) (outcome, error) {
	r, err := c.openRepo(ctx, req.Path)
	if err != nil {
		return outcome{path: req.Path}, err
	}
	limit := c.paths.Caps().MaxListEntries
	if req.MaxEntries < 0 {
		return outcome{}, fail(abi.CodeInvalid, "max_entries must not be negative")
	}
	if req.MaxEntries > 0 && req.MaxEntries < limit {
		limit = req.MaxEntries
	}
	// The listing counts as one file read: limits.read_files and read_bytes (what is left of
	// it caps git's output, as it caps fs.read).
	at := outcome{root: r.root, path: r.rel}
	room, err := c.readRoom(16 << 20)
	if err != nil {
		return at, err
	}
	out, truncated, err := r.run(ctx, room, "status", "--porcelain=v2", "-z", "--branch", "--untracked-files=all",
		"--ignore-submodules=all", "--no-renames")
	if err != nil {
		return at, gitFailed("read the status", err)
	}
	if err := c.spendRead(int64(len(out))); err != nil {
		return at, err
	}
	res := abi.GitStatusResult{Repo: r.top, Staged: []abi.GitChange{}, Unstaged: []abi.GitChange{}, Untracked: []abi.GitChange{},
		Truncated: truncated}
	n := 0
	add := func(list *[]abi.GitChange, p, status string) {
		if n >= limit {
			res.Truncated = true
			return
		}
		n++
		abs := r.abs(p)
		*list = append(*list, abi.GitChange{Path: abs, Status: status, Denied: c.vet(abs)})
	}
	entries := strings.Split(string(out), "\x00")
	if truncated {
		entries = entries[:len(entries)-1] // cut inside it
	}
	for i := 0; i < len(entries); i++ {
		e := entries[i]
		switch {
		case strings.HasPrefix(e, "# branch.oid "):
			if oid := strings.TrimPrefix(e, "# branch.oid "); oid != "(initial)" {
				res.Head = oid
			}
		case strings.HasPrefix(e, "# branch.head "):
			if b := strings.TrimPrefix(e, "# branch.head "); b != "(detached)" {
				res.Branch = b
			}
		case strings.HasPrefix(e, "1 "), strings.HasPrefix(e, "2 "):
			f := strings.SplitN(e, " ", 9)
			if strings.HasPrefix(e, "2 ") {
				f = strings.SplitN(e, " ", 10)
				i++ // the original path follows as its own entry
			}
			if len(f) < 9 || len(f[1]) != 2 {
				continue
			}
			p := f[len(f)-1]
			if x := f[1][0]; x != '.' {
				add(&res.Staged, p, string(x))
			}
			if y := f[1][1]; y != '.' {
				add(&res.Unstaged, p, string(y))
			}
		case strings.HasPrefix(e, "u "):
			f := strings.SplitN(e, " ", 11)
			if len(f) == 11 {
				add(&res.Staged, f[10], "U")
				add(&res.Unstaged, f[10], "U")
			}
		case strings.HasPrefix(e, "? "):
			add(&res.Untracked, strings.TrimPrefix(e, "? "), "?")
		}
	}
	at.result, at.bytes = res, int64(len(out))
	return at, nil
}

// gitDiff returns a unified diff of the files the policy lets out.
func gitDiff(ctx context.Context, c *Call, req abi.GitDiffRequest, _ []byte) (outcome, error) {
	if req.MaxBytes < 0 {
		return outcome{}, fail(abi.CodeInvalid, "max_bytes must not be negative")
	}
	switch req.Mode {
	case abi.GitDiffStaged, abi.GitDiffUnstaged:
		if req.Ref != "" || req.Head != "" {
			return outcome{}, fail(abi.CodeInvalid, "ref and head belong to mode %q only", abi.GitDiffRef)
		}
	case abi.GitDiffRef:
		if req.Ref == "" {
			return outcome{}, fail(abi.CodeInvalid, "mode %q needs a ref", abi.GitDiffRef)
		}
	default:
		return outcome{}, fail(abi.CodeInvalid, "mode must be %q, %q or %q", abi.GitDiffStaged, abi.GitDiffUnstaged, abi.GitDiffRef)
	}
	r, err := c.openRepo(ctx, req.Path)
	if err != nil {
		return outcome{path: req.Path}, err
	}
	at := outcome{root: r.root, path: r.rel}
	want := c.paths.Caps().MaxFileBytes
	if req.MaxBytes > 0 {
		want = req.MaxBytes
	}
	maxBytes, err := c.readRoom(want)
	if err != nil {
		return at, err
	}

	var which []string
	switch req.Mode {
	case abi.GitDiffStaged:
		which = []string{"--cached"}
	case abi.GitDiffRef:
		from, err := r.commit(ctx, req.Ref)
		if err != nil {
			return at, err
		}
		which = []string{from}
		if req.Head != "" {
			to, err := r.commit(ctx, req.Head)
			if err != nil {
				return at, err
			}
			which = append(which, to)
		}
	}
	common := []string{"--no-color", "--no-ext-diff", "--no-textconv", "--no-renames", "--ignore-submodules=all",
		"--src-prefix=a/", "--dst-prefix=b/", "--no-relative"}

	list, listCut, err := r.run(ctx, 16<<20, append(append(append([]string{"diff", "--name-status", "-z"}, common...), which...), "--")...)
	if err != nil {
		return at, gitFailed("list the changed files", err)
	}
	res := abi.GitDiffResult{Repo: r.top, Mode: req.Mode, Ref: req.Ref, Head: req.Head, Files: []abi.GitChange{}, Omitted: []abi.GitChange{},
		Truncated: listCut}
	var allowed []string
	fields := strings.Split(strings.TrimSuffix(string(list), "\x00"), "\x00")
	for i := 0; i+1 < len(fields); i += 2 {
		status, p := fields[i], fields[i+1]
		if status == "" || p == "" {
			continue
		}
		if len(res.Files)+len(res.Omitted) >= gitMaxFiles {
			res.Truncated = true
			break
		}
		abs := r.abs(p)
		ch := abi.GitChange{Path: abs, Status: status[:1]}
		if why := c.vet(abs); why != "" {
			ch.Denied = why
			res.Omitted = append(res.Omitted, ch)
			continue
		}
		res.Files = append(res.Files, ch)
		allowed = append(allowed, p)
	}
	var body []byte
	if len(allowed) > 0 {
		// Only the files checked above are named (literal pathspecs): a file that changed in
		// between is not diffed.
		args := append(append(append([]string{"diff"}, common...), which...), "--")
		out, cut, err := r.run(ctx, maxBytes, append(args, allowed...)...)
		if err != nil {
			return at, gitFailed("diff", err)
		}
		body, res.Truncated = out, res.Truncated || cut
	}
	if err := c.spendRead(int64(len(body))); err != nil {
		return at, err
	}
	at.bytes = int64(len(body))
	if c.env.Secrets != nil && len(body) > 0 {
		clean, rep := r.redactDiff(c.env.Secrets, string(body), allowed)
		if rep.Count > 0 {
			body, res.Redacted, at.redacted = []byte(clean), rep.Count, rep
		}
	}
	if body == nil {
		body = []byte{}
	}
	at.result, at.body = res, body
	return at, nil
}

// redactDiff redacts a diff file by file, each with the rules fs.read applies to that file
// (Scanner.RedactFile with its path relative to the root, so that rules tied to file names run
// too). A section whose header is not one of paths (a quoted name) gets the rules of no file.
func (r *gitRepo) redactDiff(s *secrets.Scanner, diff string, paths []string) (string, secrets.Report) {
	rel := make(map[string]string, len(paths))
	for _, p := range paths {
		if rp, err := filepath.Rel(r.root, r.abs(p)); err == nil {
			rel["diff --git a/"+p+" b/"+p] = filepath.ToSlash(rp)
		}
	}
	var b strings.Builder
	var rep secrets.Report
	for len(diff) > 0 {
		end := strings.Index(diff[1:], "\ndiff --git ")
		section := diff
		if end >= 0 {
			section = diff[:end+2] // through the newline
		}
		diff = diff[len(section):]
		header, _, _ := strings.Cut(section, "\n")
		clean, r1 := s.RedactFile(rel[header], section)
		rep.Add(r1)
		b.WriteString(clean)
	}
	return b.String(), rep
}

// gitLog lists the commits of a range.
func gitLog(ctx context.Context, c *Call, req abi.GitLogRequest, _ []byte) (outcome, error) {
	if req.MaxCount < 0 || req.MaxCount > gitMaxLog {
		return outcome{}, fail(abi.CodeInvalid, "max_count must be 0 to %d", gitMaxLog)
	}
	count := req.MaxCount
	if count == 0 {
		count = gitDefaultLog
	}
	r, err := c.openRepo(ctx, req.Path)
	if err != nil {
		return outcome{path: req.Path}, err
	}
	at := outcome{root: r.root, path: r.rel}
	spec := req.Range
	if spec == "" {
		spec = "HEAD"
	}
	sep := ""
	for _, s := range []string{"...", ".."} {
		if strings.Contains(spec, s) {
			sep = s
			break
		}
	}
	var rev string
	if sep == "" {
		id, err := r.commit(ctx, spec)
		if err != nil {
			return at, err
		}
		rev = id
	} else {
		a, b, _ := strings.Cut(spec, sep)
		if a == "" {
			a = "HEAD"
		}
		if b == "" {
			b = "HEAD"
		}
		ida, err := r.commit(ctx, a)
		if err != nil {
			return at, err
		}
		idb, err := r.commit(ctx, b)
		if err != nil {
			return at, err
		}
		rev = ida + sep + idb
	}
	room, err := c.readRoom(4 << 20)
	if err != nil {
		return at, err
	}
	out, cut, err := r.run(ctx, room, "log", "--no-show-signature", "--no-color", "--no-decorate", "-z",
		"--format=%H%x1f%an%x1f%aI%x1f%s", "--max-count="+strconv.Itoa(count+1), "--end-of-options", rev, "--")
	if err != nil {
		return at, gitFailed("read the log", err)
	}
	if err := c.spendRead(int64(len(out))); err != nil {
		return at, err
	}
	res := abi.GitLogResult{Repo: r.top, Range: req.Range, Commits: []abi.GitCommit{}, Truncated: cut}
	var rep secrets.Report
	clean := func(s string) string {
		if c.env.Secrets == nil {
			return s
		}
		s2, r := c.env.Secrets.Redact(s)
		rep.Add(r)
		return s2
	}
	records := strings.Split(string(out), "\x00")
	if cut {
		records = records[:len(records)-1] // cut inside it
	}
	for _, rec := range records {
		f := strings.Split(strings.TrimPrefix(rec, "\n"), "\x1f")
		if len(f) != 4 {
			continue
		}
		if len(res.Commits) == count {
			res.Truncated = true
			break
		}
		when, _ := time.Parse(time.RFC3339, f[2])
		res.Commits = append(res.Commits, abi.GitCommit{Hash: f[0], Author: clean(f[1]), Date: when.UTC(), Subject: clean(f[3])})
	}
	at.result, at.bytes, at.redacted = res, int64(len(out)), rep
	return at, nil
}
