package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
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
}

// Auditor receives audit records. Implementations are safe for concurrent use.
type Auditor interface {
	Audit(Record) error
	Close() error
}

// FileAuditor appends records as JSON lines to a file created with mode 0600 in a directory
// created with mode 0700.
type FileAuditor struct {
	mu     sync.Mutex
	f      *os.File
	redact *Redactor
}

// OpenFileAuditor opens (creating it and its directory if needed) the audit file at path. An
// existing file is kept and appended to, and its mode is narrowed to 0600. redact, when not
// nil, scrubs known secrets from every record before it is written.
func OpenFileAuditor(path string, redact *Redactor) (*FileAuditor, error) {
	if path == "" {
		return nil, errors.New("policy: audit path is empty")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("policy: audit directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("policy: audit file: %w", err)
	}
	if err := f.Chmod(0o600); err != nil && keyFileModeMatters {
		f.Close()
		return nil, fmt.Errorf("policy: audit file: %w", err)
	}
	return &FileAuditor{f: f, redact: redact}, nil
}

// Audit writes one record as one line, in one write.
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
	_, err = a.f.Write(line)
	return err
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

func encodeRecord(r Record, red *Redactor) ([]byte, error) {
	r = normalizeRecord(r)
	if red != nil {
		r.CallID, r.Tool, r.Op = red.String(r.CallID), red.String(r.Tool), red.String(r.Op)
		r.Reason, r.Root, r.Path = red.String(r.Reason), red.String(r.Root), red.String(r.Path)
	}
	line, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("policy: audit record: %w", err)
	}
	return append(line, '\n'), nil
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

// Audit stores the record (time filled in and made UTC).
func (m *MemoryAuditor) Audit(r Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records = append(m.records, normalizeRecord(r))
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
	return OpenFileAuditor(a.Path, redact)
}
