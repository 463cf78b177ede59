package pal

import "github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"

// Capabilities of the git and cli ops.
const (
	CapGitRead = abi.CapGitRead // ReadGitStatus, ReadGitDiff, ReadGitLog
	CapCLIRun  = abi.CapCLIRun  // ListCLIs, RunCLI
)

// GitStatus is a repository's state: branch, HEAD, and the staged, unstaged and untracked
// files, each with its absolute path, git's one-letter status and, for a file whose content
// the policy withholds, the reason.
type GitStatus = abi.GitStatusResult

// GitChange is one changed file of a GitStatus or a GitDiff.
type GitChange = abi.GitChange

// ReadGitStatus asks the host for the state of the repository holding the directory path
// (capability git.read). maxEntries of 0 takes the policy's listing cap.
func ReadGitStatus(path string, maxEntries int) (GitStatus, error) {
	var s GitStatus
	_, err := roundTrip(abi.GitStatusRequest{Op: abi.OpGitStatus, Path: path, MaxEntries: maxEntries}, nil, &s)
	return s, err
}

// GitDiff describes a diff: the files it holds and the changed files the policy left out.
type GitDiff = abi.GitDiffResult

// GitDiffRequest selects a diff: mode "staged", "unstaged" or "ref" (Ref against the working
// tree, or against Head when set). MaxBytes of 0 takes the policy's per-file cap.
type GitDiffRequest struct {
	Path     string
	Mode     string
	Ref      string
	Head     string
	MaxBytes int64
}

// ReadGitDiff asks the host for a unified diff (capability git.read); the text is returned
// beside its description. Denied files are never in the text; GitDiff.Omitted names them.
func ReadGitDiff(r GitDiffRequest) (GitDiff, string, error) {
	var d GitDiff
	body, err := roundTrip(abi.GitDiffRequest{Op: abi.OpGitDiff, Path: r.Path, Mode: r.Mode, Ref: r.Ref, Head: r.Head, MaxBytes: r.MaxBytes}, nil, &d)
	return d, string(body), err
}

// GitLog is a list of commits, newest first.
type GitLog = abi.GitLogResult

// ReadGitLog asks the host for the commits of a range ("A..B", "A...B", one ref, or "" for
// HEAD) in the repository holding path (capability git.read). maxCount of 0 means 100.
func ReadGitLog(path, rangeSpec string, maxCount int) (GitLog, error) {
	var l GitLog
	_, err := roundTrip(abi.GitLogRequest{Op: abi.OpGitLog, Path: path, Range: rangeSpec, MaxCount: maxCount}, nil, &l)
	return l, err
}

// CLIInfo is one program pal.toml lets tools run: its name, description, the extra arguments
// a run may add, its timeout and output cap.
type CLIInfo = abi.CLIInfo

// ListCLIs asks which programs the host may run (capability cli.run); none when cli.run is
// off.
func ListCLIs() ([]CLIInfo, error) {
	var l abi.CLIListResult
	_, err := roundTrip(abi.CLIListRequest{Op: abi.OpCLIList}, nil, &l)
	return l.CLIs, err
}

// CLIResult is how a run ended: exit code (-1 when killed), whether it timed out or passed
// its output cap, how long it took, and the end of its standard error.
type CLIResult = abi.CLIRunResult

// RunCLI runs the configured program name with extra args (each one the entry allows) in
// dir ("" for the entry's default), with stdin as its standard input (capability cli.run).
// It returns the program's standard output, capped and redacted by the host.
func RunCLI(name string, args []string, dir string, stdin []byte) (CLIResult, string, error) {
	var r CLIResult
	if stdin == nil {
		stdin = []byte{}
	}
	body, err := roundTrip(abi.CLIRunRequest{Op: abi.OpCLIRun, Name: name, Args: args, Dir: dir}, stdin, &r)
	return r, string(body), err
}
