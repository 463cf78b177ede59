// Package history turns a conversation thread into the text a model reads when a
// conversation continues: the files the thread referred to (newest first, within a file
// budget), then its turns (the newest that fit a history budget, shown oldest first with
// their original numbers). It also splits a model's context window into budgets.
package history

import (
	"fmt"
	"strings"
	"time"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/embed"
)

// Allocation splits a context window, in tokens.
type Allocation struct {
	Content  int // everything sent to the model
	Response int // kept free for the reply
	Files    int // files, out of Content
	History  int // conversation history, out of Content
}

// Allocate splits a context window of w tokens. Below 300,000 tokens, content gets 60 %
// (files 30 % and history 50 % of it); from 300,000 up, content gets 80 % (files and
// history 40 % each). Fractions are truncated.
func Allocate(w int) Allocation {
	w = max(w, 0)
	if w < 300_000 {
		c := w * 6 / 10
		return Allocation{Content: c, Response: w - c, Files: c * 3 / 10, History: c / 2}
	}
	c := w * 8 / 10
	return Allocation{Content: c, Response: w - c, Files: c * 4 / 10, History: c * 4 / 10}
}

// Tokens estimates the tokens of history text: one per 3 bytes.
func Tokens(s string) int { return len(s) / 3 }

// FileSource gives the builder the files a thread refers to.
type FileSource interface {
	// Size returns a file's size in bytes; ok is false when the file cannot be used.
	Size(path string) (size int64, ok bool)
	// Read returns a file's normalised text and modification time; ok is false when the
	// file cannot be used.
	Read(path string) (text string, modified time.Time, ok bool)
}

// Built is the history text and what went into it.
type Built struct {
	Text          string
	Tokens        int      // Tokens(Text)
	Files         []string // files embedded, in the order shown
	FilesOmitted  int      // thread files left out: over the budget or unreadable
	TurnsShown    int
	TurnsInThread int
}

// ThreadFiles lists the unique files of a thread, newest turn first and, within a turn,
// in the order the turn listed them.
func ThreadFiles(th pal.Thread) []string {
	seen := map[string]bool{}
	var out []string
	for i := len(th.Turns) - 1; i >= 0; i-- {
		for _, f := range th.Turns[i].Files {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out
}

// Build renders the history of th for a model with allocation a. maxTurns is the thread's
// turn cap, shown in the header.
func Build(th pal.Thread, maxTurns int, a Allocation, src FileSource) Built {
	out := Built{TurnsInThread: len(th.Turns)}
	var b strings.Builder
	fmt.Fprintf(&b, "=== CONVERSATION HISTORY (CONTINUATION) ===\nThread: %s\nTool: %s\nTurn %d/%d\n", th.ID, th.Tool, len(th.Turns), maxTurns)
	b.WriteString("This request continues the conversation recorded below.\n")

	files := ThreadFiles(th)
	fileSection := ""
	if len(files) > 0 {
		var blocks []string
		used := 0
		for _, f := range files {
			size, ok := src.Size(f)
			if !ok {
				out.FilesOmitted++
				continue
			}
			cost := embed.FileTokens(f, size)
			if used+cost > a.Files {
				out.FilesOmitted++
				continue
			}
			text, mod, ok := src.Read(f)
			if !ok {
				out.FilesOmitted++
				continue
			}
			used += cost
			blocks = append(blocks, embed.Block(f, mod, strings.TrimSuffix(text, "\n")))
			out.Files = append(out.Files, f)
		}
		var s strings.Builder
		s.WriteString("\n=== FILES REFERENCED IN THIS CONVERSATION ===\n")
		s.WriteString("Files shared earlier in this conversation, most recently referenced first. The turns below refer to them.\n")
		if out.FilesOmitted > 0 {
			fmt.Fprintf(&s, "[NOTE: %d file(s) left out: over the file budget, missing, or no longer readable.]\n", out.FilesOmitted)
		}
		s.WriteString(strings.Join(blocks, "\n"))
		s.WriteString("\n=== END REFERENCED FILES ===\n")
		fileSection = s.String()
	}
	b.WriteString(fileSection)

	// Newest turns first while they fit beside the file section.
	spent := Tokens(fileSection)
	var shown []string
	for i := len(th.Turns) - 1; i >= 0; i-- {
		text := renderTurn(i+1, th.Turns[i])
		if spent+Tokens(text) > a.History {
			break
		}
		spent += Tokens(text)
		shown = append(shown, text)
	}
	out.TurnsShown = len(shown)
	b.WriteString("\nPrevious conversation turns:\n")
	for i := len(shown) - 1; i >= 0; i-- {
		b.WriteString("\n" + shown[i])
	}
	if len(shown) < len(th.Turns) {
		fmt.Fprintf(&b, "\n[Note: Showing %d most recent turns out of %d total]\n", len(shown), len(th.Turns))
	}
	b.WriteString("\n=== END CONVERSATION HISTORY ===\n\n")
	fmt.Fprintf(&b, "Carry the conversation forward from here: build on what has already been said rather than repeating or summarising it, and answer the new input below. This is turn %d of the conversation.", len(th.Turns)+1)
	out.Text = b.String()
	out.Tokens = Tokens(out.Text)
	return out
}

// renderTurn formats one turn with its 1-based number.
func renderTurn(n int, t pal.Turn) string {
	who := "Agent"
	if t.Role == "assistant" {
		who = t.Model
		if who == "" {
			who = "Assistant"
		}
	}
	if t.Tool != "" {
		who += " using " + t.Tool
	}
	if t.Role == "assistant" && t.Provider != "" {
		who += " via " + t.Provider
	}
	var b strings.Builder
	fmt.Fprintf(&b, "--- Turn %d (%s) ---\n", n, who)
	if len(t.Files) > 0 {
		b.WriteString("Files used in this turn: " + strings.Join(t.Files, ", ") + "\n\n")
	}
	b.WriteString(t.Content)
	b.WriteString("\n")
	return b.String()
}
