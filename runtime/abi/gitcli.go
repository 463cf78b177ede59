package abi

import "time"

// Git diff modes of GitDiffRequest.Mode.
const (
	GitDiffStaged   = "staged"   // the index against HEAD (what a commit would hold)
	GitDiffUnstaged = "unstaged" // the working tree against the index
	GitDiffRef      = "ref"      // Ref against the working tree, or against Head when set
)

// GitStatusRequest asks for a repository's state (op git.status, capability git.read).
type GitStatusRequest struct {
	Op string `json:"op"` // OpGitStatus
	// Path is an absolute directory inside the repository's working tree; the host walks up
	// to the working tree's top, which must lie inside the same allowed root.
	Path string `json:"path"`
	// MaxEntries caps the paths returned over the three lists; 0 means the policy's listing
	// cap (paths.max_list_entries, 2,000 by default), which is also the ceiling.
	MaxEntries int `json:"max_entries,omitempty"`
}

// GitStatusResult is a repository's state. Submodules are not looked into.
type GitStatusResult struct {
	Repo      string      `json:"repo"`      // the working tree's top, absolute
	Branch    string      `json:"branch"`    // the current branch; "" when HEAD is detached
	Head      string      `json:"head"`      // HEAD's commit id; "" before the first commit
	Staged    []GitChange `json:"staged"`    // index against HEAD; never null
	Unstaged  []GitChange `json:"unstaged"`  // working tree against the index; never null
	Untracked []GitChange `json:"untracked"` // files git does not track and does not ignore; never null
	Truncated bool        `json:"truncated"` // the lists stopped at the entry cap
}

// GitChange is one changed path.
type GitChange struct {
	Path string `json:"path"` // absolute
	// Status is git's one-letter code: M modified, A added, D deleted, T type changed,
	// U unmerged, ? untracked.
	Status string `json:"status"`
	// Denied, when set, says why the path's content is withheld (a deny glob, a hard link);
	// git.diff leaves such files out.
	Denied string `json:"denied,omitempty"`
}

// GitDiffRequest asks for a unified diff (op git.diff, capability git.read); the diff text
// is the reply's body.
type GitDiffRequest struct {
	Op   string `json:"op"`   // OpGitDiff
	Path string `json:"path"` // as in GitStatusRequest
	// Mode is GitDiffStaged, GitDiffUnstaged or GitDiffRef.
	Mode string `json:"mode"`
	// Ref is the commit to compare from in GitDiffRef mode: a branch, tag, commit id or an
	// expression such as HEAD~2 (no options, no ranges).
	Ref string `json:"ref,omitempty"`
	// Head, in GitDiffRef mode, is the commit to compare to; "" means the working tree.
	Head string `json:"head,omitempty"`
	// MaxBytes caps the body; 0 means the policy's per-file cap (paths.max_file_bytes,
	// 1,000,000 bytes by default). A longer diff is cut and marked truncated.
	MaxBytes int64 `json:"max_bytes,omitempty"`
}

// GitDiffResult describes the diff that follows the reply as its body. Renames show as a
// deletion and an addition; binary files as one "Binary files differ" line.
type GitDiffResult struct {
	Repo    string      `json:"repo"`
	Mode    string      `json:"mode"`
	Ref     string      `json:"ref,omitempty"`
	Head    string      `json:"head,omitempty"`
	Files   []GitChange `json:"files"`   // the files whose changes the body holds; never null
	Omitted []GitChange `json:"omitted"` // changed files left out, each with its Denied reason; never null
	// Truncated: the body stopped at MaxBytes (or at the file cap of 2,000 files).
	Truncated bool `json:"truncated"`
	// Redacted counts the secrets replaced in the body by "[REDACTED:<kind>]" markers.
	Redacted int `json:"redacted,omitempty"`
}

// GitLogRequest asks for the commits of a range (op git.log, capability git.read).
type GitLogRequest struct {
	Op   string `json:"op"`   // OpGitLog
	Path string `json:"path"` // as in GitStatusRequest
	// Range is "A..B", "A...B" or one commit (its history); "" means HEAD. A and B follow
	// GitDiffRequest.Ref's rules.
	Range string `json:"range,omitempty"`
	// MaxCount caps the commits returned; 0 means 100, and 1,000 is the ceiling.
	MaxCount int `json:"max_count,omitempty"`
}

// GitLogResult lists commits, newest first.
type GitLogResult struct {
	Repo      string      `json:"repo"`
	Range     string      `json:"range"`
	Commits   []GitCommit `json:"commits"` // never null
	Truncated bool        `json:"truncated"`
}

// GitCommit is one commit of a GitLogResult.
type GitCommit struct {
	Hash    string    `json:"hash"`
	Author  string    `json:"author"` // the author's name, without address
	Date    time.Time `json:"date"`   // author date
	Subject string    `json:"subject"`
}

// CLIListRequest asks which programs pal.toml lets tools run (op cli.list, capability
// cli.run).
type CLIListRequest struct {
	Op string `json:"op"` // OpCLIList
}

// CLIListResult names the configured programs; empty when cli.run is off.
type CLIListResult struct {
	CLIs []CLIInfo `json:"clis"` // never null
}

// CLIInfo is one [[cli]] entry as a tool may see it: never its environment's values.
type CLIInfo struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	AllowedArgs []string `json:"allowed_args"` // the extra arguments a request may add; never null
	TimeoutMS   int64    `json:"timeout_ms"`
	OutputBytes int64    `json:"output_bytes"`
}

// CLIRunRequest runs one configured program (op cli.run, capability cli.run); the request's
// body, when present, is the program's standard input.
type CLIRunRequest struct {
	Op   string `json:"op"`   // OpCLIRun
	Name string `json:"name"` // a [[cli]] name
	// Args are extra arguments, each one of the entry's allowed_args; they follow the fixed
	// args.
	Args []string `json:"args,omitempty"`
	// Dir is the working directory, absolute, inside an allowed root; "" means the entry's
	// working_dir, else the first root.
	Dir string `json:"dir,omitempty"`
}

// CLIRunResult is how the program ended; its standard output is the reply's body.
type CLIRunResult struct {
	Name       string `json:"name"`
	ExitCode   int    `json:"exit_code"` // -1 when it was killed
	TimedOut   bool   `json:"timed_out"` // killed, with its process group, at the timeout
	DurationMS int64  `json:"duration_ms"`
	// Truncated: the output passed the entry's output cap; the program was killed there.
	Truncated bool `json:"truncated"`
	// Stderr is the end of its standard error, at most 4 KiB, secrets redacted.
	Stderr string `json:"stderr,omitempty"`
	// Redacted counts the secrets replaced in the body and in Stderr.
	Redacted int `json:"redacted,omitempty"`
}
