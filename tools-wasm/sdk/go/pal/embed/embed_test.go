package embed

import (
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestLineNumbered(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"one line", "package a", "   1│ package a"},
		{"final newline adds no line", "a\nb\n", "   1│ a\n   2│ b"},
		{"blank lines kept", "a\n\nb", "   1│ a\n   2│ \n   3│ b"},
		{"only a newline", "\n", "   1│ "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LineNumbered(tt.in); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	// The width grows past 4 digits with the line count.
	got := LineNumbered(strings.Repeat("x\n", 10000))
	lines := strings.Split(got, "\n")
	if lines[0] != "    1│ x" || lines[9999] != "10000│ x" {
		t.Fatalf("wide numbering: %q ... %q", lines[0], lines[9999])
	}
	got = LineNumbered(strings.Repeat("x\n", 9999))
	if !strings.HasPrefix(got, "   1│ x") {
		t.Fatalf("9999 lines use width 4: %q", got[:10])
	}
}

// FuzzLineNumbered: numbering keeps every line's text, in order, and numbers it 1..n.
func FuzzLineNumbered(f *testing.F) {
	for _, s := range []string{"", "a", "a\n", "\n\n", "a\nb\r\nc", "│ x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := LineNumbered(s)
		if s == "" {
			if got != "" {
				t.Fatalf("empty text numbered as %q", got)
			}
			return
		}
		want := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
		lines := strings.Split(got, "\n")
		if len(lines) != len(want) {
			t.Fatalf("%d lines became %d", len(want), len(lines))
		}
		for i, l := range lines {
			num, text, ok := strings.Cut(l, "│ ")
			if !ok || strings.TrimSpace(num) != strconv.Itoa(i+1) || len(num) < 4 || text != want[i] {
				t.Fatalf("line %d: %q from %q", i+1, l, want[i])
			}
		}
	})
}

func TestNormalize(t *testing.T) {
	got := Normalize([]byte("a\r\nb\rc\xffd"))
	if got != "a\nb\nc\uFFFDd" || !utf8.ValidString(got) {
		t.Fatalf("got %q", got)
	}
}

func TestBlock(t *testing.T) {
	mod := time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("x", 3600))
	got := Block("/src/a.go", mod, "   1│ package a")
	want := "\n--- BEGIN FILE: /src/a.go (Last modified: 2025-03-04 04:06:07 UTC) ---\n   1│ package a\n--- END FILE: /src/a.go ---\n"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if got := Block("/b", time.Time{}, "x"); !strings.HasPrefix(got, "\n--- BEGIN FILE: /b ---\n") {
		t.Fatalf("no time: %q", got)
	}
}

func TestEstimatesAndFilters(t *testing.T) {
	if Tokens("12345678") != 2 {
		t.Fatal("Tokens")
	}
	if FileTokens("/a.json", 250) != 100 || FileTokens("/a.unknown", 350) != 100 || FileTokens("/A.MD", 420) != 100 {
		t.Fatal("FileTokens")
	}
	for p, want := range map[string]bool{"/a.go": true, "/A.PY": true, "/x.png": false, "/Makefile": false, "/d/.env": true} {
		if IsCodeFile(p) != want {
			t.Errorf("IsCodeFile(%s) != %v", p, want)
		}
	}
}

func TestNotes(t *testing.T) {
	var many []string
	for i := 0; i < 12; i++ {
		many = append(many, "/f"+strconv.Itoa(i))
	}
	got := SkippedNote(many)
	if !strings.Contains(got, "Total skipped: 12") || !strings.Contains(got, "  - /f9\n") || strings.Contains(got, "/f10") || !strings.Contains(got, "... and 2 more") {
		t.Fatalf("skipped note: %q", got)
	}
	if SkippedNote(nil) != "" || InHistoryNote(nil) != "" {
		t.Fatal("empty notes must be empty")
	}
	if got := InHistoryNote([]string{"/a.go"}); !strings.Contains(got, "  - /a.go\n") {
		t.Fatalf("history note: %q", got)
	}
}
