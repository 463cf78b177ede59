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

// lineNumberedBefore is LineNumbered as it was before §58 (strconv per line, strings.Count):
// the new numbering must give the same bytes.
func lineNumberedBefore(text string) string {
	if text == "" {
		return ""
	}
	text = strings.TrimSuffix(text, "\n")
	lines := strings.Count(text, "\n") + 1
	width := max(4, len(strconv.Itoa(lines)))
	var b []byte
	for n := 1; ; n++ {
		if n > 1 {
			b = append(b, '\n')
		}
		digits := strconv.Itoa(n)
		b = append(b, strings.Repeat(" ", width-len(digits))+digits+"│ "...)
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			b = append(b, text...)
			break
		}
		b = append(b, text[:i]...)
		text = text[i+1:]
	}
	return string(b)
}

func TestLineNumberedAsBefore(t *testing.T) {
	for _, n := range []int{1, 9, 10, 99, 100, 999, 1000, 9998, 9999, 10000, 10001, 99999, 100000, 123456} {
		text := strings.Repeat("ab\n", n)
		if got, want := LineNumbered(text), lineNumberedBefore(text); got != want {
			t.Fatalf("%d lines: the numbering differs from before", n)
		}
		if got := AppendFile(nil, "/p", time.Time{}, []byte(text)); string(got) != Block("/p", time.Time{}, lineNumberedBefore(text)) {
			t.Fatalf("%d lines: AppendFile differs from Block", n)
		}
	}
}

func TestCountLinesByWords(t *testing.T) {
	for _, s := range []string{"", "\n", "a", "abcdefg\n", "abcdefgh\n", "\n\n\n\n\n\n\n\n\n", "\xff\n\x00\n\x0b\x09\n" + strings.Repeat("é\n", 40)} {
		for i := range len(s) {
			if got, want := countLinesByWords(s[i:]), strings.Count(s[i:], "\n"); got != want {
				t.Fatalf("%q: %d line ends, want %d", s[i:], got, want)
			}
		}
	}
}

// FuzzAppendFile: AppendFile appends what Block, LineNumbered and Normalize give, whatever
// the bytes (invalid UTF-8, CR, line ends at word edges) and whatever dst holds.
func FuzzAppendFile(f *testing.F) {
	for _, s := range []string{"", "a", "a\n", "\n\n", "a\nb\r\nc", "│ x", "\xff\r", "12345678\n1234567\n"} {
		f.Add([]byte(s), "pre")
	}
	mod := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte, pre string) {
		keep := string(body)
		want := pre + Block("/a/b.go", mod, lineNumberedBefore(Normalize(body)))
		dst := append(make([]byte, 0, len(pre)+len(body)%7), pre...)
		if got := AppendFile(dst, "/a/b.go", mod, body); string(got) != want {
			t.Fatalf("AppendFile(%q) = %q, want %q", body, got, want)
		}
		if string(body) != keep {
			t.Fatalf("AppendFile changed the file bytes")
		}
		if got := LineNumbered(string(body)); got != lineNumberedBefore(string(body)) {
			t.Fatalf("LineNumbered(%q) = %q, want %q", body, got, lineNumberedBefore(string(body)))
		}
		if got, want := countLinesByWords(string(body)), strings.Count(string(body), "\n"); got != want {
			t.Fatalf("countLinesByWords(%q) = %d, want %d", body, got, want)
		}
	})
}
