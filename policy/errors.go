package policy

import (
	"errors"
	"strconv"
)

// Sentinel errors of the path rules. Every error from Paths wraps exactly one of them (test
// with errors.Is) inside a *PathError that names the path the client gave and the reason.
var (
	// ErrRelative: the path is not absolute. ABI code "denied".
	ErrRelative = errors.New("path is not absolute")
	// ErrOutsideRoots: the path lies in no allowed root. ABI code "denied".
	ErrOutsideRoots = errors.New("path is outside every allowed root")
	// ErrEscapesRoot: a symlink or ".." leads out of the root the path started in. ABI code "denied".
	ErrEscapesRoot = errors.New("path escapes its root")
	// ErrDenied: a deny rule matches, or the filesystem refused access. ABI code "denied".
	ErrDenied = errors.New("path denied by policy")
	// ErrNotFound: the path does not exist (or a component of it is not a directory).
	// ABI code "not_found".
	ErrNotFound = errors.New("path not found")
	// ErrIsDir: a file was asked for and the path is a directory. ABI code "invalid".
	ErrIsDir = errors.New("is a directory")
	// ErrNotDir: a directory was asked for and the path is a file. ABI code "invalid".
	ErrNotDir = errors.New("is not a directory")
	// ErrNotRegular: the path is a device, socket or pipe. ABI code "invalid".
	ErrNotRegular = errors.New("is not a regular file")
	// ErrSymlinkLoop: more than MaxSymlinkHops symlinks on the way. ABI code "invalid".
	ErrSymlinkLoop = errors.New("too many levels of symbolic links")
	// ErrTooLarge: the file is over the size cap. ABI code "too_large".
	ErrTooLarge = errors.New("file too large")
	// ErrChanged: the file changed between the check and the open (a race). ABI code "denied".
	ErrChanged = errors.New("path changed while it was being opened")
	// ErrBadRoot: a configured root cannot be used (missing, not a directory, too broad, or
	// itself matching a deny rule). Returned by NewPaths only.
	ErrBadRoot = errors.New("unusable root")
)

// PathError is a refusal or failure for one path. Its text names the path exactly as the
// client gave it and the reason; it never holds file contents or symlink targets.
type PathError struct {
	Path   string // the path as the client gave it
	Reason string // e.g. `matches deny rule ".env"`
	Err    error  // one of the sentinels above
	// Rule is the deny glob that refused the path, when one did.
	Rule string
}

func (e *PathError) Error() string { return strconv.Quote(e.Path) + " " + e.Reason }

// Unwrap returns the sentinel.
func (e *PathError) Unwrap() error { return e.Err }

func pathErr(path string, sentinel error, reason string) error {
	return &PathError{Path: path, Reason: reason, Err: sentinel}
}

// denyErr is the ErrDenied of a deny glob.
func denyErr(path, rule, reason string) error {
	return &PathError{Path: path, Reason: reason, Err: ErrDenied, Rule: rule}
}

// The ABI error codes this package's errors map to (docs/abi.md).
const (
	CodeDenied   = "denied"
	CodeInvalid  = "invalid"
	CodeNotFound = "not_found"
	CodeTooLarge = "too_large"
	CodeInternal = "internal"
)

// ErrorCode maps an error from this package to its ABI error code; nil maps to "".
func ErrorCode(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrRelative), errors.Is(err, ErrOutsideRoots), errors.Is(err, ErrEscapesRoot),
		errors.Is(err, ErrDenied), errors.Is(err, ErrChanged):
		return CodeDenied
	case errors.Is(err, ErrNotFound):
		return CodeNotFound
	case errors.Is(err, ErrIsDir), errors.Is(err, ErrNotDir), errors.Is(err, ErrNotRegular),
		errors.Is(err, ErrSymlinkLoop):
		return CodeInvalid
	case errors.Is(err, ErrTooLarge):
		return CodeTooLarge
	}
	return CodeInternal
}
