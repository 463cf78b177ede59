package history

import (
	"strings"
	"testing"
	"time"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
)

func TestAllocate(t *testing.T) {
	tests := []struct {
		w    int
		want Allocation
	}{
		{200_000, Allocation{Content: 120_000, Response: 80_000, Files: 36_000, History: 60_000}},
		{299_999, Allocation{Content: 179_999, Response: 120_000, Files: 53_999, History: 89_999}},
		{300_000, Allocation{Content: 240_000, Response: 60_000, Files: 96_000, History: 96_000}},
		{400_000, Allocation{Content: 320_000, Response: 80_000, Files: 128_000, History: 128_000}},
		{1_048_576, Allocation{Content: 838_860, Response: 209_716, Files: 335_544, History: 335_544}},
		{0, Allocation{}},
		{-5, Allocation{}},
	}
	for _, tt := range tests {
		if got := Allocate(tt.w); got != tt.want {
			t.Errorf("Allocate(%d) = %+v, want %+v", tt.w, got, tt.want)
		}
	}
}

type fakeFiles map[string]string

func (f fakeFiles) Size(p string) (int64, bool) {
	s, ok := f[p]
	return int64(len(s)), ok
}

func (f fakeFiles) Read(p string) (string, time.Time, bool) {
	s, ok := f[p]
	return s, time.Time{}, ok
}

func thread() pal.Thread {
	return pal.Thread{ID: "t-1", Tool: "chat", Turns: []pal.Turn{
		{Role: "user", Content: "first question", Files: []string{"/a.go", "/b.go"}, Tool: "chat"},
		{Role: "assistant", Content: "first answer", Model: "flash", Provider: "google", Tool: "chat"},
		{Role: "user", Content: "second question", Files: []string{"/c.go", "/a.go"}, Tool: "chat"},
		{Role: "assistant", Content: "second answer", Tool: "chat"},
	}}
}

func TestThreadFilesNewestFirst(t *testing.T) {
	got := strings.Join(ThreadFiles(thread()), " ")
	if got != "/c.go /a.go /b.go" {
		t.Fatalf("got %s", got)
	}
}

func TestBuildLayout(t *testing.T) {
	src := fakeFiles{"/a.go": "package a", "/b.go": "package b", "/c.go": "package c"}
	got := Build(thread(), 50, Allocate(200_000), src)
	want := []string{
		"=== CONVERSATION HISTORY (CONTINUATION) ===\nThread: t-1\nTool: chat\nTurn 4/50\n",
		"=== FILES REFERENCED IN THIS CONVERSATION ===",
		"--- BEGIN FILE: /c.go ---\npackage c\n--- END FILE: /c.go ---",
		"=== END REFERENCED FILES ===",
		"Previous conversation turns:",
		"--- Turn 1 (Agent using chat) ---\nFiles used in this turn: /a.go, /b.go\n\nfirst question\n",
		"--- Turn 2 (flash using chat via google) ---\nfirst answer\n",
		"--- Turn 3 (Agent using chat) ---",
		"--- Turn 4 (Assistant using chat) ---\nsecond answer\n",
		"=== END CONVERSATION HISTORY ===",
		"This is turn 5 of the conversation.",
	}
	last := -1
	for _, w := range want {
		i := strings.Index(got.Text, w)
		if i < 0 || i < last {
			t.Fatalf("missing or out of order %q in\n%s", w, got.Text)
		}
		last = i
	}
	if strings.Count(got.Text, "first question") != 1 || strings.Count(got.Text, "BEGIN FILE: /a.go") != 1 {
		t.Fatalf("a turn or file appears twice:\n%s", got.Text)
	}
	// Files are shown newest first: c, a, b.
	if ci, ai, bi := strings.Index(got.Text, "FILE: /c.go"), strings.Index(got.Text, "FILE: /a.go"), strings.Index(got.Text, "FILE: /b.go"); !(ci < ai && ai < bi) {
		t.Fatalf("file order c=%d a=%d b=%d", ci, ai, bi)
	}
	if got.TurnsShown != 4 || got.FilesOmitted != 0 || len(got.Files) != 3 || got.Tokens != Tokens(got.Text) {
		t.Fatalf("counts %+v", got)
	}
	if strings.Contains(got.Text, "[Note: Showing") || strings.Contains(got.Text, "[NOTE:") {
		t.Fatal("truncation notes without truncation")
	}
}

func TestBuildFileBudgetAndMissingFiles(t *testing.T) {
	// /c.go is missing; /a.go is too big for a 10-token file budget; /b.go fits.
	src := fakeFiles{"/a.go": strings.Repeat("x", 400), "/b.go": "package b"}
	got := Build(thread(), 50, Allocation{Files: 10, History: 100_000}, src)
	if len(got.Files) != 1 || got.Files[0] != "/b.go" || got.FilesOmitted != 2 {
		t.Fatalf("files %v omitted %d", got.Files, got.FilesOmitted)
	}
	if !strings.Contains(got.Text, "[NOTE: 2 file(s) left out") || strings.Contains(got.Text, "xxxx") {
		t.Fatalf("text:\n%s", got.Text)
	}
}

func TestBuildKeepsNewestTurnsWithinBudget(t *testing.T) {
	th := thread()
	for i := range th.Turns {
		th.Turns[i].Files = nil
		th.Turns[i].Content = strings.Repeat("w", 300) + " turn-" + string(rune('A'+i))
	}
	// Each rendered turn is about 110 tokens: a 250-token budget keeps the newest two.
	got := Build(th, 50, Allocation{History: 250}, fakeFiles{})
	if got.TurnsShown != 2 || strings.Contains(got.Text, "turn-A") || strings.Contains(got.Text, "turn-B") ||
		!strings.Contains(got.Text, "--- Turn 3 (") || !strings.Contains(got.Text, "[Note: Showing 2 most recent turns out of 4 total]") {
		t.Fatalf("shown %d:\n%s", got.TurnsShown, got.Text)
	}
	if strings.Index(got.Text, "turn-C") > strings.Index(got.Text, "turn-D") {
		t.Fatal("turns not oldest first")
	}
	if strings.Contains(got.Text, "FILES REFERENCED") {
		t.Fatal("file section without files")
	}
}
