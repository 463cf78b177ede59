// Package embed formats files for a model prompt: text normalisation, line numbers, the
// per-file block that names the path and modification time, the notes about files left
// out, and the token estimates that decide what fits a budget.
package embed

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Normalize turns file bytes into prompt text: invalid UTF-8 becomes U+FFFD and CRLF or
// lone CR line ends become LF.
func Normalize(b []byte) string {
	s := string(b)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.Contains(s, "\r") {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	return s
}

// LineNumbered prefixes every line with its 1-based number, right-aligned to the width of
// the largest number but at least 4 characters, and "│ " (U+2502, space). A final line end
// does not start a numbered empty line; empty text stays empty.
func LineNumbered(text string) string {
	if text == "" {
		return ""
	}
	text = strings.TrimSuffix(text, "\n")
	lines := strings.Count(text, "\n") + 1
	width := max(4, len(strconv.Itoa(lines)))
	const bar = "│ "
	// One pass with no per-line allocation: in wasm, fmt formatting each line cost more than
	// the rest of a chat call's guest work (docs/RATIONALE.md §57).
	b := make([]byte, 0, len(text)+lines*(width+len(bar)))
	var num [20]byte
	for n := 1; ; n++ {
		if n > 1 {
			b = append(b, '\n')
		}
		digits := strconv.AppendInt(num[:0], int64(n), 10)
		for range width - len(digits) {
			b = append(b, ' ')
		}
		b = append(b, digits...)
		b = append(b, bar...)
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

// Block wraps a file's (already formatted) text in begin and end markers naming the path
// and, when known, its modification time in UTC.
func Block(p string, modified time.Time, text string) string {
	stamp := ""
	if !modified.IsZero() {
		stamp = " (Last modified: " + modified.UTC().Format("2006-01-02 15:04:05") + " UTC)"
	}
	return "\n--- BEGIN FILE: " + p + stamp + " ---\n" + text + "\n--- END FILE: " + p + " ---\n"
}

// Tokens estimates the tokens of prompt text: one per 4 bytes.
func Tokens(s string) int { return len(s) / 4 }

// bytesPerToken are rough bytes-per-token ratios by extension; dense formats have fewer.
var bytesPerToken = map[string]float64{
	".json": 2.5, ".yaml": 3.0, ".yml": 3.0, ".xml": 3.0, ".csv": 3.1, ".toml": 3.0,
	".md": 4.2, ".txt": 4.0, ".rst": 4.1, ".html": 2.8, ".css": 3.0, ".log": 4.5,
	".py": 3.5, ".go": 3.3, ".js": 3.2, ".ts": 3.3, ".java": 3.6, ".c": 3.4, ".cpp": 3.4, ".rs": 3.4,
}

// FileTokens estimates the tokens of a file of size bytes from its extension (3.5 bytes
// per token when the extension is not known).
func FileTokens(p string, size int64) int {
	ratio, ok := bytesPerToken[strings.ToLower(path.Ext(p))]
	if !ok {
		ratio = 3.5
	}
	return int(float64(size) / ratio)
}

// codeExtensions are the extensions kept when a directory is expanded; files named
// explicitly are used whatever their extension.
var codeExtensions = map[string]bool{}

func init() {
	for _, e := range strings.Fields(`.py .js .ts .jsx .tsx .java .cpp .c .h .hpp .cs .go .rs .rb .php .swift .kt
		.scala .r .m .mm .sql .sh .bash .zsh .fish .ps1 .bat .cmd .yml .yaml .json .xml .toml .ini .cfg .conf
		.properties .env .txt .md .rst .tex .html .css .scss .sass .less`) {
		codeExtensions[e] = true
	}
}

// IsCodeFile reports whether a directory walk keeps the file: source, script, config,
// documentation and web files, by extension, case-insensitively.
func IsCodeFile(p string) bool { return codeExtensions[strings.ToLower(path.Ext(p))] }

// SkippedNote lists files left out for lack of room, the first ten by path.
func SkippedNote(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "--- SKIPPED FILES (TOKEN LIMIT) ---\nTotal skipped: %d\n", len(paths))
	for i, p := range paths {
		if i == 10 {
			fmt.Fprintf(&b, "  ... and %d more\n", len(paths)-10)
			break
		}
		b.WriteString("  - " + p + "\n")
	}
	b.WriteString("--- END SKIPPED FILES ---")
	return b.String()
}

// InHistoryNote lists requested files not embedded again because the conversation
// history already holds them.
func InHistoryNote(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("--- NOTE: Additional files referenced in conversation history ---\n")
	b.WriteString("These files are part of the conversation history above and are not repeated here:\n")
	for _, p := range paths {
		b.WriteString("  - " + p + "\n")
	}
	b.WriteString("--- END NOTE ---")
	return b.String()
}

// NoFilesNote says that the paths given held no usable files.
func NoFilesNote(paths []string) string {
	return "--- NO FILES FOUND ---\nProvided paths: " + strings.Join(paths, ", ") + "\n--- END ---"
}
