package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pal-mcp/pal/policy"
)

// writeAudit writes records through the real auditor, so the test reads what pal writes.
func writeAudit(t *testing.T, path string, recs ...policy.Record) {
	t.Helper()
	a, err := policy.OpenFileAuditor(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := a.Audit(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
}

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func sampleRecords() []policy.Record {
	return []policy.Record{
		{Time: t0, CallID: "c1", Tool: "chat", Op: "fs.read", Decision: "allow", Root: "/w", Path: "src/a.go", Bytes: 120,
			Redacted: 2, RedactedKinds: []string{"aws-access-token", "github-pat"}},
		{Time: t0.Add(time.Minute), CallID: "c1", Tool: "chat", Op: "fs.read", Decision: "deny", Root: "/w", Path: ".env", Reason: `matches deny rule ".env*"`},
		{Time: t0.Add(2 * time.Minute), CallID: "c1", Tool: "chat", Op: "model.generate", Decision: "allow", Path: "openai/gpt-5", Bytes: 900,
			Redacted: 1, RedactedKinds: []string{"aws-access-token"}},
		{Time: t0.Add(time.Hour), CallID: "c2", Tool: "codereview", Op: "fs.list", Decision: "error", Reason: "line one\nforged line"},
	}
}

func TestAuditCommand(t *testing.T) {
	isolate(t)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	writeAudit(t, path, sampleRecords()...)

	tests := []struct {
		name      string
		args      []string
		lines     int // record lines printed
		summary   string
		mustHave  []string
		mustLack  []string
		wantCode  int
		wantError string
	}{
		{name: "all", args: nil, lines: 4, summary: "summary: 4 of 4 records matched",
			mustHave: []string{"by tool: chat=3 codereview=1", "by op: fs.read=2 fs.list=1 model.generate=1",
				"by decision: allow=2 deny=1 error=1", "redacted: 3 secret(s); records per kind: aws-access-token=2 github-pat=1",
				"path=/w/src/a.go", "path=openai/gpt-5  ", "redacted=2(aws-access-token,github-pat)", `reason="matches deny rule \".env*\""`}},
		{name: "tool", args: []string{"-tool", "codereview"}, lines: 1, summary: "summary: 1 of 4 records matched",
			mustHave: []string{`reason="line one\\u000aforged line"`}, mustLack: []string{"forged line\n"}},
		{name: "op list", args: []string{"-op", "fs.read, model.generate"}, lines: 3, summary: "3 of 4"},
		{name: "decision", args: []string{"-decision", "deny"}, lines: 1, summary: "1 of 4", mustHave: []string{"path=/w/.env"}},
		{name: "since", args: []string{"-since", t0.Add(90 * time.Second).Format(time.RFC3339)}, lines: 2, summary: "2 of 4"},
		{name: "until", args: []string{"-until", t0.Add(90 * time.Second).Format(time.RFC3339)}, lines: 2, summary: "2 of 4"},
		{name: "range and tool", args: []string{"-since", "2026-11-26", "-until", "2026-11-27", "-tool", "chat", "-decision", "allow"}, lines: 2, summary: "2 of 4"},
		{name: "nothing", args: []string{"-tool", "nope"}, lines: 0, summary: "summary: 0 of 4 records matched"},
		{name: "duration since", args: []string{"-since", "1h"}, lines: 0, summary: "0 of 4"},
		{name: "summary only", args: []string{"-summary"}, lines: 0, summary: "4 of 4"},
		{name: "bad time", args: []string{"-since", "yesterday"}, wantCode: 2, wantError: "not a time"},
		{name: "bad flag", args: []string{"-bogus"}, wantCode: 2, wantError: "bogus"},
		{name: "argument", args: []string{"extra"}, wantCode: 2, wantError: "unexpected argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := invoke(append([]string{"audit", "-file", path}, tc.args...)...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr %s", code, tc.wantCode, errOut)
			}
			if tc.wantCode != 0 {
				if !strings.Contains(errOut, tc.wantError) {
					t.Fatalf("stderr %q lacks %q", errOut, tc.wantError)
				}
				return
			}
			n := strings.Count(out, "\n2026-") + map[bool]int{true: 1}[strings.HasPrefix(out, "2026-")]
			if n != tc.lines {
				t.Errorf("%d record lines, want %d:\n%s", n, tc.lines, out)
			}
			if !strings.Contains(out, tc.summary) {
				t.Errorf("no %q in:\n%s", tc.summary, out)
			}
			for _, s := range tc.mustHave {
				if !strings.Contains(out, s) {
					t.Errorf("no %q in:\n%s", s, out)
				}
			}
			for _, s := range tc.mustLack {
				if strings.Contains(out, s) {
					t.Errorf("%q in:\n%s", s, out)
				}
			}
		})
	}
}

func TestAuditCommandJSON(t *testing.T) {
	isolate(t)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	writeAudit(t, path, sampleRecords()...)
	code, out, errOut := invoke("audit", "-file", path, "-json", "-op", "fs.read")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	var r policy.Record
	if err := json.Unmarshal([]byte(lines[0]), &r); err != nil || r.Path != "src/a.go" || r.Redacted != 2 {
		t.Fatalf("first line %q: %v %+v", lines[0], err, r)
	}
}

// TestAuditCommandReadsRotatedFilesAndDefaultPath: with no -file the path comes from the
// configuration ($XDG_STATE_HOME/pal/audit.jsonl by default), and rotated files are read
// oldest first; lines that are not records are counted, not fatal.
func TestAuditCommandReadsRotatedFilesAndDefaultPath(t *testing.T) {
	isolate(t)
	path := policy.Default().Audit.Path
	if !strings.HasPrefix(path, os.Getenv("XDG_STATE_HOME")) {
		t.Fatalf("default audit path %s is not under XDG_STATE_HOME", path)
	}
	recs := sampleRecords()
	writeAudit(t, path+".1", recs[:2]...)
	writeAudit(t, path, recs[2:]...)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("not json\n" + strings.Repeat("x", 2<<20) + "\n")
	f.Close()

	code, out, errOut := invoke("audit")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "summary: 4 of 4 records matched (2 unreadable lines skipped); 2 file(s): "+path+".1, "+path) {
		t.Fatalf("summary:\n%s", out)
	}
	if first, last := strings.Index(out, "c1"), strings.Index(out, "c2"); first < 0 || last < first {
		t.Fatalf("records out of order:\n%s", out)
	}

	os.Remove(path)
	os.Remove(path + ".1")
	if code, _, errOut := invoke("audit"); code != 1 || !strings.Contains(errOut, "no audit log") {
		t.Fatalf("missing log: exit %d, %s", code, errOut)
	}
}

func TestAuditHelp(t *testing.T) {
	isolate(t)
	code, out, _ := invoke("audit", "-h")
	if code != 0 || !strings.Contains(out, "-decision") || !strings.Contains(out, "-since") {
		t.Fatalf("help: %d %s", code, out)
	}
	if _, out, _ := invoke("help"); !strings.Contains(out, "audit") {
		t.Fatalf("usage lacks audit: %s", out)
	}
}
