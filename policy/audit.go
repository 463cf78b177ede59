package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pal-mcp/pal/internal/privfs"
)

// Decisions of an audit record.
const (
	DecisionAllow = "allow"
	DecisionDeny  = "deny"
)

// Record is one audit line: one host op asked for by one tool in one call. It never holds file
// contents, prompts or keys: Path is relative to its root and Reason is a short explanation.
type Record struct {
	Time     time.Time `json:"time"`             // UTC; filled in when zero
	CallID   string    `json:"call_id"`          // the tool call's id
	Tool     string    `json:"tool"`             // the tool that asked
	Op       string    `json:"op"`               // the ABI op, e.g. "fs.read"
	Decision string    `json:"decision"`         // "allow" or "deny"
	Reason   string    `json:"reason,omitempty"` // why, for a denial; e.g. `matches deny rule ".env"`
	Root     string    `json:"root,omitempty"`   // the root Path is relative to
	Path     string    `json:"path,omitempty"`   // relative to Root, "/"-separated
	Bytes    int64     `json:"bytes,omitempty"`  // bytes returned (file size read, prompt size sent)
	// Redacted counts the secrets replaced by markers in what the op passed on (a file's
	// contents, a prompt); RedactedKinds names their kinds, sorted. Never the secrets.
	Redacted      int      `json:"redacted,omitempty"`
	RedactedKinds []string `json:"redacted_kinds,omitempty"`
	// Client, Remote and Session say who asked over HTTP: the identity of the bearer token
	// ("token:NAME", "token:<sha256 prefix>", "env:NAME", or "local" without tokens; never the
	// token), the remote address and the MCP session id. Empty over stdio.
	Client  string `json:"client,omitempty"`
	Remote  string `json:"remote,omitempty"`
	Session string `json:"session,omitempty"`
}

// Auditor receives audit records. Implementations are safe for concurrent use.
type Auditor interface {
	Audit(Record) error
	Close() error
}

// MaxAuditField caps every string of a record, in bytes: a longer value is cut on a character
// boundary and ends with AuditCutMark. A tool chooses paths, reasons and ids, so it must not
// choose how long an audit line is.
const MaxAuditField = 1024

// MaxAuditKinds caps the kinds listed in Record.RedactedKinds.
const MaxAuditKinds = 32

// AuditCutMark ends a field that was cut to MaxAuditField.
const AuditCutMark = "…[cut]"

// FileAuditor appends records as JSON lines to a file created with mode 0600 in a directory
// created with mode 0700, neither of them a symlink, and rotates the file by size.
type FileAuditor struct {
	mu       sync.Mutex
	path     string
	f        *os.File
	size     int64 // bytes in f
	maxBytes int64
	keep     int
	redact   *Redactor
}

// OpenFileAuditor opens (creating it and its directory if needed) the audit file at path,
// rotated at DefaultAuditMaxBytes keeping DefaultAuditKeep old files. An existing file is kept
// and appended to, and its mode is narrowed to 0600. redact, when not nil, scrubs secrets from
// every record before it is written.
func OpenFileAuditor(path string, redact *Redactor) (*FileAuditor, error) {
	return openFileAuditor(path, DefaultAuditMaxBytes, DefaultAuditKeep, redact)
}

func openFileAuditor(path string, maxBytes int64, keep int, redact *Redactor) (*FileAuditor, error) {
	if path == "" {
		return nil, errors.New("policy: audit path is empty")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("policy: audit path: %w", err)
	}
	if err := privfs.EnsureDir(filepath.Dir(abs)); err != nil {
		return nil, fmt.Errorf("policy: audit directory: %w", err)
	}
	a := &FileAuditor{path: abs, maxBytes: maxBytes, keep: keep, redact: redact}
	if err := a.open(); err != nil {
		return nil, err
	}
	return a, nil
}

// open opens the current file for appending: never through a symlink, never a file of another
// user or with other links (privfs.OpenFile).
func (a *FileAuditor) open() error {
	f, err := privfs.OpenFile(a.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("policy: audit file: %w", err)
	}
	if err := f.Chmod(0o600); err != nil && keyFileModeMatters {
		f.Close()
		return fmt.Errorf("policy: audit file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("policy: audit file: %w", err)
	}
	a.f, a.size = f, st.Size()
	return nil
}

// Audit writes one record as one line, in one write, rotating the file first when the line
// would take it past its size.
func (a *FileAuditor) Audit(r Record) error {
	line, err := encodeRecord(r, a.redact)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return errors.New("policy: audit file is closed")
	}
	if a.size > 0 && a.size+int64(len(line)) > a.maxBytes {
		if err := a.rotate(); err != nil {
			return err
		}
	}
	n, err := a.f.Write(line)
	a.size += int64(n)
	return err
}

// rotate closes the current file, shifts <path>.i to <path>.i+1 (dropping the one past keep),
// renames the current file to <path>.1 and opens a new one.
func (a *FileAuditor) rotate() error {
	if err := a.f.Close(); err != nil {
		return fmt.Errorf("policy: audit rotation: %w", err)
	}
	a.f = nil
	if err := os.Remove(rotatedName(a.path, a.keep)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("policy: audit rotation: %w", err)
	}
	for i := a.keep - 1; i >= 1; i-- {
		if err := os.Rename(rotatedName(a.path, i), rotatedName(a.path, i+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("policy: audit rotation: %w", err)
		}
	}
	if err := os.Rename(a.path, rotatedName(a.path, 1)); err != nil {
		return fmt.Errorf("policy: audit rotation: %w", err)
	}
	return a.open()
}

// rotatedName is the name of the i-th older audit file: <path>.<i>.
func rotatedName(path string, i int) string { return fmt.Sprintf("%s.%d", path, i) }

// AuditFiles returns the audit file at path and its rotated files that exist, oldest first.
func AuditFiles(path string) []string {
	var older []string
	for i := 1; i <= MaxAuditKeep; i++ {
		p := rotatedName(path, i)
		if _, err := os.Lstat(p); err != nil {
			break
		}
		older = append(older, p)
	}
	slices.Reverse(older)
	if _, err := os.Lstat(path); err == nil {
		older = append(older, path)
	}
	return older
}

// Close closes the file; later records are refused.
func (a *FileAuditor) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return nil
	}
	err := a.f.Close()
	a.f = nil
	return err
}

// encodeRecord scrubs, escapes and caps every string of r, then encodes it as one JSON line.
func encodeRecord(r Record, red *Redactor) ([]byte, error) {
	line, err := json.Marshal(sanitizeRecord(r, red))
	if err != nil {
		return nil, fmt.Errorf("policy: audit record: %w", err)
	}
	return append(line, '\n'), nil
}

// sanitizeRecord fills in the time and scrubs, escapes and caps every string of r.
func sanitizeRecord(r Record, red *Redactor) Record {
	r = normalizeRecord(r)
	for _, f := range []*string{&r.CallID, &r.Tool, &r.Op, &r.Decision, &r.Reason, &r.Root, &r.Path, &r.Client, &r.Remote, &r.Session} {
		*f = cleanField(*f, red)
	}
	if len(r.RedactedKinds) > MaxAuditKinds {
		r.RedactedKinds = append(slices.Clone(r.RedactedKinds[:MaxAuditKinds-1]), AuditCutMark)
	} else {
		r.RedactedKinds = slices.Clone(r.RedactedKinds)
	}
	for i, k := range r.RedactedKinds {
		r.RedactedKinds[i] = cleanField(k, nil)
	}
	if len(r.RedactedKinds) == 0 {
		r.RedactedKinds = nil
	}
	return r
}

// cleanField returns s with secrets redacted (when red is not nil), control and
// direction-changing characters and invalid UTF-8 written as visible escapes (\u000a), and
// cut to MaxAuditField bytes.
func cleanField(s string, red *Redactor) string {
	if red != nil {
		s = red.String(s)
	}
	return capField(escapeField(s), MaxAuditField)
}

// escapeField writes the characters that could forge a line or reorder what a terminal shows
// as \uXXXX text, and invalid UTF-8 as \ufffd. JSON would escape some of them; this makes the
// decoded value safe to print as well.
func escapeField(s string) string {
	clean := true
	for _, c := range s {
		if c == utf8.RuneError || unsafeRune(c) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if c == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				b.WriteString(`\ufffd`)
				continue
			}
		}
		if unsafeRune(c) {
			fmt.Fprintf(&b, `\u%04x`, c)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// unsafeRune: control characters, line and paragraph separators, and the bidirectional
// marks and overrides.
func unsafeRune(c rune) bool {
	switch {
	case unicode.IsControl(c):
		return true
	case c == 0x2028, c == 0x2029, c == 0x200e, c == 0x200f, c == 0x061c:
		return true
	case c >= 0x202a && c <= 0x202e, c >= 0x2066 && c <= 0x2069:
		return true
	}
	return false
}

// capField cuts s to at most max bytes on a character boundary, ending it with AuditCutMark.
func capField(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len(AuditCutMark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + AuditCutMark
}

func normalizeRecord(r Record) Record {
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	r.Time = r.Time.UTC()
	return r
}

// MemoryAuditor keeps records in memory, for tests.
type MemoryAuditor struct {
	mu      sync.Mutex
	records []Record
}

// Audit stores the record as a FileAuditor would write it (time filled in and made UTC,
// strings escaped and capped), without redaction.
func (m *MemoryAuditor) Audit(r Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records = append(m.records, sanitizeRecord(r, nil))
	return nil
}

// Close does nothing.
func (m *MemoryAuditor) Close() error { return nil }

// Records returns a copy of the records so far, in order.
func (m *MemoryAuditor) Records() []Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.records)
}

// DiscardAuditor drops every record; it stands in when [audit] enabled = false.
type DiscardAuditor struct{}

// Audit does nothing.
func (DiscardAuditor) Audit(Record) error { return nil }

// Close does nothing.
func (DiscardAuditor) Close() error { return nil }

// OpenAuditor returns the auditor [audit] describes: a FileAuditor at Path, or a
// DiscardAuditor when Enabled is false.
func (a AuditConfig) OpenAuditor(redact *Redactor) (Auditor, error) {
	if !a.Enabled {
		return DiscardAuditor{}, nil
	}
	maxBytes, keep := a.rotation()
	return openFileAuditor(a.Path, maxBytes, keep, redact)
}
