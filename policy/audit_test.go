package policy

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFileAuditor(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "pal")
	path := filepath.Join(dir, "audit.jsonl")
	const secret = "sk-audit-secret-123456"
	a, err := OpenFileAuditor(path, NewRedactor(secret))
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 11, 26, 10, 0, 0, 0, time.FixedZone("x", 3600))
	records := []Record{
		{Time: when, CallID: "c-1", Tool: "chat", Op: "fs.read", Decision: DecisionAllow, Root: "/w", Path: "src/a.go", Bytes: 120},
		{CallID: "c-1", Tool: "chat", Op: "fs.read", Decision: DecisionDeny, Reason: `"/w/.env" matches deny rule ".env"`, Root: "/w", Path: ".env"},
		{CallID: "c-2", Tool: "evil", Op: "model.generate", Decision: DecisionDeny, Reason: "leaked " + secret},
	}
	for _, r := range records {
		if err := a.Audit(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Audit(records[0]); err == nil {
		t.Error("Audit after Close accepted")
	}

	if keyFileModeMatters {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("audit file mode = %04o, want 0600", st.Mode().Perm())
		}
		dst, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if dst.Mode().Perm() != 0o700 {
			t.Errorf("audit dir mode = %04o, want 0700", dst.Mode().Perm())
		}
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), secret) {
		t.Fatal("a secret reached the audit file")
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), data)
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"time": "2026-11-26T09:00:00Z", "call_id": "c-1", "tool": "chat", "op": "fs.read",
		"decision": "allow", "root": "/w", "path": "src/a.go", "bytes": float64(120),
	}
	if !reflect.DeepEqual(first, want) {
		t.Errorf("first line = %v\nwant %v", first, want)
	}
	var second Record
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	if second.Time.IsZero() || second.Time.Location() != time.UTC || second.Decision != DecisionDeny || second.Reason == "" {
		t.Errorf("second record = %+v", second)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		var m map[string]any
		json.Unmarshal([]byte(lines[1]), &m)
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
	if !slices.Equal(keys, []string{"call_id", "decision", "op", "path", "reason", "root", "time", "tool"}) {
		t.Errorf("second record keys = %v", keys)
	}

	// Reopening appends, and narrows a loosened mode again.
	if keyFileModeMatters {
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, err = OpenFileAuditor(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.Audit(Record{CallID: "c-3", Tool: "chat", Op: "progress", Decision: DecisionAllow})
	a.Close()
	if st, _ := os.Stat(path); keyFileModeMatters && st.Mode().Perm() != 0o600 {
		t.Errorf("reopened file mode = %04o", st.Mode().Perm())
	}
	data, _ = os.ReadFile(path)
	if n := strings.Count(string(data), "\n"); n != 4 {
		t.Errorf("%d lines after reopening, want 4", n)
	}
}

func TestFileAuditorConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	a, err := OpenFileAuditor(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				a.Audit(Record{CallID: strings.Repeat("x", w+1), Tool: "t", Op: "fs.read", Decision: DecisionAllow, Bytes: int64(i)})
			}
		}()
	}
	wg.Wait()
	a.Close()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %d is not a record: %q", n+1, sc.Text())
		}
		n++
	}
	if n != writers*each {
		t.Fatalf("%d records, want %d", n, writers*each)
	}
}

func TestMemoryAndDiscardAuditors(t *testing.T) {
	var m MemoryAuditor
	m.Audit(Record{CallID: "a", Decision: DecisionAllow})
	m.Audit(Record{CallID: "b", Decision: DecisionDeny})
	got := m.Records()
	if len(got) != 2 || got[0].CallID != "a" || got[1].Decision != DecisionDeny || got[0].Time.IsZero() {
		t.Fatalf("records = %+v", got)
	}
	got[0].CallID = "changed"
	if m.Records()[0].CallID != "a" {
		t.Fatal("Records shares its slice")
	}

	off := AuditConfig{Enabled: false, Path: filepath.Join(t.TempDir(), "never", "audit.jsonl")}
	a, err := off.OpenAuditor(nil)
	if err != nil {
		t.Fatal(err)
	}
	a.Audit(Record{CallID: "x"})
	a.Close()
	if _, err := os.Stat(off.Path); !os.IsNotExist(err) {
		t.Fatal("a disabled audit log created its file")
	}
	on := AuditConfig{Enabled: true, Path: off.Path}
	a, err = on.OpenAuditor(nil)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if _, err := os.Stat(on.Path); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFileAuditor("", nil); err == nil {
		t.Fatal("empty path accepted")
	}
}
