package policy

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pal-mcp/pal/internal/privfs"
)

func readRecords(t *testing.T, path string) []Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

func TestAuditFieldsAreCappedAndEscaped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	a, err := OpenFileAuditor(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", 5000) // 10,000 bytes, two per character
	forged := "x\n{\"decision\":\"allow\",\"tool\":\"forged\"}\r\x1b[2J\u202eevil\u2028\xff"
	kinds := make([]string, 50)
	for i := range kinds {
		kinds[i] = "kind"
	}
	if err := a.Audit(Record{CallID: long, Tool: forged, Op: "fs.read", Decision: "deny", Reason: long + forged, Path: forged, RedactedKinds: kinds}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	data, _ := os.ReadFile(path)
	if n := strings.Count(string(data), "\n"); n != 1 {
		t.Fatalf("%d lines for one record:\n%s", n, data)
	}
	if len(data) > 6*MaxAuditField+MaxAuditKinds*16+200 {
		t.Fatalf("one record took %d bytes", len(data))
	}
	r := readRecords(t, path)[0]
	for name, v := range map[string]string{"call_id": r.CallID, "tool": r.Tool, "reason": r.Reason, "path": r.Path} {
		if len(v) > MaxAuditField || !utf8.ValidString(v) {
			t.Errorf("%s: %d bytes, valid UTF-8 %v", name, len(v), utf8.ValidString(v))
		}
		for _, c := range v {
			if unsafeRune(c) {
				t.Errorf("%s holds %U after decoding: %q", name, c, v)
			}
		}
	}
	if !strings.HasSuffix(r.CallID, AuditCutMark) || !strings.HasSuffix(r.Reason, AuditCutMark) {
		t.Errorf("cut fields are not marked: %q", r.CallID[len(r.CallID)-20:])
	}
	if want := `x\u000a{"decision":"allow","tool":"forged"}\u000d\u001b[2J\u202eevil\u2028\ufffd`; r.Tool != want {
		t.Errorf("tool = %q\nwant   %q", r.Tool, want)
	}
	if len(r.RedactedKinds) != MaxAuditKinds || r.RedactedKinds[MaxAuditKinds-1] != AuditCutMark {
		t.Errorf("kinds: %d, last %q", len(r.RedactedKinds), r.RedactedKinds[len(r.RedactedKinds)-1])
	}

	// The memory auditor stores what the file would hold.
	var m MemoryAuditor
	m.Audit(Record{Tool: forged, Reason: long})
	if got := m.Records()[0]; got.Tool != r.Tool || len(got.Reason) > MaxAuditField {
		t.Errorf("memory auditor: %q, %d bytes", got.Tool, len(got.Reason))
	}
}

func TestCapField(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"0123456789abc", 12, "0123" + AuditCutMark},
		{"ééééééé", 12, "éé" + AuditCutMark}, // "é" is 2 bytes: 12-8 = 4 bytes kept
		{"aéééééé", 12, "aé" + AuditCutMark},
	} {
		got := capField(tc.in, tc.max)
		if got != tc.want || len(got) > tc.max || !utf8.ValidString(got) {
			t.Errorf("capField(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestAuditRotation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "audit.jsonl")
	a, err := AuditConfig{Enabled: true, Path: path, MaxBytes: 1000, Keep: 2}.OpenAuditor(nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		if err := a.Audit(Record{CallID: strings.Repeat("c", 50), Op: "fs.read", Decision: "allow", Bytes: int64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	files := AuditFiles(path)
	if len(files) != 3 || files[0] != path+".2" || files[1] != path+".1" || files[2] != path {
		t.Fatalf("files = %v", files)
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Fatal("more files kept than keep allows")
	}
	var all []Record
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > 1000 {
			t.Errorf("%s is %d bytes, over max_bytes", f, st.Size())
		}
		if keyFileModeMatters && st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %04o", f, st.Mode().Perm())
		}
		all = append(all, readRecords(t, f)...)
	}
	// Oldest first, contiguous, ending with the last record.
	for i := 1; i < len(all); i++ {
		if all[i].Bytes != all[i-1].Bytes+1 {
			t.Fatalf("records out of order at %d: %d after %d", i, all[i].Bytes, all[i-1].Bytes)
		}
	}
	if all[len(all)-1].Bytes != 60 {
		t.Fatalf("last record %d", all[len(all)-1].Bytes)
	}

	// Reopening appends to the current file and counts its size.
	a2, err := AuditConfig{Enabled: true, Path: path, MaxBytes: 1000, Keep: 2}.OpenAuditor(nil)
	if err != nil {
		t.Fatal(err)
	}
	before := len(readRecords(t, path))
	a2.Audit(Record{Op: "x"})
	a2.Close()
	if after := readRecords(t, path); len(after) != before+1 && len(after) != 1 {
		t.Fatalf("reopen: %d records, had %d", len(after), before)
	}
}

func TestAuditRefusesSymlinks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere.txt")
	if err := os.WriteFile(target, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "audit.jsonl")
	if err := os.Symlink(target, path); err != nil {
		t.Skip("no symlinks:", err)
	}
	if _, err := OpenFileAuditor(path, nil); !errors.Is(err, privfs.ErrSymlink) {
		t.Fatalf("audit file that is a symlink: err = %v", err)
	}
	linkDir := filepath.Join(dir, "linkdir")
	if err := os.Symlink(dir, linkDir); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFileAuditor(filepath.Join(linkDir, "audit.jsonl"), nil); err == nil {
		t.Fatal("audit directory that is a symlink accepted")
	}
	if data, _ := os.ReadFile(target); string(data) != "keep me\n" {
		t.Fatalf("the symlink target was written: %q", data)
	}
}

func TestAuditConfigValidation(t *testing.T) {
	d := Default().Audit
	if d.MaxBytes != 16<<20 || d.Keep != 3 {
		t.Fatalf("defaults %+v", d)
	}
	dir := t.TempDir()
	for _, tc := range []struct{ toml, key string }{
		{"[audit]\nmax_bytes = 100\n", "audit.max_bytes"},
		{"[audit]\nmax_bytes = 2147483648\n", "audit.max_bytes"},
		{"[audit]\nkeep = 0\n", "audit.keep"},
		{"[audit]\nkeep = 101\n", "audit.keep"},
	} {
		p := filepath.Join(dir, "pal.toml")
		os.WriteFile(p, []byte(tc.toml), 0o600)
		_, err := Load(p)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != tc.key {
			t.Errorf("%q: err = %v, want one about %s", tc.toml, err, tc.key)
		}
	}
	p := filepath.Join(dir, "pal.toml")
	os.WriteFile(p, []byte("[audit]\nmax_bytes = 1048576\nkeep = 5\n"), 0o600)
	c, err := Load(p)
	if err != nil || c.Audit.MaxBytes != 1<<20 || c.Audit.Keep != 5 {
		t.Fatalf("load: %v %+v", err, c.Audit)
	}
}
